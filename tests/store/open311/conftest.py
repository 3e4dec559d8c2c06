"""A live Open311 server on a free port (both stores, through the ``services`` fixture) and a key."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from werkzeug.serving import make_server

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.web import create_app


@pytest.fixture
def open311_app(services):
    return create_app(services)


@pytest.fixture
def live_root(open311_app):
    """The API's root URL on a real HTTP server in a thread."""
    server = make_server("127.0.0.1", 0, open311_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def api_key(services):
    return services.app.issue_api_key("市民通 App", SYSTEM_ACTOR).key


def http(method: str, url: str, form: dict | list | None = None, headers: dict | None = None):
    """(status, content type, body text) of one plain HTTP request; errors are answers too."""
    data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode("utf-8")
