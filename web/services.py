"""What the web app receives, and access to it from inside a request.

``create_app`` is given the services already built (the composition root builds them); the web
only names what it uses, so it imports no adapter and no configuration.
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app

from hotline.application import Clock, HotlineApplication
from hotline.domain.actors import Actor
from hotline.domain.month import MonthClose
from hotline.domain.rules import Rules
from hotline.projections.read_models import ReadModels
from hotline.web.limits import LimitStore


class PasswordCheck(Protocol):
    def verify(self, password_hash: str | None, password: str) -> bool: ...


class WebServices(Protocol):
    @property
    def app(self) -> HotlineApplication: ...
    @property
    def rules(self) -> Rules: ...
    @property
    def read_models(self) -> ReadModels: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def passwords(self) -> PasswordCheck: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def cookie_secure(self) -> bool: ...
    @property
    def trusted_proxies(self) -> tuple[str, ...]: ...
    @property
    def limit_store(self) -> LimitStore | None: ...
    def close_month(self, month: str, actor: Actor) -> MonthClose: ...
    def integrity_problem(self) -> str | None: ...


def services() -> WebServices:
    built: WebServices = current_app.extensions["hotline"]
    return built


def hotline() -> HotlineApplication:
    return services().app


def rules() -> Rules:
    return services().rules


def read_models() -> ReadModels:
    return services().read_models


def clock() -> Clock:
    return services().clock
