"""Pages: p50 and p95 over HTTP of the department inbox, the deadline queue and the 督办台账 at 1M
events and 200k cases (PostgreSQL).

A real server process (gunicorn, two workers, loopback only) serves the generated data set; a
client signs in through the login form (demo accounts) and requests the pages one at a time,
round robin, over keep-alive connections, each a bounded number of times after a few warm-up
requests. The baseline, in the same run from the same server, is the login page: HTTP, Flask,
sessions and a template, but no read model.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from urllib.parse import urlencode

from bench.dataset import DataSet, generate_dataset, temporary_dataset
from bench.harness import PG_URL, Progress, Result, median, no_progress, percentile, target

GOAL_MS = 50.0
SIZES = {  # events, cases, requests per page, gunicorn workers
    "full": (1_000_000, 200_000, 200, 2),
    "quick": (100_000, 20_000, 60, 2),
    "smoke": (1_500, 300, 8, 1),
}
WARM_UP = 5
# page: (account, password, path)
PAGES = {
    "department_inbox": ("hbj", "hotline-department", "/department"),
    "deadline_queue": ("supervisor", "hotline-supervisor", "/supervisor/deadlines"),
    "supervision_ledger": ("supervisor", "hotline-supervisor", "/supervisor/ledger"),
}
BASELINE = ("supervisor", "hotline-supervisor", "/login")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving ``entrypoints.wsgi:app`` on the data set, 127.0.0.1 only."""

    def __init__(self, dataset: DataSet, workers: int):
        self.port = free_port()
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": dataset.url,
            "HOTLINE_DATA_DIR": str(dataset.data_dir),
            "HOTLINE_COOKIE_SECURE": "0",
            "HOTLINE_DEMO": "1",  # the data set signs in with the demo accounts (the WSGI app refuses them otherwise)
        }
        env.pop("HOTLINE_KAFKA_BOOTSTRAP", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
                "entrypoints.wsgi:app",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start listening within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Client:
    """One signed-in user over one keep-alive connection."""

    def __init__(self, port: int, username: str, password: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        status, body = self.request("GET", "/login")
        token = CSRF.search(body)
        if status != 200 or not token:
            raise RuntimeError(f"login page: HTTP {status}")
        status, _ = self.request(
            "POST", "/login", {"csrf_token": token.group(1), "username": username, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {username} failed: HTTP {status}")
        self.username = username

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, content

    def timed(self, path: str) -> float:
        """Milliseconds for one GET, the whole body read; anything but 200 is an error."""
        began = time.perf_counter()
        status, _ = self.request("GET", path)
        elapsed = (time.perf_counter() - began) * 1000
        if status != 200:
            raise RuntimeError(f"GET {path} as {self.username}: HTTP {status}")
        return elapsed

    def close(self) -> None:
        self.connection.close()


def page_clients(server: Server, stack: ExitStack) -> dict[str, tuple[Client, str]]:
    """Each measured page with a client signed in as its account, and the baseline (the login page)
    with a client that has no session; every client closed when ``stack`` closes."""
    clients: dict[str, Client] = {}
    for account, password, _ in (*PAGES.values(), BASELINE):
        if account not in clients:
            clients[account] = Client(server.port, account, password)
            stack.callback(clients[account].close)
    anonymous = Client.__new__(Client)  # the baseline page is the login page: no session needed
    anonymous.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    anonymous.cookies, anonymous.username = {}, "anonymous"
    stack.callback(anonymous.close)
    targets = {name: (clients[account], path) for name, (account, _, path) in PAGES.items()}
    targets["baseline_login_page"] = (anonymous, BASELINE[2])
    return targets


def prepare(dataset: DataSet) -> None:
    """Bring the read models up to date before serving (not timed: the catch-up benchmark's job)."""
    from hotline.infra.bootstrap import bootstrap

    services = bootstrap(dataset.config())
    try:
        services.read_models.catch_up()
    finally:
        services.close()


def run(size: str = "full", progress: Progress = no_progress, url: str = PG_URL) -> Result:
    events, cases, requests, workers = SIZES[size]
    result = Result("pages", quick=size != "full")
    with ExitStack() as stack:
        dataset = (
            stack.enter_context(temporary_dataset(events, cases, url=url))
            if size == "smoke"
            else generate_dataset(events, cases, url=url)
        )
        prepare(dataset)
        server = Server(dataset, workers)
        stack.callback(server.stop)
        targets = page_clients(server, stack)
        samples: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(WARM_UP):
            for client, path in targets.values():
                client.timed(path)
        for _ in range(requests):
            for name, (client, path) in targets.items():
                samples[name].append(client.timed(path))
            progress(1)
    result.parameters = {
        "store": "postgresql",
        "events": dataset.events,
        "cases": dataset.cases,
        "requests_per_page": requests,
        "warm_up": WARM_UP,
        "server": f"gunicorn, {workers} workers",
        "client": "one request at a time, keep-alive, round robin over the pages",
        "pages": {name: f"{account} {path}" for name, (account, _, path) in PAGES.items()},
    }

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "p50_ms": round(median(values), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "max_ms": round(max(values), 2),
            "requests": len(values),
        }

    for name, values in samples.items():
        if name.startswith("baseline"):
            result.baseline[name] = summary(values)
        else:
            result.figures[name] = summary(values)
            result.targets.append(
                target(
                    f"{name} p95 over HTTP at {dataset.events} events, {dataset.cases} cases",
                    percentile(values, 0.95),
                    "ms",
                    GOAL_MS,
                    at_most=True,
                )
            )
    return result
