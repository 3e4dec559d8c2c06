"""The intake pipeline end to end: `hotline consume` processes against the Tansu broker.

Each test has its own topic prefix on the session broker and its own store (SQLite file or
PostgreSQL schema, from the `services` fixture); consumers are real subprocesses.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kafka import TopicPartition

from hotline.application import SystemClock
from hotline.domain.case import Case
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo import DemoCalls
from hotline.intake.consumer import send_all
from hotline.intake.kafka_io import ensure_topics, make_consumer, make_producer
from hotline.intake.messages import DLQ_CODE, DLQ_REASON, Outgoing, Topics, encode
from tests.support.department_keys import department_key
from tests.support.paths import PROJECT_DIR

pytestmark = pytest.mark.kafka

DEADLINE = 90.0  # seconds for a pipeline to drain; normally a few


class Consumer:
    """One `hotline consume` process (python -m hotline.entrypoints.cli) with its log in a file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline.entrypoints.cli", "consume", "--log-every", "0.5", *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def assigned_partitions(self, topic: str) -> set[int]:
        """Partitions of `topic` in the latest assignment the process logged."""
        lines = [line for line in self.text().splitlines() if "分配到分区" in line]
        if not lines:
            return set()
        return {
            int(name.rsplit("/", 1)[1])
            for name in lines[-1].split("[")[1].rstrip("]").split()
            if name.rsplit("/", 1)[0] == topic
        }

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"consumer did not stop on SIGTERM:\n{self.text()[-3000:]}") from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def pipeline(services, kafka_broker, tmp_path):
    """Consumer processes on this test's store (SQLite, then PostgreSQL) and topics."""
    yield from _pipeline(services, kafka_broker, tmp_path)


@pytest.fixture
def sqlite_pipeline(sqlite_services, kafka_broker, tmp_path):
    yield from _pipeline(sqlite_services, kafka_broker, tmp_path)


def _pipeline(services, kafka_broker, tmp_path):
    """Environment for consumer processes on this store and fresh topics; stops them afterwards."""
    topics = Topics(f"t{uuid.uuid4().hex[:8]}.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_KAFKA_BOOTSTRAP=kafka_broker.bootstrap, HOTLINE_DATA_DIR=str(services.config.data_dir))
    if services.config.database_url:
        env["HOTLINE_DATABASE_URL"] = services.config.database_url
    started: list[Consumer] = []

    class Pipeline:
        bootstrap = kafka_broker.bootstrap
        app = services.app

        def __init__(self):
            self.topics = topics

        def create_topics(self, partitions: int) -> None:
            ensure_topics(self.bootstrap, topics.partitions(partitions))

        def consumer(self, name: str, *args: str) -> Consumer:
            # A group of its own: members of other tests' groups (some killed) never join this one.
            process = Consumer(
                env,
                tmp_path / f"{name}.log",
                "--topic-prefix",
                topics.prefix,
                "--group",
                f"{topics.prefix}intake",
                *args,
            )
            started.append(process)
            return process

        def produce(self, messages: list[Outgoing]) -> None:
            producer = make_producer(self.bootstrap)
            try:
                send_all(producer, messages)
            finally:
                producer.close(timeout=10)

        def opened_call_ids(self) -> list[str]:
            notes = self.app.recorder.select_notifications(None, 1_000_000, topics=[Case.Opened.TOPIC])
            return [self.app.mapper.to_domain_event(n).call_id for n in notes]

        def read_topic(self, topic: str, partitions: int) -> list:
            consumer = make_consumer(self.bootstrap, None, None)
            try:
                consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
                consumer.seek_to_beginning()
                records, quiet_since = [], time.monotonic()
                while time.monotonic() - quiet_since < 1.0:
                    batch = [r for rs in consumer.poll(timeout_ms=200).values() for r in rs]
                    if batch:
                        records.extend(batch)
                        quiet_since = time.monotonic()
                return records
            finally:
                consumer.close()

        def wait_for(self, what: str, condition, processes: list[Consumer]) -> None:
            deadline = time.monotonic() + DEADLINE
            while not condition():
                for process in processes:
                    assert process.process.poll() is None, f"consumer exited early:\n{process.text()[-3000:]}"
                if time.monotonic() > deadline:
                    logs = "\n".join(p.text()[-2000:] for p in processes)
                    raise AssertionError(f"timed out waiting for {what}\n{logs}")
                time.sleep(0.1)

    yield Pipeline()
    for process in started:
        process.kill()


def demo_messages(topic: str, count: int, seed: int, *, invalid=0.06, duplicates=0.08, scatter_keys=False):
    generated = DemoCalls(SystemClock().now(), seed=seed).messages(count, invalid, duplicates)
    rng = random.Random(seed)
    outgoing = [
        # Scattered keys put a call's duplicates on other partitions, so that two consumers race for it.
        Outgoing(topic, str(rng.random()).encode() if scatter_keys else m.key, m.value)
        for m in generated
    ]
    valid = {m.call_id for m in generated if m.call_id}
    invalid_values = [m.value for m in generated if m.call_id is None]
    assert sum(m.repeat for m in generated) > 0 and invalid_values  # the test has work to do
    return outgoing, valid, invalid_values


def department_action(topic: str, case, action: str, headers=(), **fields) -> Outgoing:
    body = {
        "schema": "hotline.reply/1",
        "action_id": f"{action}-{case.ticket_no}",
        "ticket_no": case.ticket_no,
        "action": action,
        "department": case.department,
        "at": datetime.now(CHINA_TZ).isoformat(),
        **fields,
    }
    return Outgoing(topic, case.ticket_no.encode(), encode(body), headers)


def test_a_thousand_calls_make_one_case_each_and_the_invalid_ones_go_to_the_dlq(pipeline):
    topics = pipeline.topics
    pipeline.create_topics(3)
    messages, valid, invalid = demo_messages(topics.calls, 1000, seed=4)
    pipeline.produce(messages)
    consumer = pipeline.consumer("c1", "--batch-size", "200")

    pipeline.wait_for("every valid call as a case", lambda: len(pipeline.opened_call_ids()) >= len(valid), [consumer])

    # A department's system signs one routed case and replies to another it never signed; it signs
    # a third "on 2000-01-01", before the case existed, and a fourth a day in the future.
    # A fifth sends no key: only the department's own system, with its key, acts in its name.
    first, second, third, fourth, fifth = [c for c in pipeline.app.all_cases() if c.department][:5]
    keys = {c.department: department_key(pipeline.app, c.department) for c in (first, second, third, fourth)}
    tomorrow = (datetime.now(CHINA_TZ) + timedelta(days=1)).isoformat()
    pipeline.produce(
        [
            department_action(topics.replies, first, "sign", keys[first.department]),
            department_action(topics.replies, second, "reply", keys[second.department], result="已处理", resolved=True),
            department_action(topics.replies, third, "sign", keys[third.department], at="2000-01-01T09:00:00+08:00"),
            department_action(topics.replies, fourth, "sign", keys[fourth.department], at=tomorrow),
            department_action(topics.replies, fifth, "sign"),
        ]
    )
    pipeline.wait_for("the signature", lambda: pipeline.app.get_case(first.ticket_no).status == "signed", [consumer])
    pipeline.wait_for("the dead letters", lambda: len(pipeline.read_topic(topics.replies_dlq, 1)) == 4, [consumer])
    assert consumer.stop() == 0  # dead letters are acknowledged before the batch is committed
    # The replies come from 3 partitions: their dead letters in any order, each keyed by its case.
    refused = {r.key.decode(): dict(r.headers) for r in pipeline.read_topic(topics.replies_dlq, 1)}
    assert set(refused) == {c.ticket_no for c in (second, third, fourth, fifth)}
    codes = {ticket: headers[DLQ_CODE] for ticket, headers in refused.items()}
    assert [codes[c.ticket_no] for c in (second, third, fourth, fifth)] == [
        b"refused",
        b"implausible_time",
        b"implausible_time",
        b"unauthenticated",
    ]
    assert "尚未签收" in refused[second.ticket_no][DLQ_REASON].decode()
    assert "早于该工单上一步的时间" in refused[third.ticket_no][DLQ_REASON].decode()
    assert "晚于系统当前时间" in refused[fourth.ticket_no][DLQ_REASON].decode()
    assert "缺少有效的承办单位接口密钥" in refused[fifth.ticket_no][DLQ_REASON].decode()
    for case in (second, third, fourth, fifth):
        assert pipeline.app.get_case(case.ticket_no).status == "dispatched"
    assert "已停止" in consumer.text()

    opened = pipeline.opened_call_ids()
    assert len(opened) == len(set(opened)) == len(valid) and set(opened) == valid
    dead = pipeline.read_topic(topics.calls_dlq, 1)
    assert sorted(r.value for r in dead) == sorted(invalid)  # exactly the invalid ones, original bytes
    assert all(dict(r.headers)[DLQ_REASON].decode() for r in dead)
    assert b"unknown_service" not in {dict(r.headers)[DLQ_CODE] for r in dead}
    # A service or category the catalogue lacks made a case all the same: 待分类, for the dispatch centre.
    held = [c for c in pipeline.app.all_cases() if c.status == "unclassified"]
    assert held and all(c.call_id in valid and c.unclassified and c.department is None for c in held)

    # Every routed case went out on hotline.dispatch once, keyed by its department.
    dispatched = [(r.key.decode(), json.loads(r.value)) for r in pipeline.read_topic(topics.dispatch, 3)]
    routed = [c for c in pipeline.app.all_cases() if c.department]
    assert routed and Counter(body["ticket_no"] for _, body in dispatched) == Counter(c.ticket_no for c in routed)
    assert all(key == body["department"] for key, body in dispatched)


def test_a_consumer_killed_mid_stream_loses_and_doubles_nothing(sqlite_pipeline):
    pipeline = sqlite_pipeline
    topics = pipeline.topics
    pipeline.create_topics(3)
    messages, valid, _ = demo_messages(topics.calls, 2000, seed=7)
    pipeline.produce(messages)

    first = pipeline.consumer("first", "--batch-size", "50", "--no-dispatch")
    pipeline.wait_for("the first cases", lambda: len(pipeline.opened_call_ids()) >= 100, [first])
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    at_kill = len(pipeline.opened_call_ids())
    assert at_kill < len(valid), "the consumer finished before it was killed: nothing was tested"

    second = pipeline.consumer("second", "--batch-size", "50", "--no-dispatch")
    pipeline.wait_for("every valid call as a case", lambda: len(pipeline.opened_call_ids()) >= len(valid), [second])
    assert second.stop() == 0
    opened = pipeline.opened_call_ids()
    assert len(opened) == len(set(opened)) == len(valid) and set(opened) == valid
    tickets = [c.ticket_no for c in pipeline.app.all_cases()]
    assert len(tickets) == len(set(tickets))


def test_two_consumers_in_one_group_share_the_partitions_and_create_each_case_once(pipeline):
    topics = pipeline.topics
    pipeline.create_topics(4)
    a = pipeline.consumer("a", "--batch-size", "50", "--no-dispatch")
    b = pipeline.consumer("b", "--batch-size", "50", "--no-dispatch")

    def balanced() -> bool:
        mine, theirs = a.assigned_partitions(topics.calls), b.assigned_partitions(topics.calls)
        return len(mine) == 2 and len(theirs) == 2 and not mine & theirs

    pipeline.wait_for("both consumers to get two partitions", balanced, [a, b])
    messages, valid, _ = demo_messages(topics.calls, 1200, seed=11, duplicates=0.25, scatter_keys=True)
    pipeline.produce(messages)
    pipeline.wait_for("every valid call as a case", lambda: len(pipeline.opened_call_ids()) >= len(valid), [a, b])
    assert a.stop() == 0 and b.stop() == 0

    opened = pipeline.opened_call_ids()
    assert len(opened) == len(set(opened)) == len(valid) and set(opened) == valid
    for process in (a, b):
        final = [line for line in process.text().splitlines() if "已停止" in line][-1]
        assert int(final.split("messages=")[1].split()[0]) > 0, "one consumer got no work"
