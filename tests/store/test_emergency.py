"""The emergency path on both stores: an emergency call must be handed to its desk within the limit,
else it is in the deadline queue; urgent cases owe their department's interim feedback."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.errors import DomainError
from hotline.domain.workdays import CHINA_TZ
from hotline.projections.read_models import HANDOFF, INTERIM_FEEDBACK
from tests.conftest import OPERATOR_ACTOR, department

T0 = datetime(2026, 3, 10, 21, 5, tzinfo=CHINA_TZ)
GAS = Call(
    channel="phone",
    category="help",
    service_code="gas_leak",
    description="楼道里燃气味很浓，怀疑管道漏气",
    caller_phone="13800138000",
    urgency="urgent",
    address="城东区解放路12号",
    district="城东区",
)


def queue_of(services, kind, now):
    rows, _ = services.read_models.deadline_queue(now, kinds=[kind])
    return [(row.reference, row.overdue) for row in rows]


def test_a_gas_leak_not_handed_off_within_three_minutes_is_in_the_deadline_queue(services):
    app, models = services.app, services.read_models
    ticket = clocked(app, T0).open_case(GAS, OPERATOR_ACTOR, route=True).ticket_no
    case = app.get_case(ticket)
    assert case.emergency and case.handoff_by == T0 + timedelta(minutes=3)
    models.catch_up()
    assert queue_of(services, HANDOFF, T0 + timedelta(minutes=2)) == [(ticket, False)]
    assert queue_of(services, HANDOFF, T0 + timedelta(minutes=4)) == [(ticket, True)]
    rows, total = models.emergencies()
    assert total == 1 and rows[0].handoff_pending and rows[0].service_code == "gas_leak"

    # An attempt that did not reach the desk does not count; the one that did takes it off the queue.
    clocked(app, T0 + timedelta(minutes=4)).hand_off(ticket, OPERATOR_ACTOR, "119", "119 指挥中心", "not_reached")
    models.catch_up()
    assert queue_of(services, HANDOFF, T0 + timedelta(minutes=5)) == [(ticket, True)]
    clocked(app, T0 + timedelta(minutes=5)).hand_off(
        ticket,
        OPERATOR_ACTOR,
        "119",
        "119 指挥中心 07 号席 王某",
        "accepted",
        handed_off_at=T0 + timedelta(minutes=4, seconds=30),
    )
    models.catch_up()
    assert queue_of(services, HANDOFF, T0 + timedelta(minutes=6)) == []
    assert models.cases.get(ticket).handed_off_at == T0 + timedelta(minutes=4, seconds=30)
    with pytest.raises(DomainError, match="转接时间"):
        app.hand_off(ticket, OPERATOR_ACTOR, "119", "119", "accepted", handed_off_at=T0 - timedelta(hours=1))


def test_an_urgent_case_routed_to_a_department_owes_an_interim_feedback_within_two_hours(services):
    app, models = services.app, services.read_models
    water = Call(
        channel="phone", category="help", service_code="water_supply", description="整栋楼停水", urgency="urgent"
    )
    ticket = clocked(app, T0).open_case(water, OPERATOR_ACTOR, route=True).ticket_no
    case = app.get_case(ticket)
    assert case.department == "SWJ" and case.interim_by == T0 + timedelta(hours=2) and not case.emergency
    models.catch_up()
    assert queue_of(services, INTERIM_FEEDBACK, T0 + timedelta(hours=3)) == [(ticket, True)]
    swj = department("SWJ")
    with pytest.raises(DomainError, match="尚未签收"):
        clocked(app, T0 + timedelta(minutes=20)).give_interim_feedback(ticket, swj, "已派抢修队")
    clocked(app, T0 + timedelta(minutes=10)).sign(ticket, swj)
    clocked(app, T0 + timedelta(minutes=50)).give_interim_feedback(ticket, swj, "抢修队已到场，预计 2 小时恢复供水")
    models.catch_up()
    assert queue_of(services, INTERIM_FEEDBACK, T0 + timedelta(hours=3)) == []
    inbox, _ = models.inbox("SWJ", now=T0 + timedelta(hours=1))
    assert inbox[0].interim_given_at == T0 + timedelta(minutes=50)


def test_a_normal_case_owes_no_interim_feedback(services):
    app = services.app
    call = Call(channel="phone", category="complaint", service_code="noise", description="噪声")
    ticket = clocked(app, T0).open_case(call, OPERATOR_ACTOR, route=True).ticket_no
    clocked(app, T0).sign(ticket, department("HBJ"))
    with pytest.raises(DomainError, match="无需阶段性反馈"):
        clocked(app, T0).give_interim_feedback(ticket, department("HBJ"), "进展")
