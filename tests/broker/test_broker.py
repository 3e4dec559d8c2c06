"""The Kafka plumbing against the Tansu dev broker: tests.support.broker + intake.kafka_io."""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict

import pytest
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from hotline.intake.kafka_io import (
    ensure_topics,
    make_admin,
    make_consumer,
    make_producer,
    wait_for_broker,
)
from tests.support import broker as devbroker
from tests.support.broker import BrokerStartError, TansuBroker

pytestmark = pytest.mark.kafka

# seconds; a group join takes ~3 s with the default settings, a rebalance of two members
# several times that on a loaded 2-core machine: the bound only stops a hung test.
POLL_DEADLINE = 90.0


def poll_until(consumers, done, timeout=POLL_DEADLINE):
    """Poll every consumer in turn until ``done(records)``; returns the records."""
    records = []
    deadline = time.monotonic() + timeout
    while not done(records):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s with {len(records)} records")
        for consumer in consumers:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend((consumer, r) for r in batch)
    return records


def produce(bootstrap, topic, items, **overrides):
    producer = make_producer(bootstrap, **overrides)
    try:
        futures = [producer.send(topic, value=v, key=k) for k, v in items]
        producer.flush(timeout=10)
        return [f.get(timeout=10) for f in futures]
    finally:
        producer.close(timeout=5)


def test_round_trip_with_keys(kafka_broker, kafka_topics):
    topic = kafka_topics("calls", partitions=3)
    items = [(f"case-{i % 5}".encode(), f"event-{i}".encode()) for i in range(30)]
    metadata = produce(kafka_broker.bootstrap, topic, items)
    assert {m.topic for m in metadata} == {topic}

    consumer = make_consumer(kafka_broker.bootstrap, "g-roundtrip", topic)
    try:
        got = [r for _, r in poll_until([consumer], lambda rs: len(rs) >= len(items))]
    finally:
        consumer.close()

    assert sorted((r.key, r.value) for r in got) == sorted(items)
    assert all(isinstance(r.key, bytes) and isinstance(r.value, bytes) for r in got)
    by_key = defaultdict(list)
    for r in got:
        by_key[r.key].append(r)
    for key, records in by_key.items():
        assert len({r.partition for r in records}) == 1, f"{key!r} spread over partitions"
        sent_order = [v for k, v in items if k == key]
        assert [r.value for r in records] == sent_order  # per-key order kept


def poll_in_threads(consumers, done, timeout=POLL_DEADLINE):
    """Poll each consumer in a thread of its own, as separate processes would, until ``done(records)``.

    One thread polling both in turn can stall a rebalance: the first consumer's poll waits in the
    group join for the second, which cannot join while the same thread is blocked.
    """
    records, lock, stop = [], threading.Lock(), threading.Event()

    def run(consumer):
        while not stop.is_set():
            for batch in consumer.poll(timeout_ms=200).values():
                with lock:
                    records.extend((consumer, r) for r in batch)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in consumers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            with lock:
                if done(list(records)):
                    return list(records)
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s with {len(records)} records")
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def test_two_consumers_in_a_group_share_partitions(kafka_broker, kafka_topics):
    topic = kafka_topics("shared", partitions=4)
    group = f"g-shared-{topic}"
    c1 = make_consumer(kafka_broker.bootstrap, group, topic)
    c2 = make_consumer(kafka_broker.bootstrap, group, topic)
    try:

        def balanced(_records):
            a1, a2 = c1.assignment(), c2.assignment()
            return len(a1) == 2 and len(a2) == 2 and not (a1 & a2)

        poll_in_threads([c1, c2], balanced)
        assert c1.assignment() | c2.assignment() == {TopicPartition(topic, p) for p in range(4)}

        items = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(40)]
        produce(kafka_broker.bootstrap, topic, items)
        got = poll_in_threads([c1, c2], lambda rs: len(rs) >= len(items))
        assert sorted((r.key, r.value) for _, r in got) == sorted(items)  # no duplicates
        for consumer, record in got:
            assert TopicPartition(topic, record.partition) in consumer.assignment()
        assert {c for c, _ in got} == {c1, c2}  # 40 keys over 4 partitions: both get work
    finally:
        c1.close()
        c2.close()


def test_manual_commit_then_resume_after_restart_of_consumer(kafka_broker, kafka_topics):
    topic = kafka_topics("resume", partitions=1)
    tp = TopicPartition(topic, 0)
    group = "g-resume"
    produce(kafka_broker.bootstrap, topic, [(b"k", f"v{i}".encode()) for i in range(10)])

    first = make_consumer(kafka_broker.bootstrap, group, topic, max_poll_records=3)
    try:
        got = [r for _, r in poll_until([first], lambda rs: len(rs) >= 6)]
        assert [r.offset for r in got] == list(range(len(got)))
        # "processed" the first 6 only: commit the next offset to read
        first.commit({tp: OffsetAndMetadata(6, "", -1)})
        assert first.committed(tp) == 6
    finally:
        first.close()  # enable_auto_commit=False: closing commits nothing more

    second = make_consumer(kafka_broker.bootstrap, group, topic)
    try:
        rest = [r for _, r in poll_until([second], lambda rs: len(rs) >= 4)]
        assert [(r.offset, r.value) for r in rest] == [(i, f"v{i}".encode()) for i in range(6, 10)]
        assert second.committed(tp) == 6  # nothing committed implicitly
        second.commit()
        assert second.committed(tp) == 10
    finally:
        second.close()


def test_broker_restart_then_a_new_producer_works():
    # A private broker: restarting the session broker would drop every topic.
    with TansuBroker() as broker:
        bootstrap = broker.bootstrap
        assert ensure_topics(bootstrap, {"restart-me": 2}) == ["restart-me"]
        produce(bootstrap, "restart-me", [(b"k", b"before")])
        old_pid = broker.pid

        broker.restart()
        assert broker.bootstrap == bootstrap and broker.pid != old_pid
        wait_for_broker(bootstrap, timeout=10)
        with make_admin(bootstrap) as admin:
            assert "restart-me" not in admin.list_topics()  # memory storage: topics are lost
        assert ensure_topics(bootstrap, {"restart-me": 2}) == ["restart-me"]

        produce(bootstrap, "restart-me", [(b"k", b"after")])
        consumer = make_consumer(bootstrap, None, None)
        try:
            consumer.assign([TopicPartition("restart-me", p) for p in range(2)])
            got = [r for _, r in poll_until([consumer], lambda rs: len(rs) >= 1, timeout=10)]
        finally:
            consumer.close()
        assert [(r.key, r.value) for r in got] == [(b"k", b"after")]
    assert not broker.is_running()


def test_ensure_topics_is_idempotent(kafka_broker, kafka_topics):
    a = kafka_topics("a", create=False)
    b = kafka_topics("b", create=False)
    assert sorted(ensure_topics(kafka_broker.bootstrap, {a: 3, b: 1})) == sorted([a, b])
    assert ensure_topics(kafka_broker.bootstrap, {a: 3, b: 1}) == []
    with make_admin(kafka_broker.bootstrap) as admin:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([a, b])}
    assert described == {a: 3, b: 1}


def test_wait_for_broker_times_out_with_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="not reachable"):
            wait_for_broker(f"127.0.0.1:{port}", timeout=1.0)
        assert time.monotonic() - started < 5


def test_port_clash_is_retried_on_another_port(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        clash = taken.getsockname()[1]

        # fixed port that is taken: Tansu exits 0 without "ready in" -> clear error
        failing = TansuBroker(port=clash, max_attempts=2)
        try:
            with pytest.raises(BrokerStartError, match="port in use") as info:
                failing.start()
        finally:
            failing.close()
        assert "AddrInUse" in str(info.value)  # the log tail is in the message
        assert not failing.is_running()

        # free port picked, but someone grabs it first: retried on another one
        ports = iter([clash])
        real_free_port = devbroker._free_port
        monkeypatch.setattr(devbroker, "_free_port", lambda *a: next(ports, None) or real_free_port())
        with TansuBroker() as broker:
            assert broker.port != clash
            assert broker.is_running()
            wait_for_broker(broker.bootstrap, timeout=5)
