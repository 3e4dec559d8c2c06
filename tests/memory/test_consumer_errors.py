"""How the Kafka consumer treats failures it did not expect (no broker needed: `_handle` only)."""

import threading

from eventsourcing.persistence import IntegrityError, OperationalError

from hotline.application.failures import PERMANENT, TRANSIENT, UNEXPECTED, LostRace, classify
from hotline.domain.errors import ConcurrentUpdate, InvalidInput
from hotline.intake.bus import BusRecord
from hotline.intake.consumer import LONE_FAILURES, IntakeConsumer
from hotline.intake.handlers import Outcome


class FakeIntake:
    """Stands in for the handlers: fails for chosen messages, or for all of them for a while."""

    def __init__(self, poison=(), failures_before_recovery=0, error=RuntimeError):
        self.poison = set(poison)
        self.failures_left = failures_before_recovery
        self.error = error
        self.calls = 0

    def handle(self, records):
        self.calls += 1
        if self.failures_left:
            self.failures_left -= 1
            raise self.error("系统故障")
        if self.poison & {r.value for r in records}:
            raise ValueError("bug met by one message")
        return Outcome(messages=len(records), created=len(records))


def records(*values):
    return [BusRecord("hotline.calls", 0, n, None, v) for n, v in enumerate(values)]


def handle(intake, batch, stop=None):
    consumer = IntakeConsumer("unused:9092", intake)
    return consumer._handle(batch, stop or threading.Event())


def test_a_poison_message_is_dead_lettered_and_the_rest_of_its_batch_processed():
    outcome = handle(FakeIntake(poison={b"bad"}), records(b"a", b"bad", b"b"))
    assert (outcome.messages, outcome.created) == (3, 2)
    assert [(d.record.value, d.code) for d in outcome.dead_letters] == [(b"bad", "processing_error")]


def test_when_every_message_fails_nothing_is_dead_lettered_and_the_batch_is_retried():
    stop = threading.Event()
    stop.wait = lambda pause: False
    intake = FakeIntake(failures_before_recovery=4)  # the batch, each of its messages, the batch again: then it works
    outcome = handle(intake, records(b"a", b"b"), stop)
    assert (outcome.messages, outcome.created, outcome.dead_letters) == (2, 2, [])


def test_a_store_outage_is_retried_until_stopped_without_dead_letters():
    stop = threading.Event()
    waits = []

    def wait(pause):
        waits.append(pause)
        return len(waits) >= 3  # stopped during the third pause

    stop.wait = wait
    assert handle(FakeIntake(failures_before_recovery=100, error=OperationalError), records(b"a"), stop) is None
    assert waits == [0.5, 1.0, 2.0]


def test_a_lone_message_that_keeps_failing_is_dead_lettered_in_the_end():
    stop = threading.Event()
    stop.wait = lambda pause: False
    outcome = handle(FakeIntake(poison={b"bad"}), records(b"bad"), stop)
    assert [d.record.value for d in outcome.dead_letters] == [b"bad"]
    assert LONE_FAILURES > 1


def test_a_transient_failure_of_a_lone_message_is_never_dead_lettered():
    """A lost race (or a lock timeout, a store outage) may succeed later: retried past the point
    where an unexpected error would be dead-lettered, the batch uncommitted, until it succeeds."""
    stop = threading.Event()
    stop.wait = lambda pause: False
    intake = FakeIntake(failures_before_recovery=LONE_FAILURES * 3, error=LostRace)
    outcome = handle(intake, records(b"a"), stop)
    assert (outcome.messages, outcome.created, outcome.dead_letters) == (1, 1, [])
    assert intake.calls == LONE_FAILURES * 3 + 1  # never narrowed down: the batch as it is, again


def test_failures_are_classified_in_one_place():
    assert classify(LostRace()) == classify(OperationalError("lock timeout")) == TRANSIENT
    assert classify(IntegrityError("duplicate key")) == TRANSIENT  # a race that escaped a command
    assert classify(ConcurrentUpdate()) == classify(InvalidInput("未知服务事项代码：x")) == PERMANENT
    assert classify(ValueError("a bug")) == UNEXPECTED
