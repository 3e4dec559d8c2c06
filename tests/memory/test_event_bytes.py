"""Stored events are forever: the same facts are stored as the same bytes as before.

``tests/fixtures/event_scenario.py`` runs a fixed scenario that reaches every event type written
today; ``event-bytes-v3.json.gz`` holds the plaintext state of each event as
today's code stores it. Today's code must store exactly those bytes: a renamed field, a reordered
one or a changed topic fails here. A deliberate change of an event's shape needs an upcaster and a
new fixture, never an edit of an old one: ``event-bytes-v1.json.gz`` (the code before the package
restructure) and v2 must still be read by today's mapper, and each differs from the next only
where a change was meant (listed below).

Writing a new fixture: ``HOTLINE_WRITE_EVENT_BYTES=tests/fixtures/event-bytes-vN.json.gz`` writes
what the scenario stores to that file (and the test then fails, so that it is never left set).
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import StoredEvent

from hotline.application import HotlineApplication, SimulatedClock
from tests.fixtures import event_scenario
from tests.memory.conftest import MEMORY
from tests.support.paths import FIXTURES_DIR

NEWEST = 3
COUNTER = "hotline:TicketCounter."  # written up to v2; the day's counter is a row since issue 18


def deterministic_hash(password: str) -> str:
    return "$argon2id$v=19$fixed$" + hashlib.sha256(password.encode()).hexdigest()


def scenario_bytes(rules, monkeypatch) -> dict[str, list[list[Any]]]:
    keys = itertools.count(1)
    monkeypatch.setattr("hotline.application.api_keys.new_key", lambda: f"fixed-key-{next(keys)}")
    start = datetime.fromisoformat("2026-11-02T09:00:00+08:00")
    # Snapshots take their own time from the library (not an event of ours): fix it too.
    monkeypatch.setattr(DomainEvent, "create_timestamp", staticmethod(lambda: start))
    clock = SimulatedClock(start)
    app = HotlineApplication(rules=rules, env=dict(MEMORY), clock=clock)
    event_scenario.run(app, deterministic_hash)

    stored = [
        [n.topic, str(n.originator_id), n.originator_version, n.state.decode("utf-8")]
        for n in app.recorder.select_notifications(0, 100_000)
    ]
    assert app.snapshots is None  # nothing is snapshotted any more (only the ticket counter was)
    snapshots: list[list[Any]] = []
    return {"events": stored, "snapshots": snapshots}


def fixture(version: int) -> dict[str, list[list[Any]]]:
    return json.loads(gzip.decompress((FIXTURES_DIR / f"event-bytes-v{version}.json.gz").read_bytes()))


def test_a_fixed_scenario_stores_the_bytes_pinned_in_the_newest_fixture(rules, monkeypatch):
    written = scenario_bytes(rules, monkeypatch)
    if target := os.environ.get("HOTLINE_WRITE_EVENT_BYTES"):
        Path(target).write_bytes(gzip.compress(json.dumps(written, ensure_ascii=False).encode(), mtime=0))
        pytest.fail(f"wrote {target}: unset HOTLINE_WRITE_EVENT_BYTES and run again")
    expected = fixture(NEWEST)

    assert len({topic for topic, *_ in written["events"]}) == 31  # every event type written today
    assert written["snapshots"] == expected["snapshots"] == []
    for position, (now, before) in enumerate(itertools.zip_longest(written["events"], expected["events"])):
        assert now == before, f"event {position}: {now and now[0]} is stored differently"


def test_the_earlier_fixtures_differ_only_where_a_change_was_meant(rules, monkeypatch):
    """v1 -> v2: only the clock records time, so the ticket counter's number for a call logged on
    the operator's form is stamped with the moment the case was opened (the earlier code stamped it
    with the clock while the case took the time the caller gave). v2 -> v3: the day's ticket
    counter is a row of the store (issue 18): no ``TicketCounter`` events nor their snapshot; every
    other event the same bytes, in the same order."""
    newest, second, first = fixture(NEWEST), fixture(2), fixture(1)
    assert len(second["events"]) == len(first["events"])
    changed = {before[0] for now, before in zip(second["events"], first["events"], strict=True) if now != before}
    assert changed == {"hotline:TicketCounter.Issued", "hotline:CallReceipt.Received"}
    counters = [e for e in second["events"] if e[0].startswith(COUNTER)]
    assert len(counters) > 100 and len(second["snapshots"]) == 1
    assert newest["events"] == [e for e in second["events"] if not e[0].startswith(COUNTER)]
    mapper = HotlineApplication(rules=rules, env=dict(MEMORY)).mapper
    for topic, originator_id, version, state in first["events"] + counters:  # today's mapper reads them all
        stored = StoredEvent(UUID(originator_id), version, topic, state.encode())
        assert topic == type(mapper.to_domain_event(stored)).TOPIC
