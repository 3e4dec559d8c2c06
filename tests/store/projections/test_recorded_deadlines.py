"""The callback deadline (回访期限) and the dispatch deadline (派单时限) are recorded on their events
(``Case.Replied``; ``Opened``, ``ReturnApproved``, ``Rehandled``), and the case index shows what was
recorded, on both stores, replayed or rebuilt set-based, whatever the rules say by then."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hotline.application import clocked
from hotline.domain.case import Call, Case
from hotline.domain.catalogue import SATISFACTION, code_for
from hotline.domain.follow_up import FollowUpRules
from hotline.domain.handling import DispatchRules
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, department

MONDAY = datetime(2026, 12, 28, 9, 0, tzinfo=CHINA_TZ)  # the last week of 2026; 2027 is not published


def call(description: str) -> Call:
    return Call(channel="phone", category="complaint", service_code="noise", description=description)


def recorded(app, ticket: str, kind: type) -> Case.Event:
    return [event for event in app.case_events(ticket) if isinstance(event, kind)][-1]


def test_the_case_index_shows_the_deadlines_the_events_recorded(services, monkeypatch):
    app, read_models = services.app, services.read_models
    hbj = department("HBJ")
    waiting = clocked(app, MONDAY).open_case(call("楼下商铺喇叭噪音扰民"), OPERATOR_ACTOR).ticket_no

    replied = clocked(app, MONDAY).open_case(call("广场舞音响噪音"), OPERATOR_ACTOR).ticket_no
    clocked(app, MONDAY).dispatch(replied, OPERATOR_ACTOR, department="HBJ")
    clocked(app, MONDAY + timedelta(hours=1)).sign(replied, hbj)
    clocked(app, datetime(2026, 12, 31, 16, 0, tzinfo=CHINA_TZ)).reply(replied, hbj, "已约谈组织者", True)

    returned = clocked(app, MONDAY).open_case(call("工地夜间施工"), OPERATOR_ACTOR).ticket_no
    clocked(app, MONDAY).dispatch(returned, OPERATOR_ACTOR, department="HBJ")
    clocked(app, MONDAY + timedelta(hours=2)).return_case(returned, hbj, "属住建部门职责", "本单位权责清单未列此项")
    clocked(app, MONDAY + timedelta(hours=3)).approve_return(returned, OPERATOR_ACTOR, "同意退单")

    redone = clocked(app, MONDAY).open_case(call("商铺油烟噪音"), OPERATOR_ACTOR).ticket_no
    clocked(app, MONDAY).dispatch(redone, OPERATOR_ACTOR, department="HBJ")
    clocked(app, MONDAY + timedelta(hours=1)).sign(redone, hbj)
    clocked(app, MONDAY + timedelta(hours=5)).reply(redone, hbj, "已处理", True)
    dissatisfied = code_for(SATISFACTION, "不满意")
    clocked(app, MONDAY + timedelta(days=1)).record_callback(
        redone, OPERATOR_ACTOR, True, dissatisfied, False, contacted_first=True
    )
    evening = MONDAY.replace(day=29, hour=19)  # after the working hours: dispatched the same day
    clocked(app, evening).reopen(redone, OPERATOR_ACTOR, "来电人反映噪声仍在")

    opened = recorded(app, waiting, Case.Opened)
    reply = recorded(app, replied, Case.Replied)
    approved = recorded(app, returned, Case.ReturnApproved)
    rehandled = recorded(app, redone, Case.Rehandled)
    assert opened.dispatch_by == MONDAY + timedelta(hours=2)
    assert approved.dispatch_by == MONDAY + timedelta(hours=5)
    assert rehandled.dispatch_by == datetime(2026, 12, 29, 23, 59, 59, tzinfo=CHINA_TZ)
    # 1 working day after 12-31: 2027-01-01 is 元旦 by law, then a weekend; 2027 is not published.
    assert (reply.callback_by, reply.callback_by_provisional) == (
        datetime(2027, 1, 4, 23, 59, 59, tzinfo=CHINA_TZ),
        True,
    )
    # A callback deadline in a published year is firm.
    assert recorded(app, redone, Case.Replied).callback_by_provisional is False

    read_models.catch_up()
    cases = read_models.cases
    assert cases.get(waiting).dispatch_by == opened.dispatch_by
    assert cases.get(returned).dispatch_by == approved.dispatch_by
    assert cases.get(redone).dispatch_by == rehandled.dispatch_by
    row = cases.get(replied)
    assert (row.callback_by, row.callback_provisional) == (reply.callback_by, True)
    [due], _ = read_models.deadline_queue(MONDAY, kinds=["callback"], due_within_hours=24 * 10)
    assert (due.reference, due.due_at, due.provisional) == (replied, reply.callback_by, True)
    followed = read_models.dump("cases")

    # The rules change later: what the events recorded stands, replayed or rebuilt in SQL.
    monkeypatch.setattr(cases, "follow_up", FollowUpRules(callback_days=5, progress_days=5, minutes_days=3))
    monkeypatch.setattr(cases, "dispatch", DispatchRules(1, time(8, 0), time(18, 0)))
    read_models.rebuild(["cases"], set_based=False)
    assert read_models.dump("cases") == followed
    read_models.rebuild(["cases"])
    assert read_models.dump("cases") == followed
