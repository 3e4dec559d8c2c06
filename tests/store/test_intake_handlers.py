"""Intake handlers, the batch command, the dispatch outbox and the in-process bus on both stores."""

import json
import threading
from datetime import datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import DISPATCHED, OPENED, Call, Case
from hotline.infra.bootstrap import bootstrap
from hotline.intake.bus import BusRecord
from hotline.intake.dispatch_publisher import DispatchPublisher
from hotline.intake.handlers import Intake
from hotline.intake.messages import CALLS, DISPATCH, DLQ_CODE, DLQ_REASON, REPLIES, REPLIES_DLQ, Outgoing, encode
from tests.conftest import OPERATOR_ACTOR, department
from tests.support.department_keys import department_key

T0 = datetime.fromisoformat("2025-10-09T09:30:00+08:00")


@pytest.fixture(autouse=True)
def on_the_day(services):
    """The hotline's clock when the calls come in (T0); the tests move it on from there."""
    clocked(services.app, T0)


def call(call_id, service_code="street_vending", address="城东区解放路12号", **changes) -> dict:
    message = {
        "schema": "hotline.call/1",
        "call_id": call_id,
        "received_at": T0.isoformat(),
        "channel": "phone",
        "caller": {"name": "王芳", "phone": "13912345678"},
        "category": "complaint",
        "service_code": service_code,
        "address": address,
        "description": "学校门口流动摊贩占道经营",
        "urgency": "normal",
    }
    message.update(changes)
    return message


def opened_call_ids(app) -> list[str]:
    notifications = app.recorder.select_notifications(None, 100_000, topics=[Case.Opened.TOPIC])
    return [app.mapper.to_domain_event(n).call_id for n in notifications]


def as_calls(*pairs) -> list:
    return [
        (Call(channel="phone", category="complaint", service_code=s, description="噪音扰民", district=d, call_id=i), T0)
        for i, s, d in pairs
    ]


def test_a_batch_opens_one_case_per_call_id_and_routes_it(hotline):
    earlier = clocked(hotline, T0).open_case(as_calls(("c-0", "noise", ""))[0][0], OPERATOR_ACTOR)
    openings = hotline.open_cases(
        as_calls(
            ("c-1", "street_vending", "城东区"),
            ("c-2", "other", ""),
            ("c-1", "street_vending", "城东区"),
            ("c-0", "noise", ""),
            ("c-3", "noise", ""),
        ),
        SYSTEM_ACTOR,
    )
    assert [o.created for o in openings] == [True, True, False, False, True]
    assert openings[2].ticket_no == openings[0].ticket_no and openings[3].ticket_no == earlier.ticket_no
    assert [o.ticket_no for o in openings if o.created] == ["20251009-000002", "20251009-000003", "20251009-000004"]
    assert sorted(opened_call_ids(hotline)) == ["c-0", "c-1", "c-2", "c-3"]

    routed = hotline.get_case(openings[0].ticket_no)
    assert (routed.status, routed.department, openings[0].department) == (DISPATCHED, "CDQ", "CDQ")  # district rule
    manual = hotline.get_case(openings[1].ticket_no)
    assert (manual.status, manual.department, openings[1].department) == (OPENED, None, None)  # no rule: manual queue

    # The deadlines are the ones a dispatch at receipt time would give.
    by_hand = clocked(hotline, T0).open_case(as_calls(("c-9", "noise", ""))[0][0], OPERATOR_ACTOR).ticket_no
    expected = clocked(hotline, T0).dispatch(by_hand, OPERATOR_ACTOR)
    auto = hotline.get_case(openings[4].ticket_no)
    assert (auto.department, auto.sign_by, auto.reply_by) == (expected.department, expected.sign_by, expected.reply_by)


def test_racing_batches_still_make_one_case_per_call(services):
    # Two application objects on one store, as two consumer processes would be: overlapping batches.
    other = bootstrap(services.config)
    clocked(other.app, T0)
    ids = [f"race-{n}" for n in range(60)]
    errors = []

    def run(app, order):
        try:
            for start in range(0, len(order), 10):
                app.open_cases(as_calls(*[(i, "noise", "") for i in order[start : start + 10]]), SYSTEM_ACTOR)
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(services.app, ids)),
        threading.Thread(target=run, args=(other.app, ids[::-1])),
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    other.close()
    assert errors == []
    opened = opened_call_ids(services.app)
    assert sorted(opened) == sorted(ids)
    tickets = [c.ticket_no for c in services.app.all_cases()]
    assert len(set(tickets)) == len(ids)


def test_the_bus_runs_calls_and_dead_letters_through_the_same_handlers(services):
    bus = services.bus
    valid = [encode(call("bus-1")), encode(call("bus-2", service_code="other")), encode(call("bus-1"))]
    # A category or service the catalogue lacks still makes a case, 待分类; only what cannot be one is dead.
    unclassified = [encode(call("bus-3", category="praise")), encode(call("bus-4", service_code="ufo"))]
    invalid = [b"{oops", encode(call("bus-5", description=""))]
    outcome = bus.send_many([Outgoing(CALLS, None, v) for v in valid + unclassified + invalid])
    assert (outcome.messages, outcome.created, outcome.repeats, outcome.routed, outcome.manual) == (7, 4, 1, 1, 3)
    letters = list(bus.kept["hotline.calls.dlq"])
    assert [letter.value for letter in letters] == invalid  # the original bytes
    reasons = [dict(letter.headers)[DLQ_REASON].decode() for letter in letters]
    assert "JSON" in reasons[0] and "诉求内容" in reasons[1]
    held = [services.app.get_case(services.app.ticket_for_call(f"bus-{n}")) for n in (3, 4)]
    assert [(c.status_name, c.category, c.service_code) for c in held] == [
        ("待分类", "praise", "street_vending"),
        ("待分类", "complaint", "ufo"),
    ]
    # The routed case went out on the dispatch topic (outbox), keyed by department.
    dispatched = [json.loads(m.value) for m in bus.kept[DISPATCH]]
    assert [(d["department"], d["case"]["call_id"], d["kind"]) for d in dispatched] == [("CDQ", "bus-1", "dispatched")]


def test_the_outbox_loses_nothing_when_publishing_fails_and_repeats_carry_the_event_id(hotline):
    hotline.open_cases(as_calls(*[(f"o-{n}", "noise", "") for n in range(5)]), SYSTEM_ACTOR)
    received = []

    def flaky(messages):
        raise ConnectionError("broker down")

    failing = DispatchPublisher(hotline, flaky, DISPATCH, position_name="test")
    with pytest.raises(ConnectionError):
        failing.publish_pending()
    publisher = DispatchPublisher(hotline, received.extend, DISPATCH, position_name="test", page_size=2)
    assert publisher.publish_pending() == 5
    assert publisher.publish_pending() == 0  # the position is stored
    bodies = [json.loads(m.value) for m in received]
    assert len({b["event_id"] for b in bodies}) == 5 and {m.key for m in received} == {b"HBJ"}
    assert all(b["sign_by"] and b["reply_by"] and b["ticket_no"] for b in bodies)

    # A returned case that is re-dispatched goes out again, as a new event.
    ticket = bodies[0]["ticket_no"]
    clocked(hotline, T0 + timedelta(hours=1)).return_case(ticket, department("HBJ"), "不属于本单位职责", "权责清单")
    clocked(hotline, T0 + timedelta(hours=1, minutes=30)).approve_return(ticket, OPERATOR_ACTOR)
    clocked(hotline, T0 + timedelta(hours=2)).dispatch(ticket, OPERATOR_ACTOR, department="CGJ", note="改派城管")
    assert DispatchPublisher(hotline, received.extend, DISPATCH, position_name="test").publish_pending() == 1
    last = json.loads(received[-1].value)
    assert (last["kind"], last["department"], received[-1].key) == ("redispatched", "CGJ", b"CGJ")


def reply(action, ticket, minutes, department="CDQ", headers=(), **fields) -> BusRecord:
    body = {
        "schema": "hotline.reply/1",
        "action_id": f"{action}-{minutes}",
        "ticket_no": ticket,
        "action": action,
        "department": department,
        "actor_id": "cdq-01",
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }
    body.update(fields)
    return BusRecord(REPLIES, 0, minutes, ticket.encode(), encode(body), headers)


def test_department_replies_apply_once_and_refusals_become_dead_letters(hotline):
    clocked(hotline, T0)  # the department acts the day of the call: an extension is asked before the deadline
    intake = Intake(hotline)
    ticket = hotline.open_cases(as_calls(("r-1", "street_vending", "城东区")), SYSTEM_ACTOR)[0].ticket_no
    clocked(hotline, T0 + timedelta(hours=1))  # the department's system sends its actions an hour on
    cdq, cgj = department_key(hotline, "CDQ"), department_key(hotline, "CGJ")
    outcome = intake.handle(
        [
            reply("reply", ticket, 5, headers=cdq, result="已处理", resolved=True),  # before signing: refused
            reply("sign", ticket, 10, department="CGJ", headers=cgj),  # not this department's case
            reply("sign", ticket, 20, headers=cdq),
            reply("sign", ticket, 20, headers=cdq),  # redelivered
            reply("request_extension", ticket, 30, headers=cdq, working_days=3, reason="需协调城管执法"),
            reply("reply", ticket, 40, headers=cdq, result="已清理占道摊贩", resolved=True),
            reply("sign", "20990101-000001", 50, headers=cdq),
        ]
    )
    assert (outcome.applied, outcome.repeats) == (3, 1)
    letters = [intake.dead_letter(letter) for letter in outcome.dead_letters]
    assert {m.topic for m in letters} == {REPLIES_DLQ}
    reasons = [dict(m.headers)[DLQ_REASON].decode() for m in letters]
    assert "尚未签收" in reasons[0] and "不属于本单位" in reasons[1] and "不存在" in reasons[2]
    assert {dict(m.headers)[DLQ_CODE] for m in letters} == {b"refused"}
    case = hotline.get_case(ticket)
    assert case.status == "replied" and case.reply_result == "已清理占道摊贩"
    assert [type(e).__name__ for e in hotline.case_events(ticket)] == [
        "Opened",
        "Dispatched",
        "Signed",
        "ExtensionRequested",
        "Replied",
    ]


def test_only_the_departments_own_system_with_a_valid_key_acts_in_its_name(hotline):
    ticket = hotline.open_cases(as_calls(("k-1", "street_vending", "城东区")), SYSTEM_ACTOR)[0].ticket_no
    clocked(hotline, T0 + timedelta(hours=1))
    revoked = hotline.issue_api_key("城东区旧系统", SYSTEM_ACTOR, department="CDQ")
    hotline.revoke_api_key(str(revoked.id), SYSTEM_ACTOR)
    open311 = hotline.issue_api_key("市民通 App", SYSTEM_ACTOR).key
    intake = Intake(hotline)

    outcome = intake.handle(
        [
            reply("sign", ticket, 10),  # no key at all: department only has to match, as before
            reply("sign", ticket, 11, headers=(("hotline-api-key", b"guessed-key"),)),
            reply("sign", ticket, 12, headers=(("hotline-api-key", revoked.key.encode()),)),
            reply("sign", ticket, 13, headers=(("hotline-api-key", open311.encode()),)),  # a citizen app's key
            reply("sign", ticket, 14, headers=department_key(hotline, "CGJ")),  # another department's key
        ]
    )

    assert outcome.applied == 0 and hotline.get_case(ticket).status == DISPATCHED
    letters = [intake.dead_letter(letter) for letter in outcome.dead_letters]
    assert [dict(m.headers)[DLQ_CODE] for m in letters] == [b"unauthenticated"] * 5
    reasons = [dict(m.headers)[DLQ_REASON].decode() for m in letters]
    assert all("缺少有效的承办单位接口密钥" in reason for reason in reasons[:4])
    assert reasons[4].startswith("接口密钥属于市城市管理综合执法局，不能以城东区人民政府的名义办理")
    assert all("hotline-api-key" not in dict(m.headers) for m in letters)  # the key is never passed on
    assert len(hotline.case_events(ticket)) == 2

    signed = intake.handle([reply("sign", ticket, 20, headers=department_key(hotline, "CDQ"))])
    assert signed.applied == 1 and hotline.get_case(ticket).status == "signed"
