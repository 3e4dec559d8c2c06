"""A web app on a real SQLite store with one account per role."""

from __future__ import annotations

import re

import pytest

from hotline.infra.demo import DEMO_USERS, ensure_demo_users
from hotline.web import create_app

PASSWORDS = {username: password for username, password, *_ in DEMO_USERS}
SUBMISSION = re.compile(r'name="submission"[^>]*value="([0-9a-f]{32})"')


def call_form(page: str, description: str, **typed: str) -> dict[str, str]:
    """What an operator types into the call form shown as ``page`` (its own submission id kept)."""
    return {
        "channel": "phone",
        "category": "complaint",
        "urgency": "normal",
        "service_code": "noise",
        "district": "城东区",
        "caller_phone": "13900139000",
        "description": description,
        "submission": SUBMISSION.search(page).group(1),
        **typed,
    }


@pytest.fixture
def web_services(sqlite_services):
    ensure_demo_users(sqlite_services.app, sqlite_services.passwords)
    return sqlite_services


@pytest.fixture
def app(web_services):
    app = create_app(web_services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain HTTP
    return app


class Browser:
    """A test client that signs in and carries the CSRF token like a browser would."""

    def __init__(self, app):
        self.client = app.test_client()

    def token(self, path: str = "/login") -> str:
        page = self.client.get(path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)

    def login(self, username: str, password: str | None = None):
        token = self.token("/login")
        return self.client.post(
            "/login", data={"csrf_token": token, "username": username, "password": password or PASSWORDS[username]}
        )

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict, token_from: str | None = None, **kwargs):
        data = {"csrf_token": self.token(token_from or path), **data}
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def signed_in(app):
    def sign_in(username: str) -> Browser:
        browser = Browser(app)
        response = browser.login(username)
        assert response.status_code == 302, response.text
        return browser

    return sign_in
