"""When the store stays busy for longer than a request retries (a lock held elsewhere, PostgreSQL's
lock timeout), the answer is 503 with Retry-After and a Chinese message, never a 4xx, and nothing
the operator typed is lost; once the store is free the same submission is logged, once."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
from werkzeug.serving import make_server

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import ensure_demo_users
from hotline.web import create_app
from tests.conftest import _libpq
from tests.store.open311.conftest import http
from tests.store.open311.test_post_requests import NOISE
from tests.store.web.conftest import Browser, call_form

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DESCRIPTION = "小区门口夜间施工，凌晨两点仍在打桩，噪音很大"


@pytest.fixture
def busy_services(pg_schema, tmp_path):
    services = bootstrap(Config(database_url=pg_schema, data_dir=tmp_path, extra_env={"POSTGRES_LOCK_TIMEOUT": "1"}))
    ensure_demo_users(services.app, services.passwords)
    yield services
    services.close()


class Held:
    """Another session holding the ticket counters' table (every new case waits for it), or with
    ``events=True`` the events table (every write waits)."""

    def __init__(self, services, events: bool = False):
        recorder = services.app.recorder
        name = recorder.events_table_name if events else f"{recorder.events_table_name}_tickets"
        self.table = f'"{recorder.datastore.schema}"."{name}"'
        self.url = _libpq(services.config.database_url)

    def __enter__(self):
        self.conn = psycopg.connect(self.url)
        self.conn.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
        return self

    def __exit__(self, *_):
        self.conn.rollback()
        self.conn.close()


def test_a_busy_store_answers_503_and_the_call_form_keeps_what_was_typed(busy_services):
    app = create_app(busy_services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False
    browser = Browser(app)
    browser.login("operator")
    typed = call_form(browser.get("/calls/new").text, DESCRIPTION, caller_name="钱七", address="解放路 8 号")
    submission = typed["submission"]
    with Held(busy_services):
        answer = browser.post("/calls/new", typed, token_from="/calls/new")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert "系统繁忙，请稍后重试" in answer.text and "内容已保留" in answer.text
    for value in (DESCRIPTION, "钱七", "13900139000", "解放路 8 号", submission):
        assert value in answer.text
    assert list(busy_services.app.case_ids()) == []

    # The store is free again: the form as it came back is sent once more, and a double click too.
    again = [browser.post("/calls/new", typed, token_from="/calls/new") for _ in range(2)]
    assert [a.status_code for a in again] == [302, 302] and again[0].location == again[1].location
    cases = [busy_services.app.repository.get(i) for i in busy_services.app.case_ids()]
    assert [c.description for c in cases] == [DESCRIPTION]


def test_a_busy_store_answers_open311_with_503_and_retry_after(busy_services):
    key = busy_services.app.issue_api_key("市民通 App", SYSTEM_ACTOR).key
    server = make_server("127.0.0.1", 0, create_app(busy_services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/open311/v2/requests.json"
    form = {"api_key": key, **NOISE}
    try:
        with Held(busy_services):
            status, _, body = http("POST", url, form, {"Idempotency-Key": "k-1"})
        assert status == 503, body
        assert json.loads(body) == [{"code": 503, "description": "系统繁忙，请在 2 秒后重新提交"}]
        status, _, body = http("POST", url, form, {"Idempotency-Key": "k-1"})
        assert status == 200, body
    finally:
        server.shutdown()
    assert len(list(busy_services.app.case_ids())) == 1


def test_an_action_on_a_busy_case_answers_503_and_shows_what_was_typed(busy_services):
    app = create_app(busy_services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False
    browser = Browser(app)
    browser.login("operator")
    typed = call_form(browser.get("/calls/new").text, DESCRIPTION)
    page = browser.post("/calls/new", typed, token_from="/calls/new").location
    version = str(busy_services.app.get_case(page.rsplit("/", 1)[1]).version)
    answer = "已告知来电人：施工许可至晚十点，超时施工可拨打 12345 转城管执法。"
    with Held(busy_services, events=True):
        busy = browser.post(f"{page}/answer", {"answer-version": version, "answer-answer": answer}, token_from=page)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    assert "系统繁忙" in busy.text and "您填写的内容已保留" in busy.text and answer in busy.text
    assert f'action="{page}/answer"' in busy.text  # ready to be sent again as it is
    done = browser.post(f"{page}/answer", {"answer-version": version, "answer-answer": answer}, token_from=page)
    assert done.status_code == 302
    assert busy_services.app.get_case(page.rsplit("/", 1)[1]).status == "answered"
