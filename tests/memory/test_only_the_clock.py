"""Only the clock records time: no command of the application takes a time to record, so no form,
message or API can set one; what a command records is the application's clock."""

from __future__ import annotations

import inspect
from datetime import timedelta

from hotline.application import HotlineApplication, clocked
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call

OPERATOR_ACTOR = Actor("op-1", OPERATOR)
HBJ = Actor("hbj-1", "department", "HBJ")


def test_no_command_of_the_application_takes_a_time_to_record():
    offenders = [
        name
        for name, function in inspect.getmembers(HotlineApplication, inspect.isfunction)
        if not name.startswith("_") and "at" in inspect.signature(function).parameters
    ]
    assert offenders == []


def test_a_case_records_the_moments_the_clock_gave(app, clock):
    call = Call(channel="phone", category="complaint", service_code="noise", description="夜间噪声扰民")
    opened_at = clock.now()
    ticket = app.open_case(call, OPERATOR_ACTOR).ticket_no
    clock.advance(timedelta(hours=2))
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    signed_at = clock.advance(timedelta(minutes=30))
    app.sign(ticket, HBJ)

    assert [e.timestamp for e in app.case_events(ticket)] == [opened_at, opened_at + timedelta(hours=2), signed_at]


def test_a_history_is_replayed_by_moving_a_simulated_clock(app, clock):
    later = clock.now() + timedelta(days=3)
    call = Call(channel="phone", category="complaint", service_code="noise", description="夜间噪声扰民")
    ticket = clocked(app, later).open_case(call, OPERATOR_ACTOR).ticket_no

    assert app.case_events(ticket)[0].timestamp == later == clock.now()
