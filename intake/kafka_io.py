"""Thin factories over kafka-python (>= 3.0) for the intake pipeline.

Keys and values are raw ``bytes`` everywhere (no serializers): callers encode.

Choices (docs/messages.md, "The test broker", says why):

* Producer: ``acks="all"``, **not idempotent** -- an idempotent producer keeps
  failing after a Tansu broker restart. Without idempotence, retries could
  reorder batches, so ``max_in_flight_requests_per_connection=1`` keeps the
  per-partition order; duplicates on retry are possible and are handled
  downstream (at-least-once, idempotency by call id).
* Consumer: manual commits only (``enable_auto_commit=False``),
  ``auto_offset_reset="earliest"`` ("latest" is broken with Tansu), short
  session/heartbeat so group joins take ~3 s instead of ~20 s.
* Both ask not to auto-create topics (``allow_auto_create_topics=False``):
  topics are made by :func:`ensure_topics` with the intended partition count.
  A real Kafka honours that; **Tansu 0.6.0 ignores it** and auto-creates a
  1-partition topic on the first metadata request for an unknown name (from a
  producer or a consumer). So with Tansu, call :func:`ensure_topics` before
  any client touches a topic -- including after a broker restart, which loses
  all topics.

Every factory takes ``**overrides`` that are passed straight to kafka-python
(unknown names raise ``KafkaConfigurationError`` there).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import kafka.errors as Errors
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "ensure_topics",
    "make_admin",
    "make_consumer",
    "make_producer",
    "wait_for_broker",
]

log = logging.getLogger(__name__)

# Reconnect quickly after a broker restart instead of backing off up to 30 s.
_CLIENT_DEFAULTS: dict = {
    "reconnect_backoff_ms": 50,
    "reconnect_backoff_max_ms": 1000,
    "bootstrap_timeout_ms": 10_000,
}

PRODUCER_DEFAULTS: dict = {
    **_CLIENT_DEFAULTS,
    "acks": "all",
    "enable_idempotence": False,
    "retries": 2_147_483_647,  # bounded by delivery_timeout_ms, like the Java client
    "retry_backoff_ms": 100,
    "max_in_flight_requests_per_connection": 1,  # keep order despite retries
    "linger_ms": 5,
    "batch_size": 64 * 1024,
    "request_timeout_ms": 10_000,
    "delivery_timeout_ms": 30_000,  # must be >= request_timeout_ms + linger_ms
    "max_block_ms": 10_000,  # send() blocking on metadata (e.g. topic missing)
    "allow_auto_create_topics": False,
}

CONSUMER_DEFAULTS: dict = {
    **_CLIENT_DEFAULTS,
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    "max_poll_records": 500,
    "allow_auto_create_topics": False,
}


def _servers(bootstrap: str | Iterable[str]) -> str | list[str]:
    return bootstrap if isinstance(bootstrap, str) else list(bootstrap)


def make_producer(bootstrap: str | Iterable[str], **overrides) -> KafkaProducer:
    """A ``KafkaProducer`` for bytes keys/values with the defaults above.

    ``producer.send(topic, value=b"...", key=b"...")`` returns a future;
    ``.get(timeout)`` or ``producer.flush()`` before committing anything that
    depends on the write. Connects eagerly (raises ``NoBrokersAvailable`` /
    ``KafkaTimeoutError`` after ``bootstrap_timeout_ms`` if the broker is down).
    """
    config = {**PRODUCER_DEFAULTS, **overrides}
    return KafkaProducer(bootstrap_servers=_servers(bootstrap), **config)


def make_consumer(
    bootstrap: str | Iterable[str],
    group_id: str | None,
    topics: str | Iterable[str] | None,
    *,
    max_poll_records: int = CONSUMER_DEFAULTS["max_poll_records"],
    **overrides,
) -> KafkaConsumer:
    """A group ``KafkaConsumer`` subscribed to ``topics`` (bytes keys/values).

    Commit manually with ``consumer.commit()`` / ``consumer.commit(offsets)``
    once results are stored. ``topics`` may be one name, several, or
    ``None``/empty to subscribe or ``assign()`` later.
    """
    if isinstance(topics, str):
        topic_list = [topics]
    else:
        topic_list = list(topics or ())
    config = {**CONSUMER_DEFAULTS, "max_poll_records": max_poll_records, **overrides}
    return KafkaConsumer(*topic_list, bootstrap_servers=_servers(bootstrap), group_id=group_id, **config)


def make_admin(bootstrap: str | Iterable[str], **overrides) -> KafkaAdminClient:
    """A ``KafkaAdminClient`` (close it, or use it as a context manager)."""
    config = {**_CLIENT_DEFAULTS, "request_timeout_ms": 10_000, **overrides}
    return KafkaAdminClient(bootstrap_servers=_servers(bootstrap), **config)


def ensure_topics(
    bootstrap: str | Iterable[str],
    topics: Mapping[str, int],
    *,
    replication_factor: int = -1,
    timeout: float = 15.0,
) -> list[str]:
    """Create the topics in ``{name: partitions}`` that do not exist yet.

    Idempotent and safe against concurrent creators (``TopicAlreadyExists`` is
    ignored). Existing topics are left as they are, even with a different
    partition count (a warning is logged). ``replication_factor=-1`` means the
    broker default. Waits until every topic has a leader for each partition.
    Returns the names actually created.
    """
    if not topics:
        return []
    for name, partitions in topics.items():
        if not isinstance(partitions, int) or partitions < 1:
            raise ValueError(f"topic {name!r}: partitions must be a positive int, got {partitions!r}")
    timeout_ms = int(timeout * 1000)
    with make_admin(bootstrap, bootstrap_timeout_ms=timeout_ms) as admin:
        existing = {
            t["name"]: len(t.get("partitions") or ())
            for t in admin.describe_topics(None)
            if t.get("error_code", 0) == 0
        }
        for name, partitions in topics.items():
            if name in existing and existing[name] != partitions:
                log.warning(
                    "topic %s exists with %d partitions (wanted %d); left unchanged", name, existing[name], partitions
                )
        missing = {
            name: {"num_partitions": n, "replication_factor": replication_factor}
            for name, n in topics.items()
            if name not in existing
        }
        created: list[str] = []
        if missing:
            response = admin.create_topics(missing, timeout_ms=timeout_ms, raise_errors=False)
            for result in response["topics"]:
                error = Errors.for_code(result["error_code"])
                if error is Errors.NoError:
                    created.append(result["name"])
                elif error is not Errors.TopicAlreadyExistsError:
                    raise error(f"creating topic {result['name']!r}: {result.get('error_message')}")
        admin.wait_for_topics(list(topics), timeout_ms=timeout_ms)
    if created:
        log.info("created topics %s", ", ".join(sorted(created)))
    return created


def wait_for_broker(bootstrap: str | Iterable[str], timeout: float = 30.0) -> None:
    """Block until the broker answers a metadata request; ``TimeoutError`` otherwise."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"Kafka broker {bootstrap!r} not reachable within {timeout:.1f}s: {last_error!r}")
        try:
            admin = make_admin(
                bootstrap,
                bootstrap_timeout_ms=max(100, int(remaining * 1000)),
                request_timeout_ms=max(100, min(10_000, int(remaining * 1000))),
            )
            try:
                admin.list_topics()
                return
            finally:
                admin.close()
        except Exception as exc:  # NoBrokersAvailable, KafkaTimeoutError, connection errors
            last_error = exc
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
