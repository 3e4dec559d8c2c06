"""Helpers for the reliability tests: racing writers, a live ``hotline serve`` process that can be
killed, and a cookie-and-CSRF HTTP session speaking to it over a real socket."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hotline.infra.config import Config
from tests.support.live import free_port
from tests.support.paths import PROJECT_DIR

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class SaveGate:
    """Holds each thread's first ``save`` at a barrier, so that every contender has read the same
    version before any of them writes: the store, not luck, has to settle the race."""

    def __init__(self, apps, parties: int, method: str = "save"):
        """``method``: the application's ``save``, or ``insert_numbered`` of its recorder (where
        new cases are written, after the batch has looked up its call ids)."""
        self.barrier = threading.Barrier(parties, timeout=30)
        self._held = threading.local()
        self._originals = []
        self._method = method
        for app in apps:
            target = app if method == "save" else app.recorder
            original = getattr(target, method)
            self._originals.append((target, original))

            def gated(*aggregates, _original=original, **kwargs):
                if not getattr(self._held, "done", False):
                    self._held.done = True
                    self.barrier.wait()
                return _original(*aggregates, **kwargs)

            setattr(target, method, gated)

    def reset(self) -> None:
        self.barrier.reset()

    def new_round(self) -> None:
        self._held = threading.local()

    def close(self) -> None:
        for target, original in self._originals:
            setattr(target, self._method, original)


def race(functions) -> list[tuple[str, object]]:
    """Run the functions at once in threads; ("ok", result) or ("error", exception) for each."""
    outcomes: list[tuple[str, object] | None] = [None] * len(functions)

    def run(index, function):
        try:
            outcomes[index] = ("ok", function())
        except Exception as error:
            outcomes[index] = ("error", error)

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes  # type: ignore[return-value]


def server_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATA_DIR=str(config.data_dir), HOTLINE_COOKIE_SECURE="0")
    if config.database_url:
        env["HOTLINE_DATABASE_URL"] = config.database_url
    return env


class LiveServer:
    """``hotline serve`` (Flask's threaded server) in its own process, on a fixed port so that it can
    be killed and started again at the same address."""

    def __init__(self, config: Config, log_dir: Path):
        self.env = server_env(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> LiveServer:
        self.starts += 1
        with open(self.log_dir / f"server-{self.starts}.log", "wb") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hotline.entrypoints.cli", "serve", "--demo", "--port", str(self.port)],
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2)
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{self.log()}") from None
                time.sleep(0.1)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("server-*.log")))

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def live_server(tmp_path):
    """Factory: ``live_server(config)`` starts one; every one started is stopped afterwards."""
    started: list[LiveServer] = []

    def start(config: Config) -> LiveServer:
        directory = tmp_path / f"server{len(started)}"
        directory.mkdir()
        server = LiveServer(config, directory).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location") or ""


class HttpSession:
    """One browser's cookies over real HTTP; redirects are returned, not followed."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def request(self, method: str, path: str, data: dict | None = None, timeout: float = 30) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read())

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def token(self, path: str) -> str:
        return CSRF.search(self.get(path).text).group(1)

    def post(self, path: str, data: dict, token_from: str | None = None, token: str | None = None) -> Response:
        return self.request("POST", path, {"csrf_token": token or self.token(token_from or path), **data})

    def login(self, username: str, password: str) -> HttpSession:
        answer = self.post("/login", {"username": username, "password": password})
        assert answer.status == 302, answer.text[-500:]
        return self
