"""Ticket numbers: each day counts from 1, in the order the calls came in, and a call id logged
before gets its ticket back instead of a new number."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from hotline.domain.actors import DEPARTMENT, SYSTEM_ACTOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import NotPermitted
from hotline.domain.workdays import CHINA_TZ

CALL = Call(channel="app", category="complaint", service_code="noise", description="夜间施工噪音", district="城东区")
NINE = datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ)


def call(call_id: str) -> Call:
    return dataclasses.replace(CALL, call_id=call_id)


def test_a_batch_is_numbered_by_receipt_time_and_each_day_counts_from_one(app, clock):
    clock.set(NINE + timedelta(minutes=40))  # the batch is recorded now; each call says when it came in
    batch = [
        (call("c"), NINE + timedelta(minutes=30)),
        (call("a"), NINE),
        (call("b"), NINE + timedelta(minutes=10)),
        (call("a"), NINE),  # the same call twice in one batch
    ]
    tickets = [opening.ticket_no for opening in app.open_cases(batch, SYSTEM_ACTOR)]
    assert tickets == ["20251009-000003", "20251009-000001", "20251009-000002", "20251009-000001"]
    assert [o.created for o in app.open_cases([(call("b"), NINE), (call("d"), NINE)], SYSTEM_ACTOR)] == [False, True]
    assert app.ticket_for_call("d") == "20251009-000004"
    clock.set(NINE + timedelta(days=1))  # the day the hotline records a call is the day of its number
    assert app.open_cases([(call("next-day"), NINE + timedelta(days=1))], SYSTEM_ACTOR)[0].ticket_no == (
        "20251010-000001"
    )
    assert app.recorder.select_last_numbers() == {"2025-10-09": 4, "2025-10-10": 1}


def test_a_batch_refused_while_the_numbers_are_held_gives_them_back(app):
    # Only the hotline's own desks open cases: refused inside the store's transaction, after the
    # day's counter was raised; the counter goes back with the rest.
    with pytest.raises(NotPermitted):
        app.open_cases([(call("x"), NINE), (call("y"), NINE)], Actor("hbj-1", DEPARTMENT, "HBJ"))
    assert app.open_cases([(call("ok"), NINE)], SYSTEM_ACTOR)[0].ticket_no == "20251009-000001"
