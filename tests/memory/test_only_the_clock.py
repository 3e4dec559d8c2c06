"""Only the clock records time: no command of the application takes a time to record, so no form,
message or API can set one; what a command records is the application's clock."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

import pytest

from hotline.application import HotlineApplication, clocked
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import ImplausibleTime
from hotline.domain.workdays import CHINA_TZ

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


def test_the_plausibility_rules_allow_a_reported_time_inside_the_limits_only(rules):
    limits = rules.plausibility  # rules/time_plausibility.toml: 5 minutes of skew, 72 hours back
    recorded = datetime(2026, 10, 12, 10, 0, tzinfo=CHINA_TZ)
    previous = recorded - timedelta(hours=1)

    assert limits.check(recorded + timedelta(minutes=5), recorded, previous) == recorded + timedelta(minutes=5)
    assert limits.check(previous, recorded, previous) == previous
    assert limits.check(recorded - timedelta(hours=72), recorded, None) == recorded - timedelta(hours=72)
    for reported, reason in (
        (recorded + timedelta(minutes=6), "晚于系统当前时间"),
        (previous - timedelta(seconds=1), "早于该工单上一步的时间"),
        (recorded - timedelta(hours=73), "超过 72 小时"),
    ):
        with pytest.raises(ImplausibleTime, match=reason):
            limits.check(reported, recorded, previous if reported > recorded - timedelta(hours=2) else None)
    # The migration of the previous system's cases has its own bound ([migration] oldest_days = 1827).
    assert limits.check(recorded - timedelta(days=900), recorded, None, migrated=True)
    assert limits.check(recorded - timedelta(days=1827), recorded, None, migrated=True)
    with pytest.raises(ImplausibleTime, match="超过 1827 天"):
        limits.check(recorded - timedelta(days=1828), recorded, None, migrated=True)
    with pytest.raises(ImplausibleTime, match="晚于导入时间"):
        limits.check(recorded + timedelta(minutes=6), recorded, None, migrated=True)
