"""Intake scaled out (issue 18): several `hotline consume` processes in one group on one day's
calls, one of them killed with SIGKILL and started again mid-run. Every valid call is exactly one
case, the day's ticket numbers are 1..N without a gap or a repeat, and the dead-letter topic holds
exactly the messages that cannot be a case (no valid call is ever dead-lettered: a lost race is
retried; a call whose service code or category the catalogue lacks is a case too, 待分类)."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from hotline.application.clock import SystemClock
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DemoCalls
from hotline.intake.messages import DLQ_CODE, Outgoing
from tests.broker.test_intake_pipeline import Consumer, _pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DRAIN = 900.0  # seconds; a few minutes on a busy 2-core machine
MESSAGES = 11_600  # about 10,700 distinct calls (some 90 of them 待分类), 580 repeats, 260 invalid


@pytest.fixture
def sqlite_pipeline(sqlite_services, kafka_broker, tmp_path):
    yield from _pipeline(sqlite_services, kafka_broker, tmp_path)


@pytest.fixture
def pg_pipeline(pg_schema, kafka_broker, tmp_path):
    services = bootstrap(Config(database_url=pg_schema, data_dir=tmp_path))
    try:
        yield from _pipeline(services, kafka_broker, tmp_path)
    finally:
        services.close()


def one_day_of_calls(topic: str, seed: int):
    """Calls of one day; a repeat keeps its call id but gets another key, so that another partition
    (another consumer) receives it and the two race for it."""
    # received in the 3 hours before now: the consumers record them on the server's clock, which
    # refuses a reported time far in the past (rules/time_plausibility.toml)
    generated = DemoCalls(SystemClock().now(), seed=seed).messages(MESSAGES, invalid_ratio=0.03, duplicate_ratio=0.05)
    outgoing = [
        Outgoing(topic, f"again-{n}".encode() if m.repeat else m.key or f"bad-{n}".encode(), m.value)
        for n, m in enumerate(generated)
    ]
    valid = {m.call_id for m in generated if m.call_id}
    invalid = Counter(m.value for m in generated if m.call_id is None)
    assert len(valid) >= 10_000 and sum(m.repeat for m in generated) > 300 and invalid
    return outgoing, valid, invalid


def wait_for(what: str, condition, processes: list[Consumer], deadline: float = DRAIN) -> None:
    give_up = time.monotonic() + deadline
    while not condition():
        for process in processes:
            assert process.process.poll() is None, f"consumer exited early:\n{process.text()[-3000:]}"
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(p.text()[-2000:] for p in processes))
        time.sleep(0.5)


def run_with_a_kill(pipeline, consumers: int, partitions: int, seed: int) -> dict[str, object]:
    topics = pipeline.topics
    pipeline.create_topics(partitions)
    names = [chr(ord("a") + n) for n in range(consumers)]
    running = {name: pipeline.consumer(name, "--no-dispatch") for name in names}
    wait_for(
        "every consumer to hold partitions",
        lambda: all(running[n].assigned_partitions(topics.calls) for n in names),
        list(running.values()),
        deadline=120,
    )
    messages, valid, invalid = one_day_of_calls(topics.calls, seed)
    pipeline.produce(messages)

    def cases() -> int:
        return sum(pipeline.app.recorder.select_last_numbers().values())  # a run may cross midnight

    wait_for("the first thousand cases", lambda: cases() >= 1000, list(running.values()))
    victim = running.pop(names[-1])
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    at_kill = cases()
    assert at_kill < len(valid), "the run finished before the kill: nothing was tested"
    restarted = running[f"{names[-1]}2"] = pipeline.consumer(f"{names[-1]}2", "--no-dispatch")
    # and the restarted one back in the group: a consumer stopped while it starts has not yet
    # taken over SIGTERM (it has stored nothing then, but the clean exit below expects it to run)
    wait_for(
        "every valid call as a case, the restarted consumer in the group",
        lambda: cases() >= len(valid) and bool(restarted.assigned_partitions(topics.calls)),
        list(running.values()),
    )
    dead = pipeline.read_topic(topics.calls_dlq, 1)
    for process in running.values():  # all at once: stopped one by one, each stop is a rebalance
        process.process.send_signal(signal.SIGTERM)
    for process in running.values():
        assert process.process.wait(timeout=120) == 0, process.text()[-3000:]

    opened = pipeline.opened_call_ids()
    assert len(opened) == len(set(opened)) == len(valid) and set(opened) == valid  # one case per call
    tickets = sorted(case.ticket_no for case in pipeline.app.all_cases())
    days = Counter(ticket.split("-")[0] for ticket in tickets)
    expected = sorted(f"{day}-{n:06d}" for day, count in days.items() for n in range(1, count + 1))
    assert len(tickets) == len(valid) and tickets == expected  # each day 1..N, no gap, no repeat
    codes = Counter(dict(r.headers)[DLQ_CODE].decode() for r in dead)
    assert "refused" not in codes and "processing_error" not in codes, codes
    assert "unknown_service" not in codes and "unknown_code" not in codes, codes  # 待分类, not dead
    assert set(Counter(r.value for r in dead)) == set(invalid)  # exactly the invalid ones (a crash may repeat one)
    logs = "\n".join(p.text() for p in running.values())
    return {
        "valid": len(valid),
        "invalid": sum(invalid.values()),
        "dead_letters": len(dead),
        "at_kill": at_kill,
        "codes": dict(codes),
        "retries": logs.count("暂时性故障"),
    }


def test_three_consumers_on_postgresql_one_killed_and_restarted(pg_pipeline, capsys):
    figures = run_with_a_kill(pg_pipeline, consumers=3, partitions=6, seed=18)
    with capsys.disabled():
        print(f"\nPostgreSQL, 3 consumers: {figures}")


def test_two_consumers_on_sqlite_one_killed_and_restarted(sqlite_pipeline, capsys):
    figures = run_with_a_kill(sqlite_pipeline, consumers=2, partitions=6, seed=19)
    with capsys.disabled():
        print(f"\nSQLite, 2 consumers: {figures}")
