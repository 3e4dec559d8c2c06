"""Stored events are forever: the same facts are stored as the same bytes as before.

``tests/fixtures/event_scenario.py`` runs a fixed scenario that reaches every event type (and a
ticket-counter snapshot); ``event-bytes-v1.json.gz`` holds the plaintext state of each event as
the code before the package restructure stored it. Today's code must store exactly those bytes:
a renamed field, a reordered one or a changed topic fails here. A deliberate change of an event's
shape needs an upcaster and a new fixture, never an edit of this one.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from datetime import datetime

from eventsourcing.domain import DomainEvent

from hotline.application import HotlineApplication, SimulatedClock
from tests.fixtures import event_scenario
from tests.memory.conftest import MEMORY
from tests.support.paths import FIXTURES_DIR


def deterministic_hash(password: str) -> str:
    return "$argon2id$v=19$fixed$" + hashlib.sha256(password.encode()).hexdigest()


def test_a_fixed_scenario_stores_the_bytes_the_earlier_code_stored(rules, monkeypatch):
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
    snapshots = [
        [s.topic, str(s.originator_id), s.originator_version, s.state.decode("utf-8")]
        for n in app.recorder.select_notifications(0, 100_000, topics=["hotline:TicketCounter.Started"])
        for s in app.snapshots.recorder.select_events(n.originator_id)
    ]
    expected = json.loads(gzip.decompress((FIXTURES_DIR / "event-bytes-v1.json.gz").read_bytes()))

    assert len({topic for topic, *_ in stored}) == 33  # every event type the system has
    assert snapshots == expected["snapshots"] and len(snapshots) == 1
    for position, (now, before) in enumerate(itertools.zip_longest(stored, expected["events"])):
        assert now == before, f"event {position}: {now and now[0]} is stored differently"
