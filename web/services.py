"""What the web app receives, and access to it from inside a request.

``create_app`` is given the services already built (the composition root builds them); the web
only names what it uses, so it imports no adapter and no configuration.
"""

from __future__ import annotations

from typing import Protocol

from flask import Flask, Response, current_app, g, session

from hotline.application import Clock, HotlineApplication
from hotline.domain.actors import Actor
from hotline.domain.month import MonthClose
from hotline.domain.rules import Rules
from hotline.projections.read_models import ReadModels
from hotline.web.limits import LimitStore


class PasswordCheck(Protocol):
    def verify(self, password_hash: str | None, password: str) -> bool: ...

    def ready(self) -> None:
        """Whatever a check needs made before the first sign-in (done when the app is created)."""
        ...

    def hash(self, password: str) -> str:
        """The hash to store; a weak password raises ValueError with the reason in Chinese."""
        ...


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
    def sms_callback_secret(self) -> str | None:
        """The key the SMS gateway signs callers' replies with (None: replies are not taken)."""
        ...

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


WRITTEN_UP_TO = "written_up_to"  # the session's key: the notification id of the user's last write


def fresh_read_models() -> ReadModels:
    """The read models, fresh enough for this page: caught up here when nothing else keeps them
    up to date, else (a runner follows the log) as they are, once they include the user's own
    last write (a bounded wait). How fresh they were goes to the page (``g.freshness``)."""
    models = read_models()
    g.freshness = models.fresh_for(session.get(WRITTEN_UP_TO))
    return models


def remember_own_writes(app: Flask) -> None:
    """After a request that wrote, its last notification id goes into the session."""

    @app.before_request
    def forget() -> None:
        hotline().forget_written()

    @app.after_request
    def remember(response: Response) -> Response:
        # Only signed-in browser sessions, and only while a runner keeps the views up to date
        # (otherwise every page catches up itself): API clients get no cookie from it.
        written = hotline().written()
        followed = written is not None and read_models().is_followed() and "_user_id" in session
        if followed and written > session.get(WRITTEN_UP_TO, 0):
            session[WRITTEN_UP_TO] = written
        return response


def clock() -> Clock:
    return services().clock
