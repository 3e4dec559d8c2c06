"""The in-memory tier: the application on the eventsourcing library's in-memory store (no files,
no server), on a simulated clock. Fast checks of the rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.application import HotlineApplication, SimulatedClock
from hotline.domain.workdays import CHINA_TZ

# The library's, with ticket rows and the cases' personal-data keys (infra/store/personal_keys.py).
MEMORY = {
    "PERSISTENCE_MODULE": "hotline.infra.store.memory",
    "MAPPER_TOPIC": "hotline.infra.store.personal_keys:SealingMapper",
}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ))


@pytest.fixture
def app(rules, clock) -> HotlineApplication:
    return HotlineApplication(rules=rules, env=dict(MEMORY), clock=clock)
