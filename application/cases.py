"""Cases: logging calls, routing them, and every step a case takes until it is closed.

Deadlines are computed here from the rules, then recorded on the events: a case keeps the
deadline it was given even if the city later edits its tables. Every channel (the operator's form,
Open311, Kafka, the in-process bus) logs calls through ``open_cases``; a channel that routes by the
rules does so in the same save that opens the case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, StoredEvent

from hotline.application.base import MAX_RACE_RETRIES, HotlineBase
from hotline.application.failures import LostRace, back_off
from hotline.domain.actors import Actor, require_role
from hotline.domain.case import CAN_MIGRATE, DISPATCHED, MIGRATE_ACTION, RETURNED, Call, Case, case_id, distinct_callers
from hotline.domain.emergency import HANDOFF_OUTCOMES, URGENT
from hotline.domain.errors import CaseNotFound, DomainError, InvalidInput
from hotline.domain.migration import MigratedCase
from hotline.domain.privacy import mask_name, mask_phone, scrub
from hotline.domain.tickets import CallReceipt, TicketDay, format_ticket_no, receipt_id
from hotline.domain.time_limits import CaseDeadlines
from hotline.domain.workdays import as_china_time

CASE_CHANGED = "该工单已被他人更新，请刷新后重试"
AUTO_DISPATCH_NOTE = "按派单规则自动派单"


class TicketRecorder(Protocol):
    """What the store offers for logging calls (infra/store/tickets.py, for each store)."""

    def insert_numbered(
        self,
        days: Sequence[TicketDay],
        build: Callable[[dict[str, int]], Sequence[StoredEvent]],
        keys: Sequence[tuple[str, bytes]] = (),
    ) -> Sequence[int] | None: ...

    def select_first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]: ...


@dataclass(frozen=True)
class Opening:
    """The outcome of logging a call: its ticket, and whether this call created it just now."""

    ticket_no: str
    created: bool
    department: str | None = None  # where the rules routed it when it was created; None: not routed


@dataclass(frozen=True)
class Imported:
    """The outcome of one migrated case (``import_cases``): the case it is here and whether this
    import created it; or, refused, why (nothing was recorded for it)."""

    source_no: str
    ticket_no: str | None
    created: bool
    refusal: str = ""


@dataclass(frozen=True)
class MergedCall:
    """A call merged into another case (并单), its caller masked: 王** / 139****5678."""

    ticket_no: str
    opened_at: datetime
    caller: str
    phone: str
    description: str  # without contacts or the caller's name (domain/privacy.scrub)


@dataclass(frozen=True)
class Merged:
    """What the target of merges shows: the merged calls and 诉求人数 (distinct callers, its own included)."""

    calls: list[MergedCall]
    callers: int


@dataclass(frozen=True)
class _Plan:
    """What a new call will get, worked out before the day's counter is taken: where the rules
    route it and the deadlines from its receipt (the slow part: the working-day calendar)."""

    index: int
    call: Call
    at: datetime  # recorded: the clock's now
    reported_at: datetime | None  # when the sender says the call came in
    department: str | None
    deadlines: CaseDeadlines | None
    unknown: tuple[str, ...] = ()  # what the catalogue does not know: the case opens 待分类


class CaseCommands(HotlineBase):
    # ---- logging calls -----------------------------------------------------------------------

    def open_case(self, call: Call, actor: Actor, route: bool = False, reported_at: datetime | None = None) -> Opening:
        """Log one call as a new case; ``route``: dispatch it by the rules in the same save (the
        operator's form does not: the operator answers directly or dispatches on the case page);
        ``reported_at``: when the sender says the call came in, if one does."""
        return self.open_cases([(call, reported_at)], actor, route=route)[0]

    def open_cases(
        self, items: Sequence[tuple[Call, datetime | None]], actor: Actor, route: bool = True
    ) -> list[Opening]:
        """Log a batch of calls, each with the time its sender reports it came in (or None), and
        route each one the rules place. Each case is recorded at the clock's now, with the
        reported time beside it; one outside the plausibility rules (rules/time_plausibility.toml)
        refuses the batch (``ImplausibleTime``).

        One transaction stores the whole batch with its ticket numbers (infra/store/tickets.py):
        the day's counter row is raised in it, so writers take turns on the row and never race
        for a number. Everything else (the receipts seen before, in one query; routing; the
        deadlines) is worked out before. A call id seen before, or earlier in the same batch,
        creates nothing. A case the routing rules do not place stays opened, in the dispatch
        centre's manual queue. A call whose service code or category the catalogue does not know
        opens as 待分类 in that queue when ``route`` (a channel without a person: Open311, Kafka),
        with everything the channel sent; the operator's form (``route`` False) refuses it, so the
        operator chooses from the catalogue. Only a call id logged by another writer meanwhile makes the
        transaction fail; the batch is then looked at again (the repeat is found this time).
        """
        for call, _ in items:
            self._check_call(call, hold_unknown=route)
        for attempt in range(MAX_RACE_RETRIES):
            try:
                return self._open(items, actor, route)
            except IntegrityError:
                back_off(attempt)
        raise LostRace("同一来电正由另一处同时受理，请稍后重试")

    def _open(self, items: Sequence[tuple[Call, datetime | None]], actor: Actor, route: bool) -> list[Opening]:
        openings: list[Opening | None] = [None] * len(items)
        known = self.tickets_for_calls([call.call_id for call, _ in items if call.call_id])
        first_of: dict[str, int] = {}  # call id -> the index of its first appearance in this batch
        repeats: list[tuple[int, int]] = []
        plans: list[_Plan] = []
        at = self.now()
        for index, (call, reported) in enumerate(items):
            if call.call_id:
                if call.call_id in known:
                    openings[index] = Opening(known[call.call_id], created=False)
                    continue
                if call.call_id in first_of:
                    repeats.append((index, first_of[call.call_id]))
                    continue
                first_of[call.call_id] = index
            reported_at = self.rules.plausibility.check(reported, at, None) if reported else None
            plans.append(self._plan(index, call, at, reported_at, route))
        if plans:
            plans.sort(key=lambda plan: (plan.reported_at or plan.at, plan.index))  # in the order the calls came in
            days = Counter(plan.at.date() for plan in plans)
            recorder = cast(TicketRecorder, self.recorder)
            made: list[Case | CallReceipt] = []
            # Each case's own key, stored in the same transaction as the case: both or neither. A
            # batch that failed takes its keys out of memory; a lost connection (committed or not?)
            # leaves them, as it leaves the cases, to what the store holds.
            keys, key_rows = self.personal_keys.make(len(plans)) if self.personal_keys else ([], [])
            try:
                notification_ids = recorder.insert_numbered(
                    [TicketDay.of(day, count) for day, count in sorted(days.items())],
                    lambda firsts: self._build(plans, firsts, actor, openings, made, keys),
                    key_rows,
                )
            except (IntegrityError, DomainError):
                if self.personal_keys and keys:
                    self.personal_keys.forget(keys)
                raise
            self._wrote(notification_ids)
            self._cache_saved(made)  # the next command on a new case reads nothing
        for index, first in repeats:
            earlier = openings[first]
            assert earlier is not None
            openings[index] = Opening(earlier.ticket_no, created=False)
        return cast(list[Opening], openings)

    # ---- migrating the previous system's cases (hotline import cases, docs/import.md) ---------

    def import_cases(self, items: Sequence[MigratedCase], actor: Actor) -> list[Imported]:
        """Record cases of the city's previous system, each at the clock's now with its original
        times reported beside it (rules/time_plausibility.toml ``[migration]``). A case whose old
        number was imported before creates nothing (its call receipt, ``MigratedCase.receipt_key``);
        a case that breaks a rule is refused with the reason and the others go on. The new cases
        get the day's next ticket numbers in the order they were received there, in one transaction."""
        require_role(actor, CAN_MIGRATE, MIGRATE_ACTION)  # before any row is looked at
        for attempt in range(MAX_RACE_RETRIES):
            try:
                return self._import(items, actor)
            except IntegrityError:
                back_off(attempt)
        raise LostRace("同一批迁移数据正由另一处同时导入，请稍后重试")

    def _import(self, items: Sequence[MigratedCase], actor: Actor) -> list[Imported]:
        outcomes: list[Imported | None] = [None] * len(items)
        known = self.tickets_for_calls([item.receipt_key for item in items])
        at = self.now()
        plausibility = self.rules.plausibility
        plans: list[tuple[int, MigratedCase]] = []
        first_of: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.receipt_key in known:
                outcomes[index] = Imported(item.source_no, known[item.receipt_key], created=False)
                continue
            if item.source_no in first_of:
                outcomes[index] = Imported(item.source_no, None, False, f"工单编号 {item.source_no} 重复")
                continue
            try:
                self._check_call(item.call)
                if item.department is not None and item.department not in self.rules.departments:
                    raise InvalidInput(f"未知承办单位：{item.department}")
                received = plausibility.check(item.received_at, at, None, migrated=True, label="受理时间")
                if item.finished_at is not None:
                    plausibility.check(item.finished_at, at, received, migrated=True, label="办结时间")
            except DomainError as error:
                outcomes[index] = Imported(item.source_no, None, False, str(error))
                continue
            first_of[item.source_no] = index
            plans.append((index, item))
        if plans:
            plans.sort(key=lambda plan: (plan[1].received_at, plan[0]))  # numbered in the order received there
            recorder = cast(TicketRecorder, self.recorder)
            made: list[Case | CallReceipt] = []

            keys, key_rows = self.personal_keys.make(len(plans)) if self.personal_keys else ([], [])  # as in _open

            def build(firsts: dict[str, int]) -> list[StoredEvent]:
                """May be called again with other numbers (as ``_build``): each call replaces the last."""
                day = at.date()
                number = firsts[day.isoformat()]
                new: list[Case | CallReceipt] = []
                for offset, (index, item) in enumerate(plans):
                    ticket_no = format_ticket_no(day, number + offset)
                    case = Case.migrate(
                        ticket_no,
                        item.call,
                        actor,
                        source_no=item.source_no,
                        source_status=item.source_status,
                        source_department=item.department,
                        received_at=item.received_at,
                        finished_at=item.finished_at,
                        result=item.result,
                        at=at,
                        personal_key=keys[offset] if keys else None,
                        dispatch=self.rules.handling.dispatch,
                    )
                    new.extend((case, CallReceipt.record(item.receipt_key, ticket_no, at=at)))
                    outcomes[index] = Imported(item.source_no, ticket_no, created=True)
                made[:] = new
                return [self.mapper.to_stored_event(e) for aggregate in new for e in aggregate.collect_events()]

            try:
                notification_ids = recorder.insert_numbered([TicketDay.of(at.date(), len(plans))], build, key_rows)
            except (IntegrityError, DomainError):
                if self.personal_keys and keys:
                    self.personal_keys.forget(keys)
                raise
            self._wrote(notification_ids)
            self._cache_saved(made)
        return cast(list[Imported], outcomes)

    def _plan(self, index: int, call: Call, at: datetime, reported_at: datetime | None, route: bool) -> _Plan:
        unknown = tuple(call.unknown_to(self.rules.services))
        if unknown:  # 待分类: nothing to route by until the dispatch centre classifies it
            return _Plan(index, call, at, reported_at, None, None, unknown)
        department = self.rules.routing.route(call.service_code, call.district) if route else None
        if not department or department not in self.rules.departments:
            return _Plan(index, call, at, reported_at, None, None)
        deadlines = self.rules.time_limits.deadlines(self.rules.calendar, call.category, call.urgency, at)
        return _Plan(index, call, at, reported_at, department, deadlines)

    def _build(
        self,
        plans: Sequence[_Plan],
        firsts: dict[str, int],
        actor: Actor,
        openings: list[Opening | None],
        made: list[Case | CallReceipt],
        keys: Sequence[str] = (),
    ) -> list[StoredEvent]:
        """The new cases (and receipts) with the numbers the store issued, as stored events. Runs
        inside the store's transaction, holding the day's counter: only what needs the number. A
        store may also call it before, with the numbers it expects to issue, and again inside if
        it issued others: each call replaces what the one before made."""
        numbers = dict(firsts)
        recorded = self.now()
        new: list[Case | CallReceipt] = []
        for n, plan in enumerate(plans):
            day = plan.at.date().isoformat()
            ticket_no = format_ticket_no(plan.at.date(), numbers[day])
            numbers[day] += 1
            key = keys[n] if keys else None
            case = Case.open(
                ticket_no,
                plan.call,
                actor,
                at=plan.at,
                reported_at=plan.reported_at,
                personal_key=key,
                dispatch=self.rules.handling.dispatch,
            )
            if self.is_confidential(plan.call):
                case.mark_confidential(actor, at=plan.at)
            if plan.unknown:
                case.hold_for_classification(actor, list(plan.unknown), at=plan.at)
            self._flag_if_emergency(case, actor, plan.at)
            if plan.department and plan.deadlines:
                self._assign(case, actor, plan.department, AUTO_DISPATCH_NOTE, plan.at, plan.deadlines)
            new.append(case)
            if plan.call.call_id:
                new.append(CallReceipt.record(plan.call.call_id, ticket_no, at=recorded))
            openings[plan.index] = Opening(ticket_no, created=True, department=plan.department)
        made[:] = new
        return [self.mapper.to_stored_event(e) for aggregate in new for e in aggregate.collect_events()]

    def _route(self, case: Case, actor: Actor, at: datetime) -> str | None:
        """Dispatch a new case where the routing rules place it; None leaves it to the dispatch centre."""
        department = self.suggested_department(case)
        if not department or department not in self.rules.departments:
            return None
        self._assign(case, actor, department, AUTO_DISPATCH_NOTE, at)
        return department

    def _assign(
        self, case: Case, actor: Actor, department: str, note: str, at: datetime, deadlines: CaseDeadlines | None = None
    ) -> None:
        """派单 (or 改派) with the deadlines the rules give from this moment (given: worked out already)."""
        refused = case.refusal("redispatch" if case.status in (RETURNED, DISPATCHED) else "dispatch", actor, at)
        if refused is not None:  # the domain's word first (a 待分类 case has no category to time it by)
            raise refused
        if department not in self.rules.departments:
            raise InvalidInput(f"未知承办单位：{department}")
        if deadlines is None:
            deadlines = self.rules.time_limits.deadlines(self.rules.calendar, case.category, case.urgency, at)
        reply_by, provisional = deadlines.reply_by.at, deadlines.provisional
        if case.status == RETURNED and not self.rules.handling.restart_deadlines and case.reply_by is not None:
            # rules/handling.toml: after a reviewed return the new department keeps the case's reply deadline.
            reply_by, provisional = case.reply_by, deadlines.sign_by.provisional or case.deadline_provisional
        dispatch = case.redispatch if case.status in (RETURNED, DISPATCHED) else case.dispatch
        dispatch(
            actor,
            department,
            sign_by=deadlines.sign_by.at,
            reply_by=reply_by,
            provisional=provisional,
            note=note,
            at=at,
        )
        if case.urgency == URGENT:  # 阶段性反馈 (rules/emergency.toml), counted from the dispatch
            case.request_interim_feedback(actor, self.rules.emergency.interim_due(at), at=at)

    def _flag_if_emergency(self, case: Case, actor: Actor, at: datetime) -> None:
        """A service on the emergency list is to be handed to an emergency desk within the limit."""
        emergency = self.rules.emergency
        if emergency.needs_handoff(case.service_code):
            case.flag_emergency(actor, list(emergency.desks_for(case.service_code)), emergency.handoff_due(at), at=at)

    def _check_call(self, call: Call, hold_unknown: bool = False) -> None:
        """A call the catalogue does not know is refused unless it is to open as 待分类."""
        unknown = call.unknown_to(self.rules.services)
        if unknown and not hold_unknown:
            raise InvalidInput("；".join(unknown))
        if call.district and call.district not in self.rules.districts:
            raise InvalidInput(f"未知区县：{call.district}")

    def ticket_for_call(self, call_id: str) -> str | None:
        """The ticket a call became, if it was logged already."""
        return self.tickets_for_calls([call_id]).get(call_id)

    def tickets_for_calls(self, call_ids: Sequence[str]) -> dict[str, str]:
        """The tickets these calls became, for those logged already: one query for the batch (a
        receipt is one event, never snapshotted or changed)."""
        if not call_ids:
            return {}
        recorder = cast(TicketRecorder, self.recorder)
        found = recorder.select_first_events([receipt_id(call_id) for call_id in set(call_ids)])
        receipts = [cast(CallReceipt.Received, self.mapper.to_domain_event(stored)) for stored in found]
        return {received.call_id: received.ticket_no for received in receipts}

    # ---- reading cases -------------------------------------------------------------------------

    def get_case(self, ticket_no: str, version: int | None = None) -> Case:
        try:
            case: Case = self.repository.get(case_id(ticket_no), version=version)
        except AggregateNotFoundError:
            raise CaseNotFound(ticket_no) from None
        return case

    def case_events(self, ticket_no: str) -> list[Case.Event]:
        """The case's events; once its personal data is erased, the opening shows it erased too."""
        events = cast(list[Case.Event], list(self.events.get(case_id(ticket_no))))
        if not events:
            raise CaseNotFound(ticket_no)
        if any(isinstance(e, Case.PersonalDataErased) for e in events):
            events = [e.as_erased() if isinstance(e, Case.Created) else e for e in events]
        return events

    def case_at(self, aggregate_id: UUID, version: int) -> Case:
        """The case as it stood at ``version``, showing an erasure of its personal data that came later."""
        case: Case = self.repository.get(aggregate_id, version=version)
        if not case.personal_data_erased and self.repository.get(aggregate_id).personal_data_erased:
            case.read_as_erased()
        return case

    def case_as_of(self, ticket_no: str, moment: datetime) -> Case | None:
        """The case as it stood at ``moment`` (None if it did not exist yet): time travel."""
        moment = as_china_time(moment)
        version = None
        for stored in self.case_events(ticket_no):
            if stored.timestamp > moment:
                break
            version = stored.originator_version
        return None if version is None else self.case_at(case_id(ticket_no), version)

    def case_ids(self) -> Iterator[UUID]:
        """Every case's id, in the order they were logged (or migrated)."""
        return self.originator_ids(Case.Opened.TOPIC, Case.Migrated.TOPIC)

    def all_cases(self) -> Iterator[Case]:
        for aggregate_id in self.case_ids():
            yield self.repository.get(aggregate_id)

    def suggested_department(self, case: Case) -> str | None:
        """Where the routing rules (rules/routing.csv) send this case."""
        return self.rules.routing.route(case.service_code, case.district)

    # ---- 待分类 ----------------------------------------------------------------------------------

    def classify(
        self, ticket_no: str, actor: Actor, service_code: str, category: str, note: str = "", **options: Any
    ) -> Case:
        """分类 a 待分类 case: the operator chooses its service and category; then, as for any call a
        channel sends, the emergency list flags it, its category's 保密 default applies, and the
        routing rules dispatch it where they place it (else it waits in the dispatch queue)."""

        def command(case: Case, at: datetime) -> None:
            case.classify(actor, service_code, category, self.rules.services, note, at=at)
            if not case.confidential and self.rules.privacy.confidential_by_default(case.category):
                case.mark_confidential(actor, at=at)
            self._flag_if_emergency(case, actor, at)
            self._route(case, actor, at)

        return self._change(ticket_no, command, **options)

    # ---- the hotline answers and dispatches --------------------------------------------------

    def answer_directly(self, ticket_no: str, actor: Actor, answer: str, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.answer_directly(actor, answer, at=at), **options)

    def dispatch(
        self, ticket_no: str, actor: Actor, department: str | None = None, note: str = "", **options: Any
    ) -> Case:
        """派单 (or 改派 for a returned case). No department given: the routing rules choose."""

        def command(case: Case, at: datetime) -> None:
            code = department or self.suggested_department(case)
            if not code:
                raise InvalidInput(f"服务事项 {case.service_code} 没有匹配的派单规则，请手动选择承办单位")
            self._assign(case, actor, code, note, at)

        return self._change(ticket_no, command, **options)

    # ---- the department's actions --------------------------------------------------------------

    def is_confidential(self, call: Call) -> bool:
        """保密 as the call asks, or by its category's default (rules/privacy.toml: 举报)."""
        if call.confidential is not None:
            return call.confidential
        return self.rules.privacy.confidential_by_default(call.category)

    def reveal_contact(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        """A department sees a 保密 caller's contact, with the reason recorded (an audited event)."""
        return self._change(ticket_no, lambda case, at: case.reveal_contact(actor, reason, at=at), **options)

    def sign(self, ticket_no: str, actor: Actor, reported_at: datetime | None = None, **options: Any) -> Case:
        def command(case: Case, at: datetime) -> None:
            case.sign(actor, at=at, reported_at=self._reported(case, reported_at, at))

        return self._change(ticket_no, command, **options)

    def assign_cooperation(
        self, ticket_no: str, actor: Actor, departments: Sequence[str], note: str = "", **options: Any
    ) -> Case:
        """主办 / 协办: name the departments that handle a part beside the lead (rules/departments.csv)."""
        known = self.rules.departments
        return self._change(
            ticket_no, lambda case, at: case.assign_cooperation(actor, list(departments), known, note, at=at), **options
        )

    def sign_part(self, ticket_no: str, actor: Actor, **options: Any) -> Case:
        """协办签收 by a cooperating department."""
        return self._change(ticket_no, lambda case, at: case.sign_part(actor, at=at), **options)

    def report_part(self, ticket_no: str, actor: Actor, content: str, **options: Any) -> Case:
        """报送协办情况: the cooperating department's part, for the lead to reply with."""
        return self._change(ticket_no, lambda case, at: case.report_part(actor, content, at=at), **options)

    def return_due(self, case: Case) -> datetime | None:
        """The last moment the department may ask to return the case (rules/handling.toml)."""
        if case.dispatched_at is None:
            return None
        return self.rules.handling.return_due(self.rules.calendar, case.dispatched_at).at

    def return_case(
        self,
        ticket_no: str,
        actor: Actor,
        reason: str,
        basis: str,
        reported_at: datetime | None = None,
        **options: Any,
    ) -> Case:
        """退单: asked within the limit, with the reason and basis; it waits for the dispatch centre's review."""

        def command(case: Case, at: datetime) -> None:
            due, reported = self.return_due(case), self._reported(case, reported_at, at)
            case.return_(actor, reason, basis, return_by=due or at, at=at, reported_at=reported)

        return self._change(ticket_no, command, **options)

    def approve_return(self, ticket_no: str, actor: Actor, note: str = "", **options: Any) -> Case:
        """The review agrees: the case waits in the dispatch queue for redispatch."""
        dispatch = self.rules.handling.dispatch  # the case waits for redispatch by the 派单时限 from now
        return self._change(
            ticket_no, lambda case, at: case.approve_return(actor, note, at=at, dispatch=dispatch), **options
        )

    def reject_return(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        """The review refuses: the case stays with the department, with the reason."""
        return self._change(ticket_no, lambda case, at: case.reject_return(actor, reason, at=at), **options)

    def extension_limit(self, case: Case) -> int:
        """The most working days one extension may ask for (rules/time_limits.csv)."""
        return self.rules.time_limits.limit_for(case.category, case.urgency).max_extension_days

    def extension_left(self, case: Case) -> int:
        """How many more working days of extension the case may still get (rules/time_limits.csv)."""
        total = self.rules.time_limits.limit_for(case.category, case.urgency).max_extension_total
        return max(0, total - case.extension_days_granted)

    def may_decide_extension(self, actor: Actor) -> bool:
        """The role is one rules/handling.toml names as an approver of extensions."""
        return actor.role in self.rules.handling.extension_approvers

    def request_extension(
        self,
        ticket_no: str,
        actor: Actor,
        working_days: int,
        reason: str,
        reported_at: datetime | None = None,
        **options: Any,
    ) -> Case:
        def command(case: Case, at: datetime) -> None:
            limit = self.rules.time_limits.limit_for(case.category, case.urgency)
            case.request_extension(
                actor,
                working_days,
                reason,
                max_days=limit.max_extension_days,
                max_total=limit.max_extension_total,
                at=at,
                reported_at=self._reported(case, reported_at, at),
            )

        return self._change(ticket_no, command, **options)

    def approve_extension(self, ticket_no: str, actor: Actor, **options: Any) -> Case:
        def command(case: Case, at: datetime) -> None:
            days = case.pending_extension["working_days"] if case.pending_extension else 0
            # The extra days run on from the current deadline, not from the approval.
            reply_by = self.rules.calendar.add_working_days(case.reply_by or at, days) if days else None
            case.approve_extension(
                actor,
                reply_by=reply_by.at if reply_by else case.reply_by,  # type: ignore[arg-type]
                approvers=self.rules.handling.extension_approvers,
                provisional=bool(reply_by and reply_by.provisional),
                at=at,
            )

        return self._change(ticket_no, command, **options)

    def reject_extension(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        approvers = self.rules.handling.extension_approvers
        return self._change(
            ticket_no, lambda case, at: case.reject_extension(actor, reason, approvers, at=at), **options
        )

    def urge(self, ticket_no: str, actor: Actor, note: str = "", **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.urge(actor, note, at=at), **options)

    def reply(
        self,
        ticket_no: str,
        actor: Actor,
        result: str,
        resolved: bool,
        reported_at: datetime | None = None,
        **options: Any,
    ) -> Case:
        def command(case: Case, at: datetime) -> None:
            case.reply(
                actor,
                result,
                resolved,
                at=at,
                reported_at=self._reported(case, reported_at, at),
                follow_up=self.rules.follow_up,  # the callback deadline, recorded on the reply
                calendar=self.rules.calendar,
            )

        return self._change(ticket_no, command, **options)

    # ---- the emergency path ------------------------------------------------------------------

    def hand_off(
        self,
        ticket_no: str,
        actor: Actor,
        desk: str,
        receiver: str,
        outcome: str,
        handed_off_at: datetime | None = None,
        note: str = "",
        **options: Any,
    ) -> Case:
        """转警 to 110 / 119 / 120 / 122: the time, the receiving desk, the outcome."""

        def command(case: Case, at: datetime) -> None:
            when = self._reported(case, handed_off_at, at, "转接时间") or at
            case.hand_off(
                actor, desk, receiver, outcome, when, self.rules.emergency.desks, HANDOFF_OUTCOMES, note, at=at
            )

        return self._change(ticket_no, command, **options)

    def give_interim_feedback(self, ticket_no: str, actor: Actor, content: str, **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.give_interim_feedback(actor, content, at=at), **options)

    # ---- callback, closing, reopening, merging -------------------------------------------------

    def record_callback(
        self,
        ticket_no: str,
        actor: Actor,
        reached: bool,
        satisfaction: str | None = None,
        resolved: bool | None = None,
        note: str = "",
        contacted_first: bool | None = None,
        reported_at: datetime | None = None,
        **options: Any,
    ) -> Case:
        """回访: reached, the caller's answers to 是否先行联系, 是否解决 and 满意度; not reached, one more
        attempt (rules/handling.toml says how many, on how many days, before 无法联系).
        ``reported_at``: when the call was made, for a callback entered afterwards."""
        rule = self.rules.handling.callback

        def command(case: Case, at: datetime) -> None:
            reported = self._reported(case, reported_at, at, "回访时间")
            case.record_callback(
                actor, reached, rule, contacted_first, satisfaction, resolved, note, at=at, reported_at=reported
            )

        return self._change(ticket_no, command, **options)

    def waive_rehandling(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        """不予重办: a supervisor records why an unsatisfied (or unsolved) case closes without 重办."""
        return self._change(ticket_no, lambda case, at: case.waive_rehandling(actor, reason, at=at), **options)

    def close_case(self, ticket_no: str, actor: Actor, note: str = "", **options: Any) -> Case:
        return self._change(ticket_no, lambda case, at: case.close(actor, note, at=at), **options)

    def reopen(self, ticket_no: str, actor: Actor, reason: str, **options: Any) -> Case:
        """重启 / 重办: dispatched anew; a closed case only within the window of rules/handling.toml."""
        days = self.rules.handling.callback.reopen_days
        dispatch = self.rules.handling.dispatch
        return self._change(
            ticket_no, lambda case, at: case.reopen(actor, reason, days, at=at, dispatch=dispatch), **options
        )

    def merged_calls(self, target: Case, tickets: Sequence[str]) -> Merged:
        """The calls merged into ``target`` (``tickets``: the case index's list, oldest first), each
        caller masked (domain/privacy.py), and 诉求人数 of them all with the target's own caller."""
        merged = [self.get_case(ticket) for ticket in tickets]
        calls = [
            MergedCall(
                case.ticket_no,
                case.created_on,
                mask_name(case.caller_name) or "匿名",
                mask_phone(case.caller_phone),
                scrub(case.description, (case.caller_name,)),
            )
            for case in merged
        ]
        return Merged(calls, distinct_callers([(c.caller_name, c.caller_phone) for c in (target, *merged)]))

    def merge(self, ticket_no: str, actor: Actor, into: str, **options: Any) -> Case:
        target = self.get_case(into)
        if not target.is_open:
            raise InvalidInput(f"目标工单 {into} 当前状态为“{target.status_name}”，不能并入")
        return self._change(ticket_no, lambda case, at: case.merge_into(actor, into, at=at), **options)

    def _reported(
        self, case: Case, reported_at: datetime | None, at: datetime, label: str = "报告时间"
    ) -> datetime | None:
        """A time the sender reported, if plausible (rules/time_plausibility.toml); else refused."""
        if reported_at is None:
            return None
        return self.rules.plausibility.check(reported_at, at, case.happened_at, label=label)

    def _change(self, ticket_no: str, command: Callable[[Case, datetime], None], **options: Any) -> Case:
        return self._run(self._for_command(lambda: self.get_case(ticket_no)), command, CASE_CHANGED, **options)
