"""What every response carries, and which proxies may say who the client is.

Headers: a Content-Security-Policy that allows scripts and styles only from this site (no inline
script, no framing by another site), nosniff, Referrer-Policy same-origin, no-store on every page
(pages show callers' names, numbers and words: no browser or proxy cache keeps them), and a
Server header that names no version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import ip_address, ip_network
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",  # bar widths on the ranking page; no style elements, no script
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SERVER_NAME = "hotline"


def add_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        headers["Server"] = SERVER_NAME
        return response


class TrustedProxies:
    """WSGI middleware: X-Forwarded-For and X-Forwarded-Proto count only when the request comes from
    one of ``proxies`` (addresses or networks, HOTLINE_TRUSTED_PROXIES); from anyone else they are
    ignored, so a client cannot choose the address its sign-in failures are counted under."""

    def __init__(self, wsgi_app: Callable[..., Any], proxies: Iterable[str]):
        self.wsgi_app = wsgi_app
        self.networks = [ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip()]
        self.forwarded = ProxyFix(wsgi_app, x_for=1, x_proto=1)

    def trusted(self, address: str | None) -> bool:
        try:
            peer = ip_address(address or "")
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.trusted(environ.get("REMOTE_ADDR")):
            return self.forwarded(environ, start_response)
        for name in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST"):
            environ.pop(name, None)
        return self.wsgi_app(environ, start_response)
