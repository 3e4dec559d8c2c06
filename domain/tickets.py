"""Ticket numbers (工单编号) and call receipts.

A ticket number reads as the day the call came in and that day's running number:
``20251009-000123``. Each day has its own counter: a row the store raises in the transaction
that stores the day's new cases (``TicketDay`` asks for the numbers; infra/store/tickets.py).
Stores written before kept it in ``TicketCounter`` aggregates, which stay readable and seed the
row of their day; nothing writes them any more.

A call receipt remembers which case a call (``call_id``) became; its id derives from the call
id, so a second case for the same call is refused by the store itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def counter_id(day: date) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/ticket-counter/{day.isoformat()}")


def receipt_id(call_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/call/{call_id}")


def format_ticket_no(day: date, number: int) -> str:
    return f"{day:%Y%m%d}-{number:06d}"


@dataclass(frozen=True)
class TicketDay:
    """``count`` new numbers for ``day`` (ISO date); ``legacy_id``: that day's old TicketCounter."""

    day: str
    count: int
    legacy_id: UUID

    @classmethod
    def of(cls, day: date, count: int) -> TicketDay:
        return cls(day.isoformat(), count, counter_id(day))


class TicketCounter(Aggregate):
    """The day's counter as stores written before kept it (an aggregate whose version is the
    count). Read-only now: it seeds the day's counter row (``TicketDay.legacy_id``)."""

    TOPIC = "hotline:TicketCounter"

    class Event(Aggregate.Event):
        TOPIC = "hotline:TicketCounter.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:TicketCounter.Created"

    class Started(Created):
        TOPIC = "hotline:TicketCounter.Started"
        day: str

    class Issued(Event):
        TOPIC = "hotline:TicketCounter.Issued"
        number: int

    @staticmethod
    def create_id(day: str, **_: Any) -> UUID:
        return counter_id(date.fromisoformat(day))

    @classmethod
    def start(cls, day: date, at: datetime | None = None) -> TicketCounter:
        return cls._create(cls.Started, id=counter_id(day), timestamp=at, day=day.isoformat())

    @event(Started)
    def __init__(self, day: str) -> None:
        self.day = day  # ISO text, so that snapshots need no date transcoding
        self.last_number = 0

    def issue(self, at: datetime | None = None) -> str:
        self.trigger_event(self.Issued, timestamp=at, number=self.last_number + 1)
        return format_ticket_no(date.fromisoformat(self.day), self.last_number)

    @event(Issued)
    def _issued(self, number: int) -> None:
        self.last_number = number


class CallReceipt(Aggregate):
    TOPIC = "hotline:CallReceipt"

    class Event(Aggregate.Event):
        TOPIC = "hotline:CallReceipt.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:CallReceipt.Created"

    class Received(Created):
        TOPIC = "hotline:CallReceipt.Received"
        call_id: str
        ticket_no: str

    @staticmethod
    def create_id(call_id: str, **_: Any) -> UUID:
        return receipt_id(call_id)

    @classmethod
    def record(cls, call_id: str, ticket_no: str, at: datetime | None = None) -> CallReceipt:
        return cls._create(cls.Received, id=receipt_id(call_id), timestamp=at, call_id=call_id, ticket_no=ticket_no)

    @event(Received)
    def __init__(self, call_id: str, ticket_no: str) -> None:
        self.call_id = call_id
        self.ticket_no = ticket_no
