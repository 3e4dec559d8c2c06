"""The application service: the commands and queries the rest of the system uses.

One eventsourcing ``Application`` holds every aggregate, so that one notification log feeds all
read models. Which store it writes to is configuration (``infra/config.py``); nothing here knows.
Deadlines are computed here from the rules, then recorded on the events: a case keeps the
deadline it was given even if the city later edits its tables.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.case import DISPATCHED, RETURNED, Call, Case, case_id
from domain.errors import CaseNotFound, ConcurrentUpdate, InvalidInput
from domain.rules import Rules
from domain.supervision_service import SupervisionCommands
from domain.tickets import CallReceipt, TicketCounter, counter_id, receipt_id
from domain.users import UserCommands
from domain.workdays import as_china_time

# Writers racing for the same day's ticket counter retry; more than this many losses in a row
# means something else is wrong.
MAX_TICKET_RETRIES = 20
CASE_CHANGED = "该工单已被他人更新，请刷新后重试"


def _back_off(attempt: int) -> None:
    """After losing the race for the ticket counter, wait a random moment (up to 2 ms, doubling, at
    most 100 ms): writers that retry at once meet again in lockstep, and a busy one can then win
    every race while another loses all its retries (seen with four desks logging calls back to back)."""
    time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))


def now() -> datetime:
    return as_china_time(datetime.now().astimezone())


@dataclass(frozen=True)
class Opening:
    """The outcome of logging a call: its ticket, and whether this call created it just now."""

    ticket_no: str
    created: bool
    department: str | None = None  # where intake routed it when it created the case; None: not routed here


class HotlineApplication(SupervisionCommands, UserCommands, Application):
    name = "hotline"
    snapshotting_intervals = {TicketCounter: 100}  # noqa: RUF012 - the library's own class attribute

    def __init__(self, rules: Rules, env: dict[str, str] | None = None):
        super().__init__(env=env)
        self.rules = rules

    # ---- logging calls -----------------------------------------------------------------------

    def open_case(self, call: Call, actor: Actor, at: datetime | None = None) -> Opening:
        """Log a call as a new case. A call id seen before gives back its case, creating nothing."""
        self._check_service(call.service_code)
        at = as_china_time(at) if at else now()
        if call.call_id:
            existing = self.ticket_for_call(call.call_id)
            if existing:
                return Opening(existing, created=False)
        for attempt in range(MAX_TICKET_RETRIES):
            counter = self._counter_for(at)
            ticket_no = counter.issue()
            case = Case.open(ticket_no, call, actor, at=at)
            receipt = CallReceipt.record(call.call_id, ticket_no) if call.call_id else None
            try:
                self.save(counter, case, receipt)
            except IntegrityError:
                # Either another writer took this number, or another writer logged this call.
                if call.call_id:
                    existing = self.ticket_for_call(call.call_id)
                    if existing:
                        return Opening(existing, created=False)
                _back_off(attempt)
                continue
            return Opening(ticket_no, created=True)
        raise ConcurrentUpdate("系统繁忙，工单编号分配冲突，请稍后重试")

    def open_cases(self, items: Sequence[tuple[Call, datetime]], actor: Actor) -> list[Opening]:
        """Log a batch of calls (intake from Kafka or the bus) and route each one at once.

        One ``save`` stores the whole batch: several times faster than one save per call. A call id
        seen before, or earlier in the same batch, creates nothing. A case the routing rules place
        is dispatched in the same save, with deadlines from its receipt time; one they do not place
        stays opened, in the dispatch centre's manual queue. If another writer got in first (the
        same call, or the same ticket numbers), the batch is redone one call at a time so that the
        store settles every race: still one case per call id, one number per case.
        """
        for call, _ in items:
            self._check_service(call.service_code)
        try:
            return self._open_and_route(items, actor)
        except IntegrityError:
            pass
        openings: list[Opening] = []
        for item in items:
            for attempt in range(MAX_TICKET_RETRIES):
                try:
                    openings.extend(self._open_and_route([item], actor))
                    break
                except IntegrityError:
                    _back_off(attempt)
                    continue
            else:
                raise ConcurrentUpdate("系统繁忙，工单编号分配冲突，请稍后重试")
        return openings

    def _open_and_route(self, items: Sequence[tuple[Call, datetime]], actor: Actor) -> list[Opening]:
        openings: list[Opening] = []
        by_call_id: dict[str, Opening] = {}
        counters: dict[date, TicketCounter] = {}
        new: list[Case | CallReceipt] = []
        for call, received_at in items:
            at = as_china_time(received_at)
            if call.call_id:
                earlier = by_call_id.get(call.call_id)
                if earlier is None:
                    existing = self.ticket_for_call(call.call_id)
                    earlier = Opening(existing, created=False) if existing else None
                if earlier is not None:
                    repeat = Opening(earlier.ticket_no, created=False)
                    by_call_id[call.call_id] = repeat
                    openings.append(repeat)
                    continue
            if at.date() not in counters:
                counters[at.date()] = self._counter_for(at)
            ticket_no = counters[at.date()].issue()
            case = Case.open(ticket_no, call, actor, at=at)
            opening = Opening(ticket_no, created=True, department=self._route_new_case(case, actor, at))
            new.append(case)
            if call.call_id:
                new.append(CallReceipt.record(call.call_id, ticket_no))
                by_call_id[call.call_id] = opening
            openings.append(opening)
        if new:
            self.save(*counters.values(), *new)
        return openings


    def _route_new_case(self, case: Case, actor: Actor, at: datetime) -> str | None:
        department = self.rules.routing.route(case.service_code, case.district)
        if not department or department not in self.rules.departments:
            return None  # the dispatch centre's manual queue
        deadlines = self.rules.time_limits.deadlines(self.rules.calendar, case.category, case.urgency, at)
        case.dispatch(
            actor,
            department,
            sign_by=deadlines.sign_by.at,
            reply_by=deadlines.reply_by.at,
            provisional=deadlines.provisional,
            note="按派单规则自动派单",
            at=at,
        )
        return department

    def _counter_for(self, at: datetime) -> TicketCounter:
        day = at.date()
        try:
            return self.repository.get(counter_id(day))
        except AggregateNotFoundError:
            return TicketCounter.start(day)

    def _check_service(self, service_code: str) -> None:
        if service_code not in self.rules.services:
            raise InvalidInput(f"未知服务事项代码：{service_code}")

    def ticket_for_call(self, call_id: str) -> str | None:
        """The ticket a call became, if it was logged already."""
        # One query for the receipt's single event: a receipt is never snapshotted or changed.
        for received in self.events.get(receipt_id(call_id), limit=1):
            return received.ticket_no
        return None

    # ---- reading cases -------------------------------------------------------------------------

    def get_case(self, ticket_no: str, version: int | None = None) -> Case:
        try:
            return self.repository.get(case_id(ticket_no), version=version)
        except AggregateNotFoundError:
            raise CaseNotFound(ticket_no) from None

    def case_events(self, ticket_no: str) -> list[Case.Event]:
        events = list(self.events.get(case_id(ticket_no)))
        if not events:
            raise CaseNotFound(ticket_no)
        return events

    def case_as_of(self, ticket_no: str, moment: datetime) -> Case | None:
        """The case as it stood at ``moment`` (None if it did not exist yet): time travel."""
        moment = as_china_time(moment)
        version = None
        for stored in self.case_events(ticket_no):
            if stored.timestamp > moment:
                break
            version = stored.originator_version
        return None if version is None else self.get_case(ticket_no, version=version)

    def case_ids(self) -> Iterator[UUID]:
        """Every case's id, in the order they were logged."""
        start = None
        topics = [Case.Opened.TOPIC]
        while True:
            page = self.recorder.select_notifications(start, 500, topics=topics, inclusive_of_start=False)
            if not page:
                return
            for notification in page:
                yield notification.originator_id
            start = page[-1].id

    def all_cases(self) -> Iterator[Case]:
        for aggregate_id in self.case_ids():
            yield self.repository.get(aggregate_id)

    # ---- the hotline answers and dispatches --------------------------------------------------

    def answer_directly(self, ticket_no: str, actor: Actor, answer: str, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.answer_directly(actor, answer, at=at), **options)

    def suggest_department(self, ticket_no: str) -> str | None:
        case = self.get_case(ticket_no)
        return self.rules.routing.route(case.service_code, case.district)

    def dispatch(
        self, ticket_no: str, actor: Actor, department: str | None = None, note: str = "", **options: Any
    ) -> Case:
        """派单 (or 改派 for a returned case). No department given: the routing rules choose."""

        def command(case: Case, at: datetime) -> None:
            code = department or self.rules.routing.route(case.service_code, case.district)
            if not code:
                raise InvalidInput(f"服务事项 {case.service_code} 没有匹配的派单规则，请手动选择承办单位")
            if code not in self.rules.departments:
                raise InvalidInput(f"未知承办单位：{code}")
            deadlines = self.rules.time_limits.deadlines(self.rules.calendar, case.category, case.urgency, at)
            dispatch = case.redispatch if case.status in (RETURNED, DISPATCHED) else case.dispatch
            dispatch(
                actor,
                code,
                sign_by=deadlines.sign_by.at,
                reply_by=deadlines.reply_by.at,
                provisional=deadlines.provisional,
                note=note,
                at=at,
            )

        return self._change(ticket_no, command, **options)

    # ---- the department's actions --------------------------------------------------------------

    def sign(self, ticket_no: str, actor: Actor, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.sign(actor, at=at), **options)

    def return_case(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.return_(actor, reason, at=at), **options)

    def request_extension(
        self, ticket_no: str, actor: Actor, working_days: int, reason: str, **options: Any
    ) -> Case:
        def command(case: Case, at: datetime) -> None:
            limit = self.rules.time_limits.limit_for(case.category, case.urgency)
            case.request_extension(actor, working_days, reason, max_days=limit.max_extension_days, at=at)

        return self._change(ticket_no, command, **options)

    def approve_extension(self, ticket_no: str, actor: Actor, **options: Any) -> Case:
        def command(case: Case, at: datetime) -> None:
            days = case.pending_extension["working_days"] if case.pending_extension else 0
            # The extra days run on from the current deadline, not from the approval.
            reply_by = self.rules.calendar.add_working_days(case.reply_by or at, days) if days else None
            case.approve_extension(
                actor,
                reply_by=reply_by.at if reply_by else case.reply_by,
                provisional=bool(reply_by and reply_by.provisional),
                at=at,
            )

        return self._change(ticket_no, command, **options)

    def reject_extension(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.reject_extension(actor, reason, at=at), **options)

    def urge(self, ticket_no: str, actor: Actor, note: str = "", **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.urge(actor, note, at=at), **options)

    def reply(self, ticket_no: str, actor: Actor, result: str, resolved: bool, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.reply(actor, result, resolved, at=at), **options)

    # ---- callback, closing, reopening, merging -------------------------------------------------

    def record_callback(
        self,
        ticket_no: str,
        actor: Actor,
        reached: bool,
        satisfaction: str | None = None,
        resolved: bool | None = None,
        note: str = "",
        **options: Any,
    ) -> Case:
        return self._change(
            ticket_no,
            lambda case, at: case.record_callback(actor, reached, satisfaction, resolved, note, at=at),
            **options,
        )

    def close_case(self, ticket_no: str, actor: Actor, note: str = "", **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.close(actor, note, at=at), **options)

    def reopen(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.reopen(actor, reason, at=at), **options)

    def merge(self, ticket_no: str, actor: Actor, into: str, **options: Any) -> Case:
        target = self.get_case(into)
        if not target.is_open:
            raise InvalidInput(f"目标工单 {into} 已{target.status_name}，不能并入")
        return self._change(ticket_no, lambda case, at: case.merge_into(actor, into, at=at), **options)

    def _change(self, ticket_no: str, command: Callable[[Case, datetime], None], **options: Any) -> Case:
        return self._run(self.get_case(ticket_no), command, CASE_CHANGED, **options)

    def _run(
        self,
        aggregate: Any,
        command: Callable[[Any, datetime], None],
        conflict: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Any:
        """Run one command on a loaded aggregate and save it. ``expected_version`` is the version the
        user was looking at: if the aggregate moved on since, the user must see the new state before
        acting, and ``conflict`` says so."""
        if expected_version is not None and aggregate.version != expected_version:
            raise ConcurrentUpdate(conflict)
        command(aggregate, as_china_time(at) if at else now())
        try:
            self.save(aggregate)
        except IntegrityError:
            raise ConcurrentUpdate(conflict) from None
        return aggregate


__all__ = ["HotlineApplication", "Opening"]
