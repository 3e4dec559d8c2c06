"""转督办 that meets another write on the case: refused with 请刷新后重试, nothing saved, and never
mistaken for an escalation already made (on both stores)."""

from datetime import datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.errors import ConcurrentUpdate, InvalidInput
from hotline.domain.supervision import ItemNotFound
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR

T0 = datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ)
LATER = T0 + timedelta(days=3)  # past the signing deadline: the case may be escalated


def overdue_case(hotline) -> str:
    call = Call(channel="phone", category="complaint", service_code="noise", description="楼下商铺喇叭噪音扰民")
    ticket = clocked(hotline, T0).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(hotline, T0).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    return ticket


def test_an_escalation_losing_the_race_for_the_case_asks_to_look_again(services, monkeypatch):
    hotline = services.app
    ticket = overdue_case(hotline)
    stale = hotline.get_case(ticket)  # what the escalation read …
    clocked(hotline, LATER).urge(ticket, OPERATOR_ACTOR, "请尽快签收")  # … before another writer saved the case
    moved = hotline.get_case(ticket).version
    monkeypatch.setattr(hotline, "get_case", lambda ticket_no, version=None: stale)
    with pytest.raises(ConcurrentUpdate, match="该工单已被他人更新，请刷新后重试") as refused:
        clocked(hotline, LATER).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    assert "已转督办" not in str(refused.value)
    monkeypatch.undo()
    with pytest.raises(ItemNotFound):  # nothing saved: neither the item nor the case's 转督办
        hotline.get_item(ticket)
    assert hotline.get_case(ticket).version == moved and hotline.get_case(ticket).escalated_to is None
    # Looking again, the supervisor escalates it.
    item = clocked(hotline, LATER).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31", expected_version=moved)
    assert hotline.get_case(ticket).escalated_to == item.reference_no


def test_an_escalation_of_a_case_changed_since_the_page_was_read_asks_to_look_again(services):
    hotline = services.app
    ticket = overdue_case(hotline)
    seen = hotline.get_case(ticket).version
    clocked(hotline, LATER).urge(ticket, OPERATOR_ACTOR, "请尽快签收")
    with pytest.raises(ConcurrentUpdate, match="请刷新后重试"):
        clocked(hotline, LATER).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31", expected_version=seen)
    assert hotline.get_case(ticket).escalated_to is None


def test_two_supervisors_escalating_at_once_the_second_is_told_it_was_escalated(services, monkeypatch):
    hotline = services.app
    ticket = overdue_case(hotline)
    stale = hotline.get_case(ticket)  # the second supervisor read the case before the first saved
    clocked(hotline, LATER).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    monkeypatch.setattr(hotline, "get_case", lambda ticket_no, version=None: stale)
    with pytest.raises(InvalidInput, match="已转督办") as refused:
        clocked(hotline, LATER).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    assert not isinstance(refused.value, ConcurrentUpdate)
