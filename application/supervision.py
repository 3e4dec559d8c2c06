"""Supervision (督办): leader instructions, meeting decisions and escalated cases in the 督办台账.

Same conventions as the case commands (``application/base.py``). Deadlines (weekly progress,
monthly feedback, minutes signing) are computed here from the rules and recorded on the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from eventsourcing.application import AggregateNotFoundError

from hotline.application.cases import CASE_CHANGED, CaseCommands
from hotline.domain.actors import Actor
from hotline.domain.errors import ConcurrentUpdate, InvalidInput
from hotline.domain.follow_up import FollowUpRules
from hotline.domain.formats import MONTH_EXAMPLE, is_month
from hotline.domain.meeting import Decision, Meeting, MeetingNotFound, meeting_id
from hotline.domain.supervision import (
    ESCALATED_CASE,
    LEADER_INSTRUCTION,
    MEETING_DECISION,
    ItemNotFound,
    SupervisionItem,
    departments,
    item_id,
)
from hotline.domain.text import text
from hotline.domain.workdays import CHINA_TZ, END_OF_DAY, Deadline, as_china_time

ITEM_CHANGED = "该督办事项已被他人更新，请刷新后重试"
MEETING_CHANGED = "该会议已被他人更新，请刷新后重试"


def due_moment(value: date | datetime | str, label: str = "办结期限") -> datetime:
    """A due date as the users give it: a day means the end of that day (Beijing time)."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()) if len(value.strip()) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{label}格式不正确：{value}，请写成 2025-10-31") from None
    if isinstance(value, datetime):
        return as_china_time(value)
    if isinstance(value, date):
        return datetime.combine(value, END_OF_DAY, CHINA_TZ)
    raise InvalidInput(f"{label}必须是日期")


class SupervisionCommands(CaseCommands):
    """Builds on the case commands: an overdue case can be escalated into the ledger."""

    # ---- deadlines from the rules ----------------------------------------------------------

    @property
    def follow_up(self) -> FollowUpRules:
        return self.rules.follow_up

    def _progress_due(self, since: datetime) -> Deadline:
        return self.follow_up.progress_due(self.rules.calendar, since)

    def _feedback_due_after(self, month: str | None, since: datetime) -> Deadline:
        """The next monthly feedback: this month's, or the month after the one just reported."""
        if month is None:
            year, number = since.year, since.month
        else:
            year, number = int(month[:4]), int(month[5:])
            year, number = (year + 1, 1) if number == 12 else (year, number + 1)
        return self.follow_up.feedback_due(self.rules.calendar, year, number)

    def _check_department(self, code: str) -> None:
        if code not in self.rules.departments:
            raise InvalidInput(f"未知承办单位：{code}")

    # ---- registering ------------------------------------------------------------------------

    def register_instruction(
        self,
        reference_no: str,
        actor: Actor,
        *,
        leader: str,
        content: str,
        lead_department: str,
        due: date | datetime | str,
        cooperating_departments: Iterable[str] = (),
    ) -> SupervisionItem:
        """登记领导批示 as a supervision item."""
        return self._register(
            LEADER_INSTRUCTION,
            reference_no,
            actor,
            leader=leader,
            content=content,
            lead_department=lead_department,
            due=due,
            cooperating_departments=cooperating_departments,
        )

    def _new_item(
        self,
        source: str,
        reference_no: str,
        actor: Actor,
        *,
        content: str,
        lead_department: str,
        due: date | datetime | str,
        cooperating_departments: Iterable[str] = (),
        leader: str = "",
        meeting_ref: str = "",
        ticket_no: str = "",
        at: datetime,
    ) -> SupervisionItem:
        lead = text(lead_department, "牵头单位", limit=64)
        self._check_department(lead)
        cooperating = departments(cooperating_departments, lead)
        for code in cooperating:
            self._check_department(code)
        due_at = due_moment(due)
        progress = self._progress_due(at)
        feedback = self._feedback_due_after(None, at)
        return SupervisionItem.register(
            source=source,
            reference_no=reference_no,
            content=content,
            lead_department=lead,
            cooperating_departments=cooperating,
            due_at=due_at,
            progress_due=progress.at,
            feedback_due=feedback.at,
            provisional=progress.provisional or feedback.provisional or not self.rules.calendar.is_known(due_at.year),
            leader=leader,
            meeting_ref=meeting_ref,
            ticket_no=ticket_no,
            actor=actor,
            at=at,
        )

    def _register(self, source: str, reference_no: str, actor: Actor, **fields: Any) -> SupervisionItem:
        item = self._new_item(source, reference_no, actor, at=self.now(), **fields)
        self._save_new(item, message=f"督办编号 {item.reference_no} 已存在")
        return item

    def hold_meeting(
        self,
        reference_no: str,
        actor: Actor,
        *,
        title: str,
        chaired_by: str,
        held_at: datetime,
        decisions: Sequence[Decision],
        touches_finance: bool = False,
        touches_personnel: bool = False,
    ) -> Meeting:
        """登记会议 and its decisions: each decision becomes an item ``<会议编号>-<n>``, saved with it."""
        at = self.now()
        held_at = as_china_time(held_at)
        if held_at > at:
            raise InvalidInput("会议时间不能晚于登记时间")
        reference_no = text(reference_no, "会议编号", limit=60)
        if not decisions:
            raise InvalidInput("会议至少要有一项议定事项")
        items = [
            self._new_item(
                MEETING_DECISION,
                f"{reference_no}-{number}",
                actor,
                content=decision.content,
                lead_department=decision.lead_department,
                due=decision.due_at,
                cooperating_departments=decision.cooperating_departments,
                meeting_ref=reference_no,
                at=at,
            )
            for number, decision in enumerate(decisions, 1)
        ]
        minutes = (
            self.follow_up.minutes_due(self.rules.calendar, held_at) if touches_finance or touches_personnel else None
        )
        meeting = Meeting.hold(
            reference_no=reference_no,
            title=title,
            chaired_by=chaired_by,
            held_at=held_at,
            touches_finance=touches_finance,
            touches_personnel=touches_personnel,
            decision_refs=[item.reference_no for item in items],
            minutes_due=minutes.at if minutes else None,
            provisional=bool(minutes and minutes.provisional),
            actor=actor,
            at=at,
        )
        self._save_new(meeting, *items, message=f"会议编号 {reference_no} 或其议定事项编号已存在")
        return meeting

    def escalate_case(
        self,
        ticket_no: str,
        actor: Actor,
        *,
        due: date | datetime | str,
        content: str = "",
        lead_department: str | None = None,
        cooperating_departments: Iterable[str] = (),
        expected_version: int | None = None,
    ) -> SupervisionItem:
        """超期工单转督办: only a case past its signing or reply deadline, and only once; the ticket is
        the reference. The item and the case's 转督办 event are saved together: each shows the other.
        A case that changed since the version the user saw, or while this was being saved, is refused
        with 请刷新后重试 (the user looks again), never taken for an escalation already made."""
        at = self.now()
        case = self.get_case(ticket_no)
        if expected_version is not None and case.version != expected_version:
            raise ConcurrentUpdate(CASE_CHANGED)
        case._permit("escalate", actor, at)
        department = lead_department or case.department or ""  # a case in hand always has one
        summary = content or f"工单 {ticket_no} 超期未办结：{case.description}"
        item = self._new_item(
            ESCALATED_CASE,
            ticket_no,
            actor,
            at=at,
            content=summary[:4000],
            lead_department=department,
            due=due,
            cooperating_departments=cooperating_departments,
            ticket_no=ticket_no,
        )
        case.escalate(actor, item.reference_no, at=at)
        # Refused as existing: the item (a case escalated before its 转督办 was recorded, or by another
        # supervisor at the same moment); otherwise the case changed meanwhile (a race on its version).
        self._save_new(
            item,
            case,
            message=f"工单 {ticket_no} 已转督办（督办编号 {item.reference_no}），不能重复转督办",
            changed=CASE_CHANGED,
        )
        return item

    # ---- reading ----------------------------------------------------------------------------

    def get_item(self, reference_no: str, version: int | None = None) -> SupervisionItem:
        try:
            item: SupervisionItem = self.repository.get(item_id(reference_no), version=version)
        except AggregateNotFoundError:
            raise ItemNotFound(reference_no) from None
        return item

    def item_events(self, reference_no: str) -> list[SupervisionItem.Event]:
        events = cast(list[SupervisionItem.Event], list(self.events.get(item_id(reference_no))))
        if not events:
            raise ItemNotFound(reference_no)
        return events

    def get_meeting(self, reference_no: str) -> Meeting:
        try:
            meeting: Meeting = self.repository.get(meeting_id(reference_no))
        except AggregateNotFoundError:
            raise MeetingNotFound(reference_no) from None
        return meeting

    # ---- following an item up ---------------------------------------------------------------

    def report_progress(self, reference_no: str, actor: Actor, content: str, **options: Any) -> SupervisionItem:
        return self._change_item(
            reference_no,
            lambda item, at: item.report_progress(actor, content, self._progress_due(at).at, at=at),
            **options,
        )

    def submit_feedback(
        self, reference_no: str, actor: Actor, month: str, content: str, **options: Any
    ) -> SupervisionItem:
        def command(item: SupervisionItem, at: datetime) -> None:
            if not is_month(month):
                raise InvalidInput(f"反馈月份格式不正确：{month}，请写成 {MONTH_EXAMPLE}")
            item.submit_feedback(actor, month, content, self._feedback_due_after(month, at).at, at=at)

        return self._change_item(reference_no, command, **options)

    def urge_item(self, reference_no: str, actor: Actor, note: str = "", **options: Any) -> SupervisionItem:
        return self._change_item(reference_no, lambda item, at: item.urge(actor, note, at=at), **options)

    def change_due_date(
        self, reference_no: str, actor: Actor, due: date | datetime | str, reason: str, **options: Any
    ) -> SupervisionItem:
        def command(item: SupervisionItem, at: datetime) -> None:
            due_at = due_moment(due)
            if due_at < at:
                raise InvalidInput("新的办结期限不能早于当前时间")
            item.change_due_date(actor, due_at, reason, not self.rules.calendar.is_known(due_at.year), at=at)

        return self._change_item(reference_no, command, **options)

    def report_completion(self, reference_no: str, actor: Actor, summary: str, **options: Any) -> SupervisionItem:
        return self._change_item(
            reference_no, lambda item, at: item.report_completion(actor, summary, at=at), **options
        )

    def verify_item(self, reference_no: str, actor: Actor, note: str = "", **options: Any) -> SupervisionItem:
        return self._change_item(reference_no, lambda item, at: item.verify(actor, note, at=at), **options)

    def reopen_item(self, reference_no: str, actor: Actor, reason: str, **options: Any) -> SupervisionItem:
        return self._change_item(
            reference_no, lambda item, at: item.reopen(actor, reason, self._progress_due(at).at, at=at), **options
        )

    def send_minutes_for_signing(self, reference_no: str, actor: Actor, note: str = "", **options: Any) -> Meeting:
        return self._change_meeting(
            reference_no, lambda meeting, at: meeting.send_minutes_for_signing(actor, note, at=at), **options
        )

    def _change_item(
        self, reference_no: str, command: Callable[[SupervisionItem, datetime], None], **options: Any
    ) -> SupervisionItem:
        return self._run(self._for_command(lambda: self.get_item(reference_no)), command, ITEM_CHANGED, **options)

    def _change_meeting(
        self, reference_no: str, command: Callable[[Meeting, datetime], None], **options: Any
    ) -> Meeting:
        return self._run(self._for_command(lambda: self.get_meeting(reference_no)), command, MEETING_CHANGED, **options)
