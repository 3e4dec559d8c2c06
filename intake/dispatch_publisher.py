"""Routed cases out to ``hotline.dispatch``, outbox style.

The event store is the outbox: the publisher follows the application's notification log
(``Case.Dispatched`` and ``Case.Redispatched``) from a position it keeps in a small table of the
same database, and moves that position only after the broker has acknowledged the messages.
A crash in between publishes those messages again, never loses one; each carries its event id
(``<case id>/<version>``) so that a reader drops what it has seen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from hotline.application import HotlineApplication
from hotline.domain.case import Case
from hotline.domain.privacy import mask_name, mask_phone, scrub_contacts
from hotline.intake.messages import DISPATCH_SCHEMA, Outgoing, encode

log = logging.getLogger(__name__)

TOPICS = [Case.Dispatched.TOPIC, Case.Redispatched.TOPIC]
TABLE = "hotline_outbox_positions"

Sink = Callable[[Sequence[Outgoing]], None]  # returns once every message is acknowledged, else raises


class PositionStore:
    """The last published notification id per publisher, in the events' own database."""

    def __init__(self, app: HotlineApplication):
        self.datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
        postgres = type(self.datastore).__module__.startswith("eventsourcing.postgres")
        self.table = f'"{self.datastore.schema}".{TABLE}' if postgres else TABLE
        self.mark = "%s" if postgres else "?"
        self._ready = False

    def _ensure_table(self, cursor: Any) -> None:
        if not self._ready:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
            self._ready = True

    def get(self, name: str) -> int:
        with self.datastore.transaction(commit=True) as cursor:
            self._ensure_table(cursor)
            cursor.execute(f"SELECT position FROM {self.table} WHERE name = {self.mark}", (name,))
            row = cursor.fetchone()
        return 0 if row is None else int(row["position"] if isinstance(row, dict) else row[0])

    def set(self, name: str, position: int) -> None:
        m = self.mark
        with self.datastore.transaction(commit=True) as cursor:
            self._ensure_table(cursor)
            cursor.execute(
                f"INSERT INTO {self.table} (name, position) VALUES ({m}, {m}) "
                f"ON CONFLICT (name) DO UPDATE SET position = excluded.position "
                f"WHERE {self.table}.position < excluded.position",
                (name, position),
            )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class DispatchPublisher:
    def __init__(
        self,
        app: HotlineApplication,
        sink: Sink,
        topic: str,
        position_name: str,
        positions: PositionStore | None = None,
        page_size: int = 500,
    ):
        self.app = app
        self.sink = sink
        self.topic = topic
        self.position_name = position_name
        self.positions = positions or PositionStore(app)
        self.page_size = page_size
        self.published = 0
        self._lock = threading.Lock()  # one page in flight per process

    def publish_pending(self) -> int:
        """Publish everything routed since the stored position; the number of messages sent."""
        sent = 0
        with self._lock:
            while True:
                start = self.positions.get(self.position_name)
                page = self.app.recorder.select_notifications(
                    start, self.page_size, topics=TOPICS, inclusive_of_start=False
                )
                if not page:
                    break
                self.sink([self.message(n) for n in page])
                self.positions.set(self.position_name, page[-1].id)
                sent += len(page)
        self.published += sent
        return sent

    def message(self, notification: Any) -> Outgoing:
        event = self.app.mapper.to_domain_event(notification)
        case: Case = self.app.case_at(event.originator_id, event.originator_version)  # an erasure since shows
        body = {
            "schema": DISPATCH_SCHEMA,
            "event_id": f"{event.originator_id}/{event.originator_version}",
            "notification_id": notification.id,
            "kind": "redispatched" if isinstance(event, Case.Redispatched) else "dispatched",
            "ticket_no": case.ticket_no,
            "department": event.department,
            "dispatched_at": _iso(event.timestamp),
            "sign_by": _iso(event.sign_by),
            "reply_by": _iso(event.reply_by),
            "deadline_provisional": event.provisional,
            "note": event.note,
            "case": {
                "call_id": case.call_id,
                "opened_at": _iso(case.created_on),
                "channel": case.channel,
                "category": case.category,
                "service_code": case.service_code,
                "urgency": case.urgency,
                "description": scrub_contacts(case.description),
                "address": case.address,
                "district": case.district,
                "lat": case.lat,
                "long": case.long,
                # One topic for every department: no caller's contact in clear on it. The handling
                # department sees a non-confidential caller on its case page; a 保密 one through the hotline.
                "caller": {"name": mask_name(case.caller_name), "phone": mask_phone(case.caller_phone)},
                "confidential": case.confidential,
            },
        }
        return Outgoing(self.topic, event.department.encode("utf-8"), encode(body))

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Follow the log until ``stop``; a failed page is retried from the stored position."""
        while not stop.is_set():
            try:
                self.publish_pending()
            except Exception:
                log.exception("发布派单消息失败，%.1f 秒后重试", interval * 4)
                stop.wait(interval * 4)
                continue
            stop.wait(interval)
        try:
            self.publish_pending()  # what the last batch routed, before the process ends
        except Exception:
            log.exception("停止前发布派单消息失败，下次启动时补发")
