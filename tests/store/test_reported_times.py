"""Two times on every action, on both stores: the hotline records each action at its own clock's
moment, and keeps beside it the time a sender reports, when that time is plausible
(rules/time_plausibility.toml). A department system cannot back-date or future-date its actions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import DISPATCHED, SIGNED, Call
from hotline.intake.bus import BusRecord
from hotline.intake.handlers import Intake
from hotline.intake.messages import CALLS, REPLIES, encode
from tests.conftest import OPERATOR_ACTOR
from tests.conftest import department as staff
from tests.support.department_keys import department_key

T0 = datetime.fromisoformat("2026-10-12T09:30:00+08:00")  # a Monday


def vending_call(call_id: str) -> Call:
    return Call(
        channel="phone",
        category="complaint",
        service_code="street_vending",
        description="学校门口流动摊贩占道经营",
        district="城东区",
        call_id=call_id,
    )


def sign(ticket: str, at: datetime | str, offset: int = 0, headers=()) -> BusRecord:
    body = {
        "schema": "hotline.reply/1",
        "action_id": f"sign-{offset}",
        "ticket_no": ticket,
        "action": "sign",
        "department": "CDQ",
        "actor_id": "cdq-01",
        "at": at if isinstance(at, str) else at.isoformat(),
    }
    return BusRecord(REPLIES, 0, offset, ticket.encode(), encode(body), headers)


@pytest.fixture
def key(hotline):
    """城东区's system signs its messages with its own key."""
    return department_key(hotline, "CDQ")


def routed_case(hotline) -> str:
    """A call the caller made two minutes before the hotline's system logged it, routed to 城东区."""
    opening = clocked(hotline, T0).open_cases([(vending_call("t-1"), T0 - timedelta(minutes=2))], SYSTEM_ACTOR)[0]
    assert opening.department == "CDQ"
    return opening.ticket_no


def test_a_case_keeps_the_time_the_call_came_in_beside_the_time_it_was_recorded(hotline):
    ticket = routed_case(hotline)
    opened = hotline.case_events(ticket)[0]
    assert (opened.timestamp, opened.reported_at) == (T0, T0 - timedelta(minutes=2))
    assert hotline.get_case(ticket).sign_by > T0  # the deadlines run from the recorded time


def test_a_signature_dated_before_the_case_existed_or_in_the_future_is_dead_lettered(hotline, key):
    ticket = routed_case(hotline)
    now = clocked(hotline, T0 + timedelta(hours=1)).now()
    intake = Intake(hotline)

    outcome = intake.handle(
        [sign(ticket, "2000-01-01T09:00:00+08:00", 1, key), sign(ticket, now + timedelta(days=1), 2, key)]
    )

    assert outcome.applied == 0
    assert [letter.code for letter in outcome.dead_letters] == ["implausible_time", "implausible_time"]
    back_dated, future = (letter.reason for letter in outcome.dead_letters)
    assert "2000-01-01 09:00:00 早于该工单上一步的时间 2026-10-12 09:30:00" in back_dated
    assert "晚于系统当前时间 2026-10-12 10:30:00（允许的时钟偏差为 5 分钟）" in future
    assert hotline.get_case(ticket).status == DISPATCHED
    assert len(hotline.case_events(ticket)) == 2  # opened, dispatched: nothing stored


def test_a_plausible_signature_is_recorded_now_with_the_reported_time_beside_it(hotline, key):
    ticket = routed_case(hotline)
    clocked(hotline, T0 + timedelta(hours=1))
    reported = T0 + timedelta(minutes=50)

    outcome = Intake(hotline).handle([sign(ticket, reported, 1, key), sign(ticket, reported, 2, key)])

    assert (outcome.applied, outcome.repeats, outcome.dead_letters) == (1, 1, [])  # the second is a redelivery
    signed = hotline.case_events(ticket)[-1]
    assert (signed.timestamp, signed.reported_at) == (T0 + timedelta(hours=1), reported)


def test_a_late_signing_stays_late_whatever_time_the_department_reports(hotline, key):
    ticket = routed_case(hotline)
    sign_by = hotline.get_case(ticket).sign_by
    clocked(hotline, sign_by + timedelta(hours=3))  # the department's system sends it three hours late

    Intake(hotline).handle([sign(ticket, sign_by - timedelta(hours=1), 1, key)])

    case = hotline.get_case(ticket)
    assert case.status == SIGNED
    assert case.signed_at == sign_by + timedelta(hours=3) > case.sign_by  # 响应率 counts it late
    assert hotline.case_events(ticket)[-1].reported_at == sign_by - timedelta(hours=1)


def test_a_time_reported_more_than_the_window_ago_is_refused(hotline, key):
    ticket = routed_case(hotline)
    clocked(hotline, T0 + timedelta(days=4))

    outcome = Intake(hotline).handle([sign(ticket, T0 + timedelta(minutes=10), 1, key)])

    assert [letter.code for letter in outcome.dead_letters] == ["implausible_time"]
    assert "超过 72 小时" in outcome.dead_letters[0].reason


def test_a_call_reported_to_come_in_tomorrow_is_dead_lettered(hotline):
    clocked(hotline, T0)
    message = {
        "schema": "hotline.call/1",
        "call_id": "tomorrow-1",
        "received_at": (T0 + timedelta(days=1)).isoformat(),
        "channel": "phone",
        "caller": {"name": "王芳", "phone": "13912345678"},
        "category": "complaint",
        "service_code": "street_vending",
        "address": "城东区解放路12号",
        "description": "学校门口流动摊贩占道经营",
        "urgency": "normal",
    }
    record = BusRecord(CALLS, 0, 0, None, json.dumps(message, ensure_ascii=False).encode())

    outcome = Intake(hotline).handle([record])

    assert outcome.created == 0 and [letter.code for letter in outcome.dead_letters] == ["implausible_time"]
    assert hotline.ticket_for_call("tomorrow-1") is None


def test_a_callback_made_by_phone_and_entered_later_keeps_both_times(hotline):
    ticket = routed_case(hotline)
    department = hotline.get_case(ticket).department
    clocked(hotline, T0 + timedelta(hours=1)).sign(ticket, staff(department))
    clocked(hotline, T0 + timedelta(hours=5)).reply(ticket, staff(department), "已清理", True)
    called = T0 + timedelta(hours=6)
    clocked(hotline, T0 + timedelta(hours=8)).record_callback(
        ticket, OPERATOR_ACTOR, True, "satisfied", True, contacted_first=True, reported_at=called
    )

    callback = hotline.case_events(ticket)[-1]
    assert (callback.timestamp, callback.reported_at) == (T0 + timedelta(hours=8), called)
