"""The in-process bus: with no broker configured, messages run the same handlers at once.

``send``/``send_many`` play the part of producing to ``hotline.calls`` or ``hotline.replies`` and
of the consumer that reads them: the batch goes through ``Intake.handle`` synchronously, dead
letters and routed cases (through the same outbox publisher) land on the bus's other topics,
where subscribers get them and the latest are kept for inspection.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hotline.intake.handlers import Intake, Outcome
from hotline.intake.messages import Outgoing

log = logging.getLogger(__name__)

KEPT_PER_TOPIC = 1000


@dataclass(frozen=True)
class BusRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class InProcessBus:
    def __init__(self, intake: Intake):
        self.intake = intake
        self.kept: dict[str, deque[BusRecord]] = defaultdict(lambda: deque(maxlen=KEPT_PER_TOPIC))
        self.after_batch: list[Callable[[], object]] = []  # e.g. the dispatch publisher
        self._subscribers: dict[str, list[Callable[[BusRecord], None]]] = defaultdict(list)
        self._offsets: dict[str, int] = defaultdict(int)
        self._lock = threading.RLock()

    def send(self, topic: str, value: bytes | None, key: bytes | None = None) -> Outcome:
        return self.send_many([Outgoing(topic, key, value)])

    def send_many(self, messages: Iterable[Outgoing]) -> Outcome:
        """Handle a batch of intake messages now; returns what became of them."""
        with self._lock:
            records = [self._record(m) for m in messages]
            unknown = {r.topic for r in records} - set(self.intake.subscribed)
            if unknown:
                raise ValueError(f"no intake handler for {', '.join(sorted(unknown))}")
            outcome = self.intake.handle(records)
            self.publish([self.intake.dead_letter(letter) for letter in outcome.dead_letters])
            for hook in self.after_batch:
                hook()
            return outcome

    def publish(self, messages: Sequence[Outgoing]) -> None:
        """Deliver outgoing messages (dead letters, dispatch) to subscribers; the sink of the outbox."""
        with self._lock:
            for message in messages:
                record = self._record(message)
                self.kept[record.topic].append(record)
                for subscriber in self._subscribers[record.topic]:
                    subscriber(record)

    def subscribe(self, topic: str, subscriber: Callable[[BusRecord], None]) -> None:
        self._subscribers[topic].append(subscriber)

    def _record(self, message: Outgoing) -> BusRecord:
        offset = self._offsets[message.topic]
        self._offsets[message.topic] = offset + 1
        return BusRecord(message.topic, 0, offset, message.key, message.value, message.headers)


def in_process_bus(app) -> InProcessBus:  # app: HotlineApplication
    """The bus with the intake handlers and the dispatch outbox wired to it."""
    from hotline.intake.dispatch_publisher import DispatchPublisher
    from hotline.intake.messages import Topics

    topics = Topics()
    bus = InProcessBus(Intake(app, topics))
    publisher = DispatchPublisher(app, bus.publish, topics.dispatch, position_name=f"bus:{topics.dispatch}")
    bus.after_batch.append(publisher.publish_pending)
    return bus
