"""A caller answers the satisfaction SMS (满意度回访短信): the gateway passes the reply on, signed,
and it is recorded on the case once, on both stores; unsigned, stale, foreign or unknown replies are
refused with a Chinese reason and record nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.application import SimulatedClock
from hotline.domain.case import Call, Case
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.demo import ensure_demo_users
from hotline.infra.notify import FileSink, Notifier
from hotline.web import create_app
from hotline.web.views.sms_replies import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from tests.conftest import OPERATOR_ACTOR, department, make_config
from tests.store.web.conftest import Browser

SECRET = "gateway-shared-secret-for-tests"
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=CHINA_TZ)
PHONE = "13912345678"
CALL = Call(
    channel="phone",
    category="complaint",
    service_code="noise",
    description="楼下商铺每晚播放音乐到十二点",
    caller_name="王芳",
    caller_phone=PHONE,
)


@pytest.fixture
def replied(store, tmp_path, request):
    """A case answered by its department, and the satisfaction SMS sent to the caller."""
    clock = SimulatedClock(NOON)
    services = bootstrap(replace(make_config(store, tmp_path, request), sms_callback_secret=SECRET), clock=clock)
    outbox = FileSink(tmp_path / "outbox")
    notifier = Notifier(services.app, services.read_models, {"sms": outbox, "email": outbox})
    ticket = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
    services.app.sign(ticket, department("HBJ"))
    services.app.reply(ticket, department("HBJ"), "已责令商铺晚十点后停止外放音乐", True)
    clock.advance(timedelta(minutes=5))
    notifier.run_once()
    services.read_models.catch_up()
    rows, _ = services.read_models.notifications.listed(clock.now(), status="sent", limit=50)
    keys = {row.template: row.key for row in rows if row.channel == "sms" and row.recipient == "caller"}
    services.receipt_key = keys["receipt"]  # for the test that answers the wrong message
    yield services, clock, ticket, keys["satisfaction_request"]
    services.close()


def post(client, clock, body: dict | bytes, secret: str = SECRET, at: datetime | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int((at or clock.now()).timestamp()))
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, raw)}
    return client.post("/sms/replies", data=raw, headers=headers, content_type="application/json")


def sms_events(services, ticket):
    case_id = services.app.get_case(ticket).id
    return [e for e in services.app.repository.event_store.get(case_id) if isinstance(e, Case.SmsReplied)]


def test_the_callers_reply_is_recorded_once_as_their_evaluation(replied):
    services, clock, ticket, key = replied
    client = create_app(services, testing=True).test_client()
    reply = {"reply_id": "gw-in-1", "in_reply_to": key, "from": f"+86 {PHONE}", "text": " ２。"}

    first = post(client, clock, reply)
    assert first.status_code == 200
    assert first.json == {"recorded": True, "repeat": False, "ticket_no": ticket, "satisfaction": "基本满意"}
    again = post(client, clock, reply)  # the gateway delivers it again
    assert again.status_code == 200 and again.json["repeat"] is True and again.json["satisfaction"] == "基本满意"

    (recorded,) = sms_events(services, ticket)
    assert (recorded.answer, recorded.satisfaction, recorded.actor_role) == ("2", "basically_satisfied", "system")
    case = services.app.get_case(ticket)
    assert case.sms_satisfaction == "basically_satisfied"
    assert case.status == "replied"  # the callback still asks its three questions

    ensure_demo_users(services.app, services.passwords)
    app = create_app(services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False
    operator = Browser(app)
    assert operator.login("operator").status_code == 302
    page = operator.get(f"/cases/{ticket}").text
    assert "来电人短信评价：基本满意" in page  # on the case, beside the callback form
    assert "来电人短信回复" in page and "（回复“2”）" in page  # and in the timeline


def test_a_reply_that_is_no_answer_is_noted_without_its_text_and_a_late_one_does_not_count(replied):
    services, clock, ticket, key = replied
    client = create_app(services, testing=True).test_client()
    words = post(
        client, clock, {"reply_id": "gw-in-2", "in_reply_to": key, "from": PHONE, "text": "我是王芳，还是很吵"}
    )
    assert words.status_code == 200 and words.json["recorded"] is True and words.json["satisfaction"] is None
    clock.advance(timedelta(hours=services.rules.notifications.sms_reply.window_hours + 1))
    late = post(client, clock, {"reply_id": "gw-in-3", "in_reply_to": key, "from": PHONE, "text": "3"})
    assert late.status_code == 200 and late.json["satisfaction"] is None
    assert [(e.answer, e.satisfaction) for e in sms_events(services, ticket)] == [("", None), ("3", None)]
    assert services.app.get_case(ticket).sms_satisfaction is None
    stored = json.dumps([e.__dict__ for e in sms_events(services, ticket)], default=str, ensure_ascii=False)
    assert "王芳" not in stored and "很吵" not in stored  # 最小必要: a free text is not kept


def test_unsigned_stale_foreign_and_unknown_replies_are_refused_and_record_nothing(replied):
    services, clock, ticket, key = replied
    client = create_app(services, testing=True).test_client()
    good = {"reply_id": "gw-in-9", "in_reply_to": key, "from": PHONE, "text": "1"}
    tolerance = services.rules.notifications.sms_reply.signature_tolerance_seconds
    refusals = {
        "wrong key": post(client, clock, good, secret="someone-else"),
        "stale": post(client, clock, good, at=clock.now() - timedelta(seconds=tolerance + 5)),
        "another number": post(client, clock, {**good, "from": "13800000000"}),
        "unknown message": post(client, clock, {**good, "in_reply_to": "no-such-message"}),
        "a receipt, not a request": post(client, clock, {**good, "in_reply_to": services.receipt_key}),
        "not json": post(client, clock, b"reply=1"),
        "missing field": post(client, clock, {"reply_id": "gw-in-9", "in_reply_to": key}),
    }
    assert {name: r.status_code for name, r in refusals.items()} == {
        "wrong key": 401,
        "stale": 401,
        "another number": 403,
        "unknown message": 404,
        "a receipt, not a request": 404,
        "not json": 400,
        "missing field": 400,
    }
    assert all(r.json["recorded"] is False and r.json["error"] for r in refusals.values())
    assert "签名" in refusals["wrong key"].json["error"] and "号码" in refusals["another number"].json["error"]
    assert sms_events(services, ticket) == []
    unsigned = client.post("/sms/replies", json=good)
    assert unsigned.status_code == 401 and sms_events(services, ticket) == []


def test_without_a_shared_key_the_endpoint_takes_nothing(services):
    client = create_app(services, testing=True).test_client()
    answer = client.post("/sms/replies", json={"reply_id": "x", "in_reply_to": "y", "from": PHONE, "text": "1"})
    assert answer.status_code == 404 and "未配置" in answer.json["error"]


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)
# The real message's key and the caller's number are among the values, so that some bodies get far.
real = {"in_reply_to": st.just("<key>"), "from": st.just(PHONE), "text": st.sampled_from(["1", "２", "满意。"])}
fields = st.fixed_dictionaries(
    {},
    optional={
        name: anything | st.text(max_size=30) | real.get(name, st.nothing())
        for name in ("reply_id", "in_reply_to", "from", "text")
    },
)


@pytest.mark.parametrize("store", ["sqlite"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=fields | anything, raw=st.binary(max_size=64), use_raw=st.booleans())
def test_any_signed_body_is_answered_in_json_never_a_500(replied, body, raw, use_raw):
    services, clock, _, key = replied
    if isinstance(body, dict) and body.get("in_reply_to") == "<key>":
        body = {**body, "in_reply_to": key}
    client = create_app(services, testing=True).test_client()
    answer = post(client, clock, raw if use_raw else body)
    assert answer.status_code in (200, 400, 403, 404, 422), answer.text
    assert isinstance(answer.json, dict) and ("error" in answer.json) == (answer.status_code != 200)
