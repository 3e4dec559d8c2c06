"""Access to the built services from inside a request."""

from __future__ import annotations

from flask import current_app

from domain.application import HotlineApplication
from domain.rules import Rules
from infra.bootstrap import Services


def services() -> Services:
    return current_app.extensions["hotline"]


def hotline() -> HotlineApplication:
    return services().app


def rules() -> Rules:
    return services().rules


def read_models():
    return services().read_models
