"""The Kafka intake consumer: ``hotline.calls`` and ``hotline.replies`` into the event store.

At-least-once: a polled batch is handled (one transaction for its calls), its dead letters are
published and acknowledged, and only then are its offsets committed. A crash anywhere before the
commit redelivers the batch; idempotency by call id (and by action for replies) makes that
harmless. Bad input never stops the loop: it becomes a dead letter. A failure that may succeed
later (application/failures.py: a lost race, a lock timeout, an unavailable store) is never a
dead letter: the batch is retried with growing pauses, uncommitted, for as long as it takes, and
every retry logs the lag. ``stop`` (SIGTERM in ``hotline consume``)
finishes the batch in hand, commits and closes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kafka import ConsumerRebalanceListener, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from hotline.application.failures import TRANSIENT, classify
from hotline.intake.handlers import DeadLetter, Intake, Outcome
from hotline.intake.kafka_io import make_consumer, make_producer
from hotline.intake.messages import Outgoing

log = logging.getLogger(__name__)

ACK_TIMEOUT = 30.0  # seconds to wait for the broker to acknowledge dead letters or dispatch messages
MAX_STORE_PAUSE = 30.0
LONE_FAILURES = 5  # attempts before a lone failing message is dead-lettered


def send_all(producer: KafkaProducer, messages: Sequence[Outgoing]) -> None:
    """Publish and wait for every acknowledgement; raises if any message was not stored."""
    futures = [producer.send(m.topic, value=m.value, key=m.key, headers=list(m.headers) or None) for m in messages]
    if futures:
        producer.flush(timeout=ACK_TIMEOUT)
    for future in futures:
        future.get(timeout=ACK_TIMEOUT)


@dataclass
class Progress:
    """Running totals and the periodic throughput/lag log line."""

    name: str
    every: float = 10.0
    messages: int = 0
    created: int = 0
    routed: int = 0
    manual: int = 0
    repeats: int = 0
    applied: int = 0
    dead: int = 0
    started: float = field(default_factory=time.monotonic)
    _last_time: float = field(default_factory=time.monotonic)
    _last_count: int = 0

    def add(self, outcome: Outcome) -> None:
        for name in ("messages", "created", "routed", "manual", "repeats", "applied"):
            setattr(self, name, getattr(self, name) + getattr(outcome, name))
        self.dead += len(outcome.dead_letters)

    def line(self, lag: int | None = None) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"{self.name}: messages={self.messages} created={self.created} routed={self.routed} "
            f"manual={self.manual} repeats={self.repeats} applied={self.applied} dead={self.dead} "
            f"rate={self.messages / elapsed:.0f}/s lag={'?' if lag is None else lag}"
        )

    def maybe_log(self, lag_of: Callable[[], int | None], force: bool = False) -> None:
        now = time.monotonic()
        idle = self.messages == self._last_count
        if not force and (now - self._last_time < self.every or (idle and now - self._last_time < 60)):
            return
        recent = (self.messages - self._last_count) / max(now - self._last_time, 1e-9)
        log.info("%s recent=%.0f/s", self.line(lag_of()), recent)
        self._last_time, self._last_count = now, self.messages


class _AssignmentLog(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked) -> None:
        pass

    def on_partitions_assigned(self, assigned) -> None:
        names = sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)
        log.info("分配到分区 [%s]", " ".join(names))


class IntakeConsumer:
    def __init__(
        self,
        bootstrap: str,
        intake: Intake,
        *,
        group_id: str = "hotline-intake",
        batch_size: int = 500,
        log_every: float = 10.0,
        client_id: str | None = None,
    ):
        self.bootstrap = bootstrap
        self.intake = intake
        self.group_id = group_id
        self.batch_size = batch_size
        self.progress = Progress(client_id or group_id, every=log_every)
        self.client_id = client_id
        self._consumer = None

    def _connect(self) -> tuple:
        extra = {"client_id": self.client_id} if self.client_id else {}
        consumer = make_consumer(self.bootstrap, self.group_id, None, max_poll_records=self.batch_size, **extra)
        consumer.subscribe(self.intake.subscribed, listener=_AssignmentLog())
        self._consumer = consumer
        return consumer, make_producer(self.bootstrap)

    def _topic_ids(self, consumer) -> dict[str, object]:
        # kafka-python keeps each topic's id in its cluster metadata (the consumer exposes no accessor).
        cluster = consumer._client.cluster
        return {topic: cluster.topic_id(topic) for topic in self.intake.subscribed}

    def run(self, stop: threading.Event) -> Progress:
        consumer, producer = self._connect()
        known: dict[str, object] = {}
        log.info("开始消费 %s（消费组 %s）", "、".join(self.intake.subscribed), self.group_id)
        try:
            while not stop.is_set():
                polled = consumer.poll(timeout_ms=500)
                if polled and not self._process(consumer, producer, polled, stop):
                    break
                self.progress.maybe_log(self.lag)
                ids = self._topic_ids(consumer)
                if any(known.get(t) not in (None, i) for t, i in ids.items() if i is not None):
                    # A topic came back with a new id: the broker lost it (a restart of a broker with
                    # memory storage, or a topic deleted and made again). The client would keep
                    # fetching at its old positions in the new, shorter log and never see a record:
                    # start over with new clients, from the committed offsets (or the earliest).
                    log.warning("主题已被重建（消息代理重启？），重新创建客户端后继续消费")
                    producer.close(timeout=10)
                    consumer.close(autocommit=False)
                    consumer, producer = self._connect()
                    known = {}
                    continue
                known.update({t: i for t, i in ids.items() if i is not None})
        finally:
            self.progress.maybe_log(self.lag, force=True)
            producer.close(timeout=10)
            consumer.close(autocommit=False)
            self._consumer = None
            log.info("已停止：%s", self.progress.line())
        return self.progress

    def _process(self, consumer, producer: KafkaProducer, polled: dict, stop: threading.Event) -> bool:
        """Handle, publish dead letters, commit. False if stopped before the store took the batch."""
        records = [record for batch in polled.values() for record in batch]
        outcome = self._handle(records, stop)
        if outcome is None:
            return False
        if not self._publish_dead_letters(producer, outcome.dead_letters, stop):
            return False  # not committed: the batch and its dead letters come back on restart
        offsets = {tp: OffsetAndMetadata(batch[-1].offset + 1, "", -1) for tp, batch in polled.items()}
        try:
            consumer.commit(offsets)
        except KafkaError as error:
            # Typically a rebalance moved the partitions away; their new owner re-reads the batch.
            log.warning("提交位点失败（将由新的分区所有者重新处理）：%r", error)
        self.progress.add(outcome)
        return True

    def _handle(self, records: list, stop: threading.Event) -> Outcome | None:
        """The batch's outcome, retrying while the failure is not the messages' fault; None if stopped.

        A transient failure (application/failures.py) is retried as it is, for ever, with growing
        pauses and the lag in the log. An unexpected error is narrowed down message by message: a
        message that fails while others in its batch succeed is a poison message and becomes a
        dead letter. When every message fails, the fault is ours (configuration, a bug): nothing is
        dead-lettered, the batch waits and is retried, uncommitted. A lone message that keeps
        failing unexpectedly is dead-lettered after ``LONE_FAILURES`` attempts so that it cannot
        stall its partition; a transient failure never is.
        """
        pause, attempts = 0.5, 0
        while True:
            attempts += 1
            try:
                return self.intake.handle(records)
            except Exception as error:
                if classify(error) == TRANSIENT:
                    log.warning(
                        "暂时性故障（%r），%.1f 秒后重试本批 %d 条消息（第 %d 次），位点不提交；积压 lag=%s",
                        error,
                        pause,
                        len(records),
                        attempts,
                        self.lag(),
                    )
                    if stop.wait(pause):
                        return None
                    pause = min(pause * 2, MAX_STORE_PAUSE)
                    continue
                log.exception("处理本批 %d 条消息时出错，逐条重试", len(records))
                outcome = self._one_by_one(records, give_up=len(records) == 1 and attempts >= LONE_FAILURES)
                if outcome is not None:
                    return outcome
                log.error("本批消息全部处理失败（系统故障？），%.1f 秒后重试，位点不提交", pause)
            if stop.wait(pause):
                return None
            pause = min(pause * 2, MAX_STORE_PAUSE)

    def _one_by_one(self, records: list, give_up: bool) -> Outcome | None:
        outcome, failed = Outcome(), []
        for record in records:
            try:
                outcome.add(self.intake.handle([record]))
            except Exception as error:
                if classify(error) == TRANSIENT:
                    return None  # not this message's fault: the whole batch is retried
                failed.append(DeadLetter(record, f"处理出错：{error!r}", "processing_error"))
        if len(failed) == len(records) and not give_up:
            return None
        outcome.messages += len(failed)
        outcome.dead_letters.extend(failed)
        return outcome

    def _publish_dead_letters(self, producer: KafkaProducer, letters: list[DeadLetter], stop: threading.Event) -> bool:
        messages = [self.intake.dead_letter(letter) for letter in letters]
        pause = 0.5
        while messages:
            try:
                send_all(producer, messages)
                break
            except KafkaError as error:
                log.error("死信发送失败，%.1f 秒后重试：%r", pause, error)
            if stop.wait(pause):
                return False
            pause = min(pause * 2, MAX_STORE_PAUSE)
        return True

    def lag(self) -> int | None:
        """Messages not yet read, from the fetcher's high-water marks (end_offsets is wrong on Tansu)."""
        consumer = self._consumer
        if consumer is None:
            return None
        total, known = 0, False
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = consumer.position(tp, timeout_ms=1000)
            except KafkaError:
                continue
            if position is not None:
                total += max(highwater - position, 0)
                known = True
        return total if known else None


__all__ = ["IntakeConsumer", "Progress", "send_all"]
