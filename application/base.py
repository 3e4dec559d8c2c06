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

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, BaseAggregate
from eventsourcing.persistence import IntegrityError, Recording
from eventsourcing.utils import strtobool

from hotline.application.clock import Clock, SystemClock
from hotline.application.failures import LostRace, back_off
from hotline.domain.errors import ConcurrentUpdate, DomainError, InvalidInput
from hotline.domain.rules import Rules

A = TypeVar("A", bound=Aggregate)

# Lost races for one save before giving up (LostRace): a writer that keeps losing means that
# something else is wrong, and the caller tries again later.
MAX_RACE_RETRIES = 5


class PersonalKeys(Protocol):
    """The cases' own keys that seal their personal fields (infra/store/personal_keys.py)."""

    def make(self, count: int) -> tuple[list[str], list[tuple[str, bytes]]]: ...

    def forget(self, key_ids: Sequence[str]) -> None: ...

    def destroy(self, key_ids: Sequence[str]) -> int: ...


class CommandRepository(Repository[UUID]):
    """The library's repository, whose cache a command reads without fast-forwarding it.

    A cached aggregate is normally brought up to date on every ``get`` (one query for the events
    after its version). A command loading it inside ``without_fastforward`` takes the cached copy
    as it is: the aggregate this process saved last needs no re-read. Another process may have
    changed it meanwhile; then the save fails on the version (or a rule refuses on the old state),
    and ``HotlineBase._run`` reads it again, fast-forwarded, and runs the command on that. Queries
    (the pages) always fast-forward."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._local = threading.local()
        super().__init__(*args, **kwargs)

    @property
    def fastforward(self) -> bool:
        return self._fastforward and not getattr(self._local, "skip", False)

    @fastforward.setter
    def fastforward(self, value: bool) -> None:
        self._fastforward = value

    @contextmanager
    def without_fastforward(self) -> Iterator[None]:
        before = getattr(self._local, "skip", False)
        self._local.skip = True
        try:
            yield
        finally:
            self._local.skip = before


class HotlineBase(Application[UUID]):
    name = "hotline"  # pinned again on HotlineApplication: the library renames every subclass

    def __init__(self, rules: Rules, env: dict[str, str] | None = None, clock: Clock | None = None):
        super().__init__(env=env)
        self.rules = rules
        self.clock: Clock = clock or SystemClock()
        self._written = threading.local()
        # The key table of the store, when the mapper seals personal fields (MAPPER_TOPIC); None:
        # new cases are stored as before, their personal fields in clear inside the store's cipher.
        attach = getattr(self.mapper, "attach", None)
        self.personal_keys: PersonalKeys | None = attach(self.recorder) if callable(attach) else None

    def construct_repository(self) -> CommandRepository:
        """The library's repository (same settings), as a ``CommandRepository``."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CommandRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    def _for_command(self, load: Callable[[], A]) -> A:
        """The aggregate a command runs on: the cached copy as this process saved it, unread."""
        repository = self.repository
        if not isinstance(repository, CommandRepository):
            return load()
        with repository.without_fastforward():
            return load()

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """The library's, and every aggregate saved goes into the cache as saved (the library does
        that only when the cache never fast-forwards): the next command finds it there."""
        recordings = super()._record(processing_event)
        if self.repository.fastforward:
            self._cache_saved(processing_event.aggregates.values())
        self._wrote([r.notification.id for r in recordings])
        return recordings

    def _wrote(self, notification_ids: Sequence[int] | None) -> None:
        if notification_ids:
            self._written.last = max(notification_ids[-1], getattr(self._written, "last", 0) or 0)

    def written(self) -> int | None:
        """The notification id of this thread's last write (since ``forget_written``): a page after
        it waits for the read models to include it (read-your-writes)."""
        return getattr(self._written, "last", None)

    def forget_written(self) -> None:
        self._written.last = None

    def _cache_saved(self, aggregates: Iterable[Any]) -> None:
        cache = self.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)

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
            try:
                if expected_version is not None and aggregate.version != expected_version:
                    raise ConcurrentUpdate(conflict)
                command(aggregate, self.now())
            except DomainError:
                # Refused on a copy from the cache: refused for good only if it was the latest.
                fresh: A = self.repository.get(aggregate.id)
                if fresh.version == aggregate.version:
                    raise
                aggregate = fresh
                continue
            try:
                self.save(aggregate)
                return aggregate
            except IntegrityError:
                pass  # another writer saved this aggregate meanwhile: look again, from its new state
            back_off(attempt)
            aggregate = self.repository.get(aggregate.id)  # fast-forwarded from the cached copy
        raise LostRace(conflict)

    def originator_ids(self, *topics: str) -> Iterator[UUID]:
        """The id of every aggregate whose first event has one of ``topics``, in the order they were stored."""
        start = None
        while True:
            page = self.recorder.select_notifications(start, 500, topics=list(topics), inclusive_of_start=False)
            if not page:
                return
            for notification in page:
                yield cast(UUID, notification.originator_id)
            start = page[-1].id

    def _save_new(self, *aggregates: Any, message: str, changed: str | None = None) -> None:
        """Save aggregates created just now; one that exists already is refused with ``message``.
        ``changed``: the refusal when none of the new ones exists, so the conflict was on an existing
        aggregate saved with them (another writer changed it meanwhile: the user must look again)."""
        new = [a.id for a in aggregates if a.pending_events and a.pending_events[0].originator_version == 1]
        try:
            self.save(*aggregates)
        except IntegrityError:
            if changed is not None and not any(aggregate_id in self.repository for aggregate_id in new):
                raise ConcurrentUpdate(changed) from None
            raise InvalidInput(message) from None
