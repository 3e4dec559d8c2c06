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
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import ADMIN, DEPARTMENT, OPERATOR, SUPERVISOR, SYSTEM, Actor, require_role
from domain.errors import DomainError, InvalidInput, InvalidTransition, NotPermitted
from domain.text import text

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

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


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


class SupervisionItem(Aggregate):
    TOPIC = "hotline:SupervisionItem"

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
        actor_id: str
        actor_role: str

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
        require_role(actor, CAN_REGISTER + (SYSTEM,), "登记督办事项")
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
        actor_id: str,
        actor_role: str,
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

    def _refuse(self, action: str) -> InvalidTransition:
        return InvalidTransition(f"督办事项 {self.reference_no} 当前状态为“{self.status_name}”，不能{action}")

    def _require_open(self, action: str) -> None:
        if not self.is_open:
            raise self._refuse(action)

    def _require_reporter(self, actor: Actor, action: str) -> None:
        require_role(actor, CAN_REPORT, action)
        involved = [self.lead_department, *self.cooperating_departments]
        if actor.role == DEPARTMENT and actor.department not in involved:
            raise NotPermitted(f"督办事项 {self.reference_no} 不涉及本单位，不能{action}")

    # ---- the departments report ---------------------------------------------------------------

    class ProgressReported(Event):
        TOPIC = "hotline:SupervisionItem.ProgressReported"
        content: str
        next_progress_due: datetime

    def report_progress(
        self, actor: Actor, content: str, next_progress_due: datetime, at: datetime | None = None
    ) -> None:
        """每周督促落实进度: the next report is due a week of working days later."""
        self._require_reporter(actor, "报送进度")
        self._require_open("报送进度")
        self._progress_reported(
            content=text(content, "落实进度"), next_progress_due=next_progress_due, timestamp=at, **actor.fields
        )

    @event(ProgressReported)
    def _progress_reported(
        self, content: str, next_progress_due: datetime, actor_id: str, actor_role: str, timestamp: datetime
    ) -> None:
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
        self._require_reporter(actor, "反馈落实情况")
        self._require_open("反馈落实情况")
        if not isinstance(month, str) or not MONTH.match(month):
            raise InvalidInput(f"反馈月份格式不正确：{month}，请写成 2025-10")
        if month in self.feedback_months:
            raise InvalidTransition(f"督办事项 {self.reference_no} 已反馈过 {month} 的落实情况")
        self._feedback_submitted(
            month=month,
            content=text(content, "落实情况"),
            next_feedback_due=next_feedback_due,
            timestamp=at,
            **actor.fields,
        )

    @event(FeedbackSubmitted)
    def _feedback_submitted(
        self,
        month: str,
        content: str,
        next_feedback_due: datetime,
        actor_id: str,
        actor_role: str,
        timestamp: datetime,
    ) -> None:
        self.latest_feedback = content
        self.feedback_months.append(month)
        self.feedback_due = next_feedback_due

    # ---- the supervisor urges and changes the due date ----------------------------------------

    class Urged(Event):
        TOPIC = "hotline:SupervisionItem.Urged"
        note: str

    def urge(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        require_role(actor, CAN_URGE, "催办督办事项")
        self._require_open("催办")
        self._urged(note=text(note, "催办意见", required=False), timestamp=at, **actor.fields)

    @event(Urged)
    def _urged(self, note: str, actor_id: str, actor_role: str, timestamp: datetime) -> None:
        self.urge_count += 1

    class DueDateChanged(Event):
        TOPIC = "hotline:SupervisionItem.DueDateChanged"
        due_at: datetime
        reason: str
        provisional: bool

    def change_due_date(
        self, actor: Actor, due_at: datetime, reason: str, provisional: bool = False, at: datetime | None = None
    ) -> None:
        require_role(actor, CAN_SUPERVISE, "调整办结期限")
        self._require_open("调整办结期限")
        if due_at == self.due_at:
            raise InvalidInput("新的办结期限与原期限相同")
        self._due_date_changed(
            due_at=due_at, reason=text(reason, "调整理由"), provisional=provisional, timestamp=at, **actor.fields
        )

    @event(DueDateChanged)
    def _due_date_changed(
        self, due_at: datetime, reason: str, provisional: bool, actor_id: str, actor_role: str, timestamp: datetime
    ) -> None:
        self.due_at = due_at
        self.provisional = provisional

    # ---- completion, verification (销号), reopening --------------------------------------------

    class CompletionReported(Event):
        TOPIC = "hotline:SupervisionItem.CompletionReported"
        summary: str

    def report_completion(self, actor: Actor, summary: str, at: datetime | None = None) -> None:
        self._require_reporter(actor, "报告办结")
        if actor.role == DEPARTMENT and actor.department != self.lead_department:
            raise NotPermitted(f"督办事项 {self.reference_no} 应由牵头单位报告办结")
        self._require_open("报告办结")
        self._completion_reported(summary=text(summary, "办结情况"), timestamp=at, **actor.fields)

    @event(CompletionReported)
    def _completion_reported(self, summary: str, actor_id: str, actor_role: str, timestamp: datetime) -> None:
        self.completion_summary = summary
        self.status = COMPLETION_REPORTED

    class Verified(Event):
        TOPIC = "hotline:SupervisionItem.Verified"
        note: str

    def verify(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """销号: only a completion the lead department reported can be verified and closed."""
        require_role(actor, CAN_SUPERVISE, "销号")
        if self.status == VERIFIED:
            raise InvalidTransition(f"督办事项 {self.reference_no} 已销号，不能重复销号")
        if self.status != COMPLETION_REPORTED:
            raise InvalidTransition(f"督办事项 {self.reference_no} 尚未报告办结，不能销号")
        self._verified(note=text(note, "核验意见", required=False), timestamp=at, **actor.fields)

    @event(Verified)
    def _verified(self, note: str, actor_id: str, actor_role: str, timestamp: datetime) -> None:
        self.verified_at = timestamp
        self.status = VERIFIED

    class Reopened(Event):
        TOPIC = "hotline:SupervisionItem.Reopened"
        reason: str
        progress_due: datetime

    def reopen(self, actor: Actor, reason: str, progress_due: datetime, at: datetime | None = None) -> None:
        """重新督办: the completion did not hold up (before or after 销号)."""
        require_role(actor, CAN_SUPERVISE, "重新督办")
        if self.status not in (COMPLETION_REPORTED, VERIFIED):
            raise self._refuse("重新督办")
        self._reopened(reason=text(reason, "重新督办理由"), progress_due=progress_due, timestamp=at, **actor.fields)

    @event(Reopened)
    def _reopened(
        self, reason: str, progress_due: datetime, actor_id: str, actor_role: str, timestamp: datetime
    ) -> None:
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
