"""The typed base every part of the hotline application builds on.

One eventsourcing ``Application`` holds every aggregate, so that one notification log feeds all
read models. Which store it writes to is configuration (the composition root's business); nothing
here knows. The parts (cases, supervision, accounts, API keys) are classes of their own that
derive from this base, so each is type-checked against the same ``rules``, ``clock`` and the
one load-command-save path, and ``HotlineApplication`` combines them.

Conventions of every command: the actor first; the time is the clock's now and nothing else (no
command takes a time to record: only the clock records time); ``expected_version=`` for the
version the user was looking at; ``ConcurrentUpdate`` with a Chinese message when the aggregate
is no longer the version the user saw; a lost race at the save is run again (``LostRace`` if it
keeps losing); nothing stored when a rule refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate, BaseAggregate
from eventsourcing.persistence import IntegrityError, Recording

from hotline.application.clock import Clock, SystemClock
from hotline.application.failures import LostRace, back_off
from hotline.domain.errors import ConcurrentUpdate, InvalidInput
from hotline.domain.rules import Rules

A = TypeVar("A", bound=Aggregate)

# Lost races for one save before giving up (LostRace): a writer that keeps losing means that
# something else is wrong, and the caller tries again later.
MAX_RACE_RETRIES = 5


class HotlineBase(Application[UUID]):
    name = "hotline"  # pinned again on HotlineApplication: the library renames every subclass

    def __init__(self, rules: Rules, env: dict[str, str] | None = None, clock: Clock | None = None):
        super().__init__(env=env)
        self.rules = rules
        self.clock: Clock = clock or SystemClock()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's ``save`` without its runtime Protocol ``isinstance`` checks (a sixth of a
        batched save's time in a profile): everything saved here is one of our aggregates or an
        event of one."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if obj is None:
                continue
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.events.append(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def now(self) -> datetime:
        return self.clock.now()

    def _run(
        self,
        aggregate: A,
        command: Callable[[A, datetime], None],
        conflict: str,
        expected_version: int | None = None,
    ) -> A:
        """Run one command on a loaded aggregate and save it. ``expected_version`` is the version the
        user was looking at: if the aggregate moved on since, the user must see the new state before
        acting, and ``conflict`` says so. A save that loses the race to another writer is run
        again on the aggregate's new state (which may refuse it, or show the user moved on);
        after ``MAX_RACE_RETRIES`` lost races it is ``LostRace``: transient, for the caller to
        retry later (application/failures.py)."""
        for attempt in range(MAX_RACE_RETRIES):
            if expected_version is not None and aggregate.version != expected_version:
                raise ConcurrentUpdate(conflict)
            command(aggregate, self.now())
            try:
                self.save(aggregate)
                return aggregate
            except IntegrityError:
                pass  # another writer saved this aggregate meanwhile: look again, from its new state
            back_off(attempt)
            aggregate = self.repository.get(aggregate.id)
        raise LostRace(conflict)

    def originator_ids(self, topic: str) -> Iterator[UUID]:
        """The id of every aggregate whose first event has ``topic``, in the order they were stored."""
        start = None
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic], inclusive_of_start=False)
            if not page:
                return
            for notification in page:
                yield cast(UUID, notification.originator_id)
            start = page[-1].id

    def _save_new(self, *aggregates: Any, message: str) -> None:
        """Save aggregates created just now; one that exists already is refused with ``message``."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            raise InvalidInput(message) from None
