"""What every page carries (CSP, no framing, nosniff, referrer, no-store, no version), which
proxies may name the client's address, and the files the store leaves on disk."""

from __future__ import annotations

import re
import stat

import pytest

from hotline.domain.actors import SYSTEM_ACTOR as SYSTEM
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config, ConfigError
from hotline.web import create_app
from hotline.web.security import TrustedProxies


def test_pages_carry_the_security_headers(signed_in):
    operator = signed_in("operator")
    response = operator.get("/operator")
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"  # the console shows callers' names and numbers
    assert headers["Server"] == "hotline"
    assert "<script>" not in response.text  # no inline script: the call form's script is a file
    assert '<script src="/static/call_form.js">' in response.text


def test_static_files_may_be_cached_but_not_sniffed(browser):
    response = browser.get("/static/hotline.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_holds_an_inline_script():
    from tests.support.paths import PROJECT_DIR

    for template in (PROJECT_DIR / "web" / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and " onclick=" not in text and " onload=" not in text, template


def _seen_address(proxies, environ):
    seen = []

    def wsgi(environ, start_response):
        seen.append((environ["REMOTE_ADDR"], environ.get("wsgi.url_scheme")))
        start_response("200 OK", [])
        return [b""]

    TrustedProxies(wsgi, proxies)(environ, lambda *a: None)
    return seen[0]


FORWARDED = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "http"}


def test_forwarded_for_counts_only_from_a_configured_proxy():
    proxies = ("10.0.0.0/24",)
    assert _seen_address(proxies, {"REMOTE_ADDR": "10.0.0.5", **FORWARDED}) == ("203.0.113.9", "https")
    # Anyone else naming an address in the header is ignored: failures count against the real peer.
    assert _seen_address(proxies, {"REMOTE_ADDR": "198.51.100.7", **FORWARDED}) == ("198.51.100.7", "http")
    assert _seen_address((), {"REMOTE_ADDR": "10.0.0.5", **FORWARDED}) == ("10.0.0.5", "http")


def test_a_malformed_proxy_list_stops_start_up_with_a_message():
    with pytest.raises(ConfigError, match="HOTLINE_TRUSTED_PROXIES"):
        Config.from_env({"HOTLINE_TRUSTED_PROXIES": "10.0.0.1, proxy.example"})
    assert Config.from_env({"HOTLINE_TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12"}).trusted_proxies == (
        "10.0.0.1",
        "172.16.0.0/12",
    )


def test_sign_in_failures_count_against_the_address_the_proxy_names(tmp_path):
    services = bootstrap(Config(data_dir=tmp_path, trusted_proxies=("127.0.0.1",)))
    try:
        app = create_app(services, testing=True)
        now = [0.0]
        app.extensions["hotline_sign_in"].now = lambda: now[0]
        client = app.test_client()  # its requests come from 127.0.0.1, the configured proxy
        for n in range(100):
            page = client.get("/login", headers={"X-Forwarded-For": f"203.0.113.{n % 2}"})
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
            client.post(
                "/login",
                data={"csrf_token": token, "username": f"nobody{n}", "password": "a-wrong-password"},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
        page = client.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        stopped = {"csrf_token": token, "username": "someone", "password": "a-wrong-password"}
        assert client.post("/login", data=stopped, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
        # Another client behind the same proxy is not stopped by the first one's failures.
        assert client.post("/login", data=stopped, headers={"X-Forwarded-For": "203.0.113.10"}).status_code == 401
    finally:
        services.close()


def test_store_and_key_files_are_owner_only(tmp_path):
    data = tmp_path / "var"
    services = bootstrap(Config(data_dir=data))
    try:
        services.app.register_user("probe", "operator", services.passwords.hash("a-long-enough-pass"), SYSTEM)
        services.read_models.catch_up()
        # While the store is open, so that the WAL files are there too.
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir() if p.is_file()}
    finally:
        services.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"hotline.sqlite3", "views.sqlite3", "cipher.key", "caller-hash.key", "hotline.sqlite3-wal"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)


def test_an_existing_store_made_readable_by_others_is_tightened(tmp_path):
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    (data / "hotline.sqlite3").touch(mode=0o644)
    bootstrap(Config(data_dir=data)).close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "hotline.sqlite3").stat().st_mode) == 0o600
