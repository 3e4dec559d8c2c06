"""Two `hotline serve` processes on one PostgreSQL store take several hundred Open311 POSTs and
operator call forms at once (issue 18): every request is answered with success (200 for Open311,
the redirect to the new case for a form), never "系统繁忙" nor a 4xx, each submission is stored
exactly once, and the day's ticket numbers run 1..N without a gap."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DEMO_USERS, ensure_demo_users
from tests.store.open311.test_post_requests import NOISE
from tests.store.web.conftest import call_form
from tests.support.servers import HttpSession, LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

OPEN311_POSTS = 300
FORMS = 100
THREADS = 24
PASSWORDS = {username: password for username, password, *_ in DEMO_USERS}


@pytest.fixture
def two_servers(pg_schema, tmp_path):
    services = bootstrap(Config(database_url=pg_schema, data_dir=tmp_path))
    ensure_demo_users(services.app, services.passwords)
    # Ten client apps: each key may post 30 at once to each process (its rate limit, docs/open311.md).
    keys = [services.app.issue_api_key(f"市民通 App {n}", SYSTEM_ACTOR).key for n in range(10)]
    servers = []
    try:
        for n in range(2):
            (tmp_path / f"server{n}").mkdir()
            servers.append(LiveServer(services.config, tmp_path / f"server{n}").start())
        yield services, keys, [s.url for s in servers]
    finally:
        for server in servers:
            server.stop()
        services.close()


def test_two_web_processes_store_every_concurrent_submission_once(two_servers):
    services, keys, urls = two_servers
    local = threading.local()

    def session(url: str) -> HttpSession:
        sessions = local.__dict__.setdefault("sessions", {})
        if url not in sessions:
            sessions[url] = HttpSession(url).login("operator", PASSWORDS["operator"])
        return sessions[url]

    def open311(n: int) -> tuple[str, int, str]:
        url = urls[n % 2]
        description = f"第{n}号 Open311 诉求：{NOISE['description']}"
        form = {**NOISE, "api_key": keys[n // 2 % len(keys)], "description": description}
        answer = HttpSession(url).request("POST", "/open311/v2/requests.json", form)
        return "open311", answer.status, answer.text

    def operator_form(n: int) -> tuple[str, int, str]:
        browser = session(urls[n % 2])
        page = browser.get("/calls/new").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = call_form(page, f"第{n}号来电：夜间施工噪音扰民")
        answer = browser.post("/calls/new", form, token=token)
        return "form", answer.status, answer.location

    work = [lambda n=n: open311(n) for n in range(OPEN311_POSTS)] + [lambda n=n: operator_form(n) for n in range(FORMS)]
    work = [work[i] for i in sorted(range(len(work)), key=lambda i: (i * 7919) % len(work))]  # interleaved
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda job: job(), work))

    statuses = Counter((kind, status) for kind, status, _ in answers)
    assert statuses == {("open311", 200): OPEN311_POSTS, ("form", 302): FORMS}, statuses
    tickets = [json.loads(text)[0]["service_request_id"] for kind, _, text in answers if kind == "open311"]
    tickets += [location.rsplit("/", 1)[1] for kind, _, location in answers if kind == "form"]
    assert len(set(tickets)) == OPEN311_POSTS + FORMS  # every answer names its own case

    app = services.app
    cases = list(app.all_cases())
    descriptions = Counter(case.description.split("：", 1)[0] for case in cases)
    expected = [f"第{n}号 Open311 诉求" for n in range(OPEN311_POSTS)] + [f"第{n}号来电" for n in range(FORMS)]
    assert descriptions == Counter(expected)  # each submission stored exactly once
    assert sorted(case.ticket_no for case in cases) == sorted(tickets)
    day = tickets[0][:8]
    assert sorted(int(t[-6:]) for t in tickets if t.startswith(day)) == list(range(1, len(tickets) + 1))
