"""Closing a month (月度结账): the month's 三率 and ranking, frozen.

When a month is closed, the figures the one metrics function computed for it (every department's
counts, rates, score and rank) are recorded as an event, with the digest of the rule files they
were computed under and the position and audit-chain head of the event log they were computed
from. Later events never change a closed month: a correction is an explicit adjustment (申诉: a
department appeals; 甄别: the hotline reviews a case), recording who asked, why, who approved it,
and the figures before and after. A month is closed only once, and only after it has ended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, SUPERVISOR, SYSTEM, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import InvalidInput, InvalidTransition
from hotline.domain.formats import MONTH_EXAMPLE, is_month, month_bounds
from hotline.domain.text import text

CAN_CLOSE = (SUPERVISOR, ADMIN, SYSTEM)
CAN_ADJUST = (SUPERVISOR, ADMIN)
APPEAL, REVIEW = "appeal", "review"
ADJUSTMENT_KINDS = {APPEAL: "申诉", REVIEW: "甄别"}
# What an adjustment may set on a department's row: the counts and rates the figures hold.
ADJUSTABLE = (
    "due_for_response",
    "responded",
    "callbacks",
    "resolved",
    "satisfied",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "score",
)


def month_close_id(month: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/month-close/{month}")


class MonthClose(HotlineAggregate):
    TOPIC = "hotline:MonthClose"

    class Event(Aggregate.Event):
        TOPIC = "hotline:MonthClose.Event"
        actor_id: str
        actor_role: str

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:MonthClose.Created"

    class Closed(Created):
        TOPIC = "hotline:MonthClose.Closed"
        month: str
        figures: list[dict[str, Any]]  # one row per department, as the metrics function gave it
        rules_digest: str  # SHA-256 of the rule files the figures were computed under
        log_position: int  # the last event of the log the figures were computed from
        chain_head: str  # the audit chain's head then (seq:mac): what that log looked like

    class Adjusted(Event):
        TOPIC = "hotline:MonthClose.Adjusted"
        kind: str  # appeal 申诉 / review 甄别
        department: str
        requested_by: str  # who asked (a department, a person)
        reason: str
        before: dict[str, Any]
        after: dict[str, Any]

    @staticmethod
    def create_id(month: str, **_: Any) -> UUID:
        return month_close_id(month)

    @classmethod
    def close(
        cls,
        month: str,
        figures: list[dict[str, Any]],
        rules_digest: str,
        log_position: int,
        chain_head: str,
        actor: Actor,
        at: datetime,
    ) -> MonthClose:
        require_role(actor, CAN_CLOSE, "月度结账")
        if not is_month(month):
            raise InvalidInput(f"月份格式不正确：{month}，请写成 {MONTH_EXAMPLE}")
        if at < month_bounds(month)[1]:
            raise InvalidTransition(f"{month} 尚未结束，不能结账")
        return cls._create(
            cls.Closed,
            id=month_close_id(month),
            timestamp=at,
            month=month,
            figures=[dict(row) for row in figures],
            rules_digest=rules_digest,
            log_position=log_position,
            chain_head=chain_head,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    @event(Closed)
    def __init__(
        self,
        month: str,
        figures: list[dict[str, Any]],
        rules_digest: str,
        log_position: int,
        chain_head: str,
        actor_id: str,
    ) -> None:
        self.month = month
        self.figures = figures
        self.rules_digest = rules_digest
        self.log_position = log_position
        self.chain_head = chain_head
        self.closed_by = actor_id
        self.adjustments: list[dict[str, Any]] = []

    def adjust(
        self,
        kind: str,
        department: str,
        changes: dict[str, Any],
        requested_by: str,
        reason: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """申诉 / 甄别: set some of a department's frozen figures, approved by ``actor``."""
        require_role(actor, CAN_ADJUST, "调整结账数据")
        if kind not in ADJUSTMENT_KINDS:
            raise InvalidInput("调整类型应为申诉或甄别")
        row = next((row for row in self.figures if row.get("department") == department), None)
        if row is None:
            raise InvalidInput(f"{self.month} 的结账数据中没有承办单位 {department}")
        unknown = [name for name in changes if name not in ADJUSTABLE]
        if unknown or not changes:
            raise InvalidInput(f"只能调整这些数据：{'、'.join(ADJUSTABLE)}")
        for name, value in changes.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise InvalidInput(f"{name} 必须是不小于 0 的数字")
        before = {name: row.get(name) for name in changes}
        if before == changes:
            raise InvalidInput("调整后的数据与结账数据相同")
        self._record(
            self.Adjusted,
            actor,
            at,
            kind=kind,
            department=department,
            requested_by=text(requested_by, "提出人", limit=100),
            reason=text(reason, "调整理由", limit=1000),
            before=before,
            after=dict(changes),
        )

    @event(Adjusted)
    def _adjusted(
        self,
        kind: str,
        department: str,
        requested_by: str,
        reason: str,
        before: dict[str, Any],
        after: dict[str, Any],
        actor_id: str,
        timestamp: datetime,
    ) -> None:
        for row in self.figures:
            if row.get("department") == department:
                row.update(after)  # the ranking is recomputed from the scores where it is shown
        self.adjustments.append(
            {
                "kind": kind,
                "department": department,
                "requested_by": requested_by,
                "reason": reason,
                "approved_by": actor_id,
                "at": timestamp,
                "before": before,
                "after": after,
            }
        )
