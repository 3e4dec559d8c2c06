"""Text that cannot break the store, on both stores: a NUL byte, another control character or a
bidirectional override is refused with a clear message on every channel (the operator's form,
Open311, Kafka, the command line), and text that got in before the check (written here as the
earlier code wrote it) leaves every page, the read models' rebuild and the Excel export working."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from hotline.application import clocked
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main as cli
from hotline.infra.demo import ensure_demo_users
from hotline.intake.bus import BusRecord
from hotline.intake.handlers import Intake
from hotline.intake.messages import CALLS, REPLIES, encode
from hotline.web import create_app
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department
from tests.store.open311.conftest import api_key, http, live_root, open311_app  # noqa: F401 - fixtures
from tests.store.web.conftest import Browser
from tests.support.department_keys import department_key

T0 = datetime(2026, 10, 12, 9, 30, tzinfo=CHINA_TZ)
BAD = {"NUL": "\x00", "垂直制表符": "\x0b", "双向文字控制符": "\u202e"}


@pytest.fixture
def web(services):
    ensure_demo_users(services.app, services.passwords)
    app = create_app(services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False

    def sign_in(username: str) -> Browser:
        browser = Browser(app)
        assert browser.login(username).status_code == 302
        return browser

    return sign_in


@pytest.mark.parametrize("name", BAD)
def test_the_operators_form_refuses_it_and_keeps_what_was_typed(web, services, name):
    operator = web("operator")
    typed = f"楼下酒吧{BAD[name]}深夜音乐声音过大"
    form = {
        "channel": "phone",
        "caller_phone": "13800138000",
        "category": "complaint",
        "urgency": "normal",
        "service_code": "noise",
        "district": "城东区",
        "description": typed,
    }
    page = operator.post("/calls/new", form, token_from="/operator")
    assert page.status_code in (200, 400)
    assert "诉求内容第 5 个字是不可见的" in page.text and name.split()[0][:2] in page.text
    assert "深夜音乐声音过大" in page.text  # the rest of what was typed is still on the form
    assert list(services.app.case_ids()) == []


def test_open311_refuses_a_nul_byte_with_a_clear_answer(live_root, api_key, services):  # noqa: F811
    form = {"api_key": api_key, "service_code": "other", "description": "咨询\x00问题", "address_string": "解放路"}
    status, _, body = http("POST", f"{live_root}/requests.json", form)
    assert status == 400
    assert "不可见的空字符 NUL" in json.loads(body)[0]["description"]
    assert list(services.app.case_ids()) == []
    assert http("GET", f"{live_root}/requests.json")[0] == 200


def test_kafka_messages_with_control_characters_are_dead_letters(services):
    clocked(services.app, T0)
    call = {
        "schema": "hotline.call/1",
        "call_id": "cc-1",
        "received_at": T0.isoformat(),
        "channel": "phone",
        "caller": {"name": "王芳", "phone": "13912345678"},
        "category": "complaint",
        "service_code": "street_vending",
        "address": "城东区解放路12号",
        "description": "学校门口\x00流动摊贩",
        "urgency": "normal",
    }
    ticket = services.app.open_cases([(street_vending("cc-2"), T0)], SYSTEM_ACTOR)[0].ticket_no
    clocked(services.app, T0 + timedelta(hours=1))
    services.app.sign(ticket, department("CDQ"))
    clocked(services.app, T0 + timedelta(hours=2))
    reply = {
        "schema": "hotline.reply/1",
        "action_id": "r-1",
        "ticket_no": ticket,
        "action": "reply",
        "department": "CDQ",
        "at": (T0 + timedelta(minutes=90)).isoformat(),
        "result": "已清理\x0b占道摊贩",
        "resolved": True,
    }
    outcome = Intake(services.app).handle(
        [
            BusRecord(CALLS, 0, 0, None, json.dumps(call).encode()),
            BusRecord(REPLIES, 0, 1, ticket.encode(), encode(reply), department_key(services.app, "CDQ")),
        ]
    )
    reasons = [letter.reason for letter in outcome.dead_letters]
    assert outcome.created == 0 and outcome.applied == 0 and len(reasons) == 2
    assert "空字符 NUL" in reasons[0] and "办理结果第 4 个字是不可见的垂直制表符" in reasons[1]


def test_the_command_line_refuses_a_display_name_with_a_control_character(services, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(services.config.data_dir))
    if services.config.database_url:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", services.config.database_url)
    result = CliRunner().invoke(
        cli,
        ["users", "add", "--username", "zhao", "--role", "operator", "--name", "赵\x1b[31m六", "--password-stdin"],
        input="a-long-password-1\n",
    )
    assert result.exit_code != 0 and "不可见的转义符 ESC" in result.output
    assert services.app.get_user("zhao") is None


def street_vending(call_id: str, description: str = "学校门口流动摊贩占道经营") -> Call:
    return Call(
        channel="phone",
        category="complaint",
        service_code="street_vending",
        description=description,
        district="城东区",
        call_id=call_id,
    )


def test_text_stored_before_the_check_breaks_no_page_rebuild_or_export(web, services, monkeypatch):
    app = services.app
    with monkeypatch.context() as before:  # the code before the check stored whatever came in
        before.setattr("hotline.domain.text.FORBIDDEN", re.compile("(?!)"))
        ticket = (
            clocked(app, T0).open_case(street_vending("old-1", "学校门口\x00流动\u202e摊贩"), OPERATOR_ACTOR).ticket_no
        )
        reference = "督〔2026〕13号"
        app.register_instruction(
            reference,
            SUPERVISOR_ACTOR,
            leader="李市长",
            content="整治占道经营",
            lead_department="CGJ",
            due=(T0 + timedelta(days=30)).date(),
        )
        clocked(app, T0 + timedelta(hours=2)).report_progress(reference, department("CGJ"), "已约谈\x0b商户\x00")
    models = services.read_models
    models.catch_up()
    models.rebuild()
    assert "\x00" not in json.dumps([row.__dict__ for row in models.ledger(month="2026-10", limit=10)[0]], default=str)

    supervisor, operator = web("supervisor"), web("operator")
    for browser, path in (
        (operator, f"/cases/{ticket}"),
        (operator, "/cases?q=摊贩"),
        (operator, "/cases?q=%00"),
        (supervisor, f"/audit/cases/{ticket}"),
        (supervisor, "/supervisor/ledger"),
        (supervisor, "/supervisor/deadlines"),
        (supervisor, "/supervisor/ranking"),
        (supervisor, f"/supervision/items/{reference}"),
    ):
        assert browser.get(path).status_code == 200, path
    export = supervisor.get("/supervisor/ledger.xlsx?month=2026-10")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    cases = operator.get("/cases/export.xlsx")
    assert cases.status_code == 200 and cases.data[:2] == b"PK"
