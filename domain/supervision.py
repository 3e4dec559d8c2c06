"""A supervision item (督办事项) of the supervision ledger (督办台账), as an event-sourced aggregate.

Sources: a leader's written instruction (领导批示), a meeting decision (会议议定事项), or a hotline
case escalated because it ran overdue (超期工单转督办). The lead department reports progress weekly
(每周督促落实进度) and feedback monthly (每月反馈落实情况); the supervisor urges, changes the due
date (with a reason), verifies a reported completion and closes the item (销号), or reopens it.

The application computes the next weekly and monthly due moments with the working-day calendar and
records them on the events, so an item keeps the deadlines it was given when the rules change.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, DEPARTMENT, OPERATOR, SUPERVISOR, SYSTEM, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import DomainError, InvalidInput, InvalidTransition, NotPermitted
from hotline.domain.formats import MONTH_EXAMPLE, is_month
from hotline.domain.permits import Permit, Permitted
from hotline.domain.text import text
from hotline.domain.workdays import as_china_time

LEADER_INSTRUCTION = "leader_instruction"
MEETING_DECISION = "meeting_decision"
ESCALATED_CASE = "escalated_case"
SOURCES = {
    LEADER_INSTRUCTION: "领导批示",
    MEETING_DECISION: "会议议定事项",
    ESCALATED_CASE: "超期工单转督办",
}

IN_PROGRESS = "in_progress"
COMPLETION_REPORTED = "completion_reported"
VERIFIED = "verified"
REOPENED = "reopened"
STATUS_NAMES = {
    IN_PROGRESS: "落实中",
    COMPLETION_REPORTED: "已报完成待核验",
    VERIFIED: "已销号",
    REOPENED: "重新督办",
}
OPEN_STATUSES = (IN_PROGRESS, REOPENED)

CAN_REGISTER = (SUPERVISOR, ADMIN, OPERATOR)
CAN_SUPERVISE = (SUPERVISOR, ADMIN)
CAN_REPORT = (DEPARTMENT, SUPERVISOR, ADMIN)
CAN_URGE = (SUPERVISOR, ADMIN, SYSTEM)


class ItemNotFound(DomainError):
    def __init__(self, reference_no: str):
        super().__init__(f"督办事项 {reference_no} 不存在")
        self.reference_no = reference_no


def item_id(reference_no: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/supervision/{reference_no}")


def departments(values: Any, lead: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in re.split(r"[,，、\s]+", values) if v]
    result: list[str] = []
    for value in values:
        code = text(value, "配合单位", limit=64)
        if code != lead and code not in result:
            result.append(code)
    return result


class SupervisionItem(Permitted, HotlineAggregate):
    TOPIC = "hotline:SupervisionItem"

    PERMITS: ClassVar[dict[str, Permit]] = {
        "progress": Permit("报送进度", CAN_REPORT, OPEN_STATUSES, department_bound=True),
        "feedback": Permit("反馈落实情况", CAN_REPORT, OPEN_STATUSES, department_bound=True),
        "complete": Permit("报告办结", CAN_REPORT, OPEN_STATUSES, department_bound=True),
        "urge": Permit("催办督办事项", CAN_URGE, OPEN_STATUSES, state_action="催办"),
        "change_due": Permit("调整办结期限", CAN_SUPERVISE, OPEN_STATUSES),
        "verify": Permit("销号", CAN_SUPERVISE, (COMPLETION_REPORTED,)),
        "reopen": Permit("重新督办", CAN_SUPERVISE, (COMPLETION_REPORTED, VERIFIED)),
    }

    class Event(Aggregate.Event):
        TOPIC = "hotline:SupervisionItem.Event"
        actor_id: str
        actor_role: str

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:SupervisionItem.Created"

    class Registered(Created):
        TOPIC = "hotline:SupervisionItem.Registered"
        source: str
        reference_no: str
        leader: str
        meeting_ref: str
        ticket_no: str
        content: str
        lead_department: str
        cooperating_departments: list[str]
        due_at: datetime
        progress_due: datetime
        feedback_due: datetime
        provisional: bool

    @staticmethod
    def create_id(reference_no: str, **_: Any) -> UUID:
        return item_id(reference_no)

    @classmethod
    def register(
        cls,
        *,
        source: str,
        reference_no: str,
        content: str,
        lead_department: str,
        due_at: datetime,
        progress_due: datetime,
        feedback_due: datetime,
        actor: Actor,
        leader: str = "",
        meeting_ref: str = "",
        ticket_no: str = "",
        cooperating_departments: Any = None,
        provisional: bool = False,
        at: datetime | None = None,
    ) -> SupervisionItem:
        require_role(actor, (*CAN_REGISTER, SYSTEM), "登记督办事项")
        if source not in SOURCES:
            raise InvalidInput(f"未知督办来源：{source}")
        reference_no = text(reference_no, "督办编号", limit=64)
        lead = text(lead_department, "牵头单位", limit=64)
        leader = text(leader, "批示领导", required=source == LEADER_INSTRUCTION, limit=50)
        meeting_ref = text(meeting_ref, "会议编号", required=source == MEETING_DECISION, limit=64)
        ticket_no = text(ticket_no, "工单编号", required=source == ESCALATED_CASE, limit=32)
        if at is not None and due_at < at:
            raise InvalidInput("办结期限不能早于登记时间")
        return cls._create(
            cls.Registered,
            id=item_id(reference_no),
            timestamp=at,
            source=source,
            reference_no=reference_no,
            leader=leader,
            meeting_ref=meeting_ref,
            ticket_no=ticket_no,
            content=text(content, "督办内容"),
            lead_department=lead,
            cooperating_departments=departments(cooperating_departments, lead),
            due_at=due_at,
            progress_due=progress_due,
            feedback_due=feedback_due,
            provisional=provisional,
            **actor.fields,
        )

    @event(Registered)
    def __init__(
        self,
        source: str,
        reference_no: str,
        leader: str,
        meeting_ref: str,
        ticket_no: str,
        content: str,
        lead_department: str,
        cooperating_departments: list[str],
        due_at: datetime,
        progress_due: datetime,
        feedback_due: datetime,
        provisional: bool,
    ) -> None:
        self.source = source
        self.reference_no = reference_no
        self.leader = leader
        self.meeting_ref = meeting_ref
        self.ticket_no = ticket_no
        self.content = content
        self.lead_department = lead_department
        self.cooperating_departments = list(cooperating_departments)
        self.due_at = due_at
        self.progress_due = progress_due
        self.feedback_due = feedback_due
        self.provisional = provisional
        self.status = IN_PROGRESS
        self.latest_progress = ""
        self.latest_feedback = ""
        self.feedback_months: list[str] = []
        self.urge_count = 0
        self.completion_summary = ""
        self.verified_at: datetime | None = None
        self.reopen_count = 0

    # ---- reading ---------------------------------------------------------------------------

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def source_name(self) -> str:
        return SOURCES[self.source]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # ---- what the rules allow now -------------------------------------------------------------

    def _refuse(self, action: str) -> InvalidTransition:
        return InvalidTransition(f"督办事项 {self.reference_no} 当前状态为“{self.status_name}”，不能{action}")

    def _department_refusal(self, command: str, actor: Actor, action: str) -> DomainError | None:
        if actor.department not in (self.lead_department, *self.cooperating_departments):
            return NotPermitted(f"督办事项 {self.reference_no} 不涉及本单位，不能{action}")
        if command == "complete" and actor.department != self.lead_department:
            return NotPermitted(f"督办事项 {self.reference_no} 应由牵头单位报告办结")
        return None

    def _state_refusal(self, command: str, permit: Permit, actor: Actor, moment: datetime | None) -> DomainError | None:
        if command == "verify":
            if self.status == VERIFIED:
                return InvalidTransition(f"督办事项 {self.reference_no} 已销号，不能重复销号")
            if self.status != COMPLETION_REPORTED:
                return InvalidTransition(f"督办事项 {self.reference_no} 尚未报告办结，不能销号")
        return super()._state_refusal(command, permit, actor, moment)

    # ---- the departments report ---------------------------------------------------------------

    class ProgressReported(Event):
        TOPIC = "hotline:SupervisionItem.ProgressReported"
        content: str
        next_progress_due: datetime

    def report_progress(
        self, actor: Actor, content: str, next_progress_due: datetime, at: datetime | None = None
    ) -> None:
        """每周督促落实进度: the next report is due a week of working days later."""
        self._permit("progress", actor)
        self._record(
            self.ProgressReported, actor, at, content=text(content, "落实进度"), next_progress_due=next_progress_due
        )

    @event(ProgressReported)
    def _progress_reported(self, content: str, next_progress_due: datetime) -> None:
        self.latest_progress = content
        self.progress_due = next_progress_due

    class FeedbackSubmitted(Event):
        TOPIC = "hotline:SupervisionItem.FeedbackSubmitted"
        month: str
        content: str
        next_feedback_due: datetime

    def submit_feedback(
        self, actor: Actor, month: str, content: str, next_feedback_due: datetime, at: datetime | None = None
    ) -> None:
        """每月反馈落实情况, once per month."""
        self._permit("feedback", actor)
        if not is_month(month):
            raise InvalidInput(f"反馈月份格式不正确：{month}，请写成 {MONTH_EXAMPLE}")
        if month in self.feedback_months:
            raise InvalidTransition(f"督办事项 {self.reference_no} 已反馈过 {month} 的落实情况")
        if at is not None and month > f"{as_china_time(at):%Y-%m}":
            # A future month's feedback would push the next due date out and hide the months missed.
            raise InvalidInput(f"{month} 尚未开始，不能提前反馈该月的落实情况")
        self._record(
            self.FeedbackSubmitted,
            actor,
            at,
            month=month,
            content=text(content, "落实情况"),
            next_feedback_due=next_feedback_due,
        )

    @event(FeedbackSubmitted)
    def _feedback_submitted(self, month: str, content: str, next_feedback_due: datetime) -> None:
        self.latest_feedback = content
        self.feedback_months.append(month)
        self.feedback_due = next_feedback_due

    # ---- the supervisor urges and changes the due date ----------------------------------------

    class Urged(Event):
        TOPIC = "hotline:SupervisionItem.Urged"
        note: str

    def urge(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        self._permit("urge", actor)
        self._record(self.Urged, actor, at, note=text(note, "催办意见", required=False))

    @event(Urged)
    def _urged(self) -> None:
        self.urge_count += 1

    class DueDateChanged(Event):
        TOPIC = "hotline:SupervisionItem.DueDateChanged"
        due_at: datetime
        reason: str
        provisional: bool

    def change_due_date(
        self, actor: Actor, due_at: datetime, reason: str, provisional: bool = False, at: datetime | None = None
    ) -> None:
        self._permit("change_due", actor)
        if due_at == self.due_at:
            raise InvalidInput("新的办结期限与原期限相同")
        self._record(
            self.DueDateChanged, actor, at, due_at=due_at, reason=text(reason, "调整理由"), provisional=provisional
        )

    @event(DueDateChanged)
    def _due_date_changed(self, due_at: datetime, provisional: bool) -> None:
        self.due_at = due_at
        self.provisional = provisional

    # ---- completion, verification (销号), reopening --------------------------------------------

    class CompletionReported(Event):
        TOPIC = "hotline:SupervisionItem.CompletionReported"
        summary: str

    def report_completion(self, actor: Actor, summary: str, at: datetime | None = None) -> None:
        self._permit("complete", actor)
        self._record(self.CompletionReported, actor, at, summary=text(summary, "办结情况"))

    @event(CompletionReported)
    def _completion_reported(self, summary: str) -> None:
        self.completion_summary = summary
        self.status = COMPLETION_REPORTED

    class Verified(Event):
        TOPIC = "hotline:SupervisionItem.Verified"
        note: str

    def verify(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """销号: only a completion the lead department reported can be verified and closed."""
        self._permit("verify", actor)
        self._record(self.Verified, actor, at, note=text(note, "核验意见", required=False))

    @event(Verified)
    def _verified(self, timestamp: datetime) -> None:
        self.verified_at = timestamp
        self.status = VERIFIED

    class Reopened(Event):
        TOPIC = "hotline:SupervisionItem.Reopened"
        reason: str
        progress_due: datetime

    def reopen(self, actor: Actor, reason: str, progress_due: datetime, at: datetime | None = None) -> None:
        """重新督办: the completion did not hold up (before or after 销号)."""
        self._permit("reopen", actor)
        self._record(self.Reopened, actor, at, reason=text(reason, "重新督办理由"), progress_due=progress_due)

    @event(Reopened)
    def _reopened(self, progress_due: datetime) -> None:
        self.reopen_count += 1
        self.verified_at = None
        self.progress_due = progress_due
        self.status = REOPENED


EVENT_NAMES = {
    SupervisionItem.Registered: "登记",
    SupervisionItem.ProgressReported: "报送进度",
    SupervisionItem.FeedbackSubmitted: "月度反馈",
    SupervisionItem.Urged: "催办",
    SupervisionItem.DueDateChanged: "调整期限",
    SupervisionItem.CompletionReported: "报告办结",
    SupervisionItem.Verified: "销号",
    SupervisionItem.Reopened: "重新督办",
}
