"""Ticket numbers under load: four writers (two threads in each of two application instances, as
two consumers or web workers would be) log batches of calls on one day at once, some calls sent
by every writer. The day's numbers are 1..N without a gap or a repeat, every call is exactly one
case, a repeat is answered with that case's ticket, and nobody is told to try again."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from datetime import date, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from hotline.application.clock import SystemClock
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.domain.tickets import TicketDay
from hotline.infra.store.tickets import pending_table
from tests.conftest import _libpq
from tests.store.reliability.test_conflicts import assert_event_stream_intact, two_workers
from tests.support.servers import race

WRITERS = 4
BATCHES = 12
BATCH = 15
# reported an hour ago: the writers record on the server clock, which refuses old reported times
DAY_START = SystemClock().now() - timedelta(hours=1)
CALL = Call(
    channel="app",
    category="complaint",
    service_code="noise",
    description="夜间施工噪音扰民",
    caller_phone="13900139000",
    district="城东区",
)


def batches_of(writer: int) -> list[list[tuple[Call, datetime]]]:
    """Each writer's batches; every fifth call of a batch is sent by every writer (a redelivery)."""
    out = []
    for b in range(BATCHES):
        batch = []
        for i in range(BATCH):
            call_id = f"shared-b{b}-c{i}" if i % 5 == 0 else f"w{writer}-b{b}-c{i}"
            at = DAY_START + timedelta(seconds=b * 60 + i)
            batch.append((dataclasses.replace(CALL, call_id=call_id), at))
        out.append(batch)
    return out


__all__ = ["two_workers"]  # the fixture: the test's application and a second one on the same store


def test_four_writers_share_one_days_numbers_without_a_gap(services, two_workers):
    four_writers_share_one_day(services, two_workers)


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_batches_built_before_the_lock_keep_the_numbers_gapless(services, two_workers):
    """Every batch built before the transaction with the numbers the store expects (the intake
    consumers' path, here even for small batches): writers overtaking each other and calls logged
    by another writer meanwhile still give 1..N, each call once."""
    for app in two_workers:
        app.recorder.speculate_from = 1
    four_writers_share_one_day(services, two_workers)
    assert pending_rows(services) == 0


def pending_rows(services) -> int:
    recorder = services.app.recorder
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            f'SELECT COUNT(*) AS n FROM "{recorder.datastore.schema}"."{pending_table(recorder.events_table_name)}"'
        )
        return curs.fetchone()["n"]


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_writer_that_announced_and_died_costs_one_rebuild_not_a_number(services, caplog):
    app = services.app
    app.recorder.speculate_from = 1
    calls = [dataclasses.replace(CALL, call_id=f"announced-{i}") for i in range(15)]
    first = [o.ticket_no for o in app.open_cases([(c, None) for c in calls[:5]], SYSTEM_ACTOR)]
    day = date(int(first[0][:4]), int(first[0][4:6]), int(first[0][6:8]))
    with psycopg.connect(_libpq(services.config.database_url), autocommit=True, row_factory=dict_row) as other:
        app.recorder._announce(other.cursor(), [TicketDay.of(day, 7)])  # another writer announced 7 cases...
    # ... and died (its connection closed: its advisory lock is gone, its pending row stays)

    with caplog.at_level(logging.INFO, logger="hotline.infra.store.tickets"):
        second = [o.ticket_no for o in app.open_cases([(c, None) for c in calls[5:10]], SYSTEM_ACTOR)]
    assert len([r for r in caplog.records if "本批在锁内重建" in r.getMessage()]) == 1
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hotline.infra.store.tickets"):
        third = [o.ticket_no for o in app.open_cases([(c, None) for c in calls[10:]], SYSTEM_ACTOR)]
    assert not [r for r in caplog.records if "本批在锁内重建" in r.getMessage()]  # the expectation is right again

    assert first + second + third == [f"{first[0][:8]}-{n:06d}" for n in range(1, 16)]
    assert pending_rows(services) == 0
    for call, ticket in zip(calls, first + second + third, strict=True):
        assert app.get_case(ticket).call_id == call.call_id  # what the rebuild made, not the first build
        assert app.ticket_for_call(call.call_id) == ticket
    assert app.recorder.select_last_numbers() == {day.isoformat(): 15}
    assert_event_stream_intact(services)


def four_writers_share_one_day(services, two_workers):
    apps = list(two_workers) * (WRITERS // 2)

    def write(writer: int) -> list[str]:
        return [o.ticket_no for batch in batches_of(writer) for o in apps[writer].open_cases(batch, SYSTEM_ACTOR)]

    outcomes = race([lambda w=w: write(w) for w in range(WRITERS)])
    assert [kind for kind, _ in outcomes] == ["ok"] * WRITERS, outcomes

    app = services.app
    call_ids = {call.call_id for w in range(WRITERS) for batch in batches_of(w) for call, _ in batch}
    cases = list(app.all_cases())
    assert len(cases) == len(call_ids) == WRITERS * BATCHES * BATCH * 4 // 5 + BATCHES * BATCH // 5
    assert Counter(case.call_id for case in cases) == Counter(call_ids)  # each call exactly once
    assert all(re.fullmatch(r"\d{8}-\d{6}", case.ticket_no) for case in cases)
    days = Counter(case.ticket_no[:8] for case in cases)  # one day, unless the run crosses midnight
    numbers = sorted(case.ticket_no for case in cases)
    assert numbers == sorted(f"{day}-{n:06d}" for day, count in days.items() for n in range(1, count + 1))  # gapless
    for writer, (_, tickets) in enumerate(outcomes):
        calls = [call for batch in batches_of(writer) for call, _ in batch]
        assert [app.ticket_for_call(call.call_id) for call in calls] == tickets  # repeats answered with the one ticket
    for case in cases:
        assert app.ticket_for_call(case.call_id) == case.ticket_no
    assert sum(app.recorder.select_last_numbers().values()) == len(cases)
    assert_event_stream_intact(services)
