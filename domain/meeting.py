"""A meeting (会议) whose decisions (会议议定事项) enter the supervision ledger.

Minutes that touch finance or personnel must be sent for signing (纪要送签) within a number of
working days of the meeting (3 by default, rules/follow_up.csv); the application computes that due
moment and records it on ``Held``. Each decision becomes a SupervisionItem, saved with the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, SUPERVISOR, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import DomainError, InvalidInput, InvalidTransition
from hotline.domain.permits import Permit, Permitted
from hotline.domain.supervision import CAN_REGISTER
from hotline.domain.text import text

HELD = "held"
MINUTES_SENT = "minutes_sent"
STATUS_NAMES = {HELD: "纪要待送签", MINUTES_SENT: "纪要已送签"}
NO_MINUTES_NEEDED = "无需送签"

CAN_SEND_MINUTES = (SUPERVISOR, ADMIN)
MAX_DECISIONS = 100


class MeetingNotFound(DomainError):
    def __init__(self, reference_no: str):
        super().__init__(f"会议 {reference_no} 不存在")
        self.reference_no = reference_no


def meeting_id(reference_no: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/meeting/{reference_no}")


@dataclass(frozen=True)
class Decision:
    """One decision of a meeting, to be supervised as an item."""

    content: str
    lead_department: str
    due_at: datetime
    cooperating_departments: tuple[str, ...] = field(default_factory=tuple)


class Meeting(Permitted, HotlineAggregate):
    TOPIC = "hotline:Meeting"

    PERMITS: ClassVar[dict[str, Permit]] = {"send_minutes": Permit("送签会议纪要", CAN_SEND_MINUTES)}

    class Event(Aggregate.Event):
        TOPIC = "hotline:Meeting.Event"
        actor_id: str
        actor_role: str

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:Meeting.Created"

    class Held(Created):
        TOPIC = "hotline:Meeting.Held"
        reference_no: str
        title: str
        chaired_by: str
        held_at: datetime
        touches_finance: bool
        touches_personnel: bool
        decision_refs: list[str]
        minutes_due: datetime | None
        provisional: bool

    @staticmethod
    def create_id(reference_no: str, **_: Any) -> UUID:
        return meeting_id(reference_no)

    @classmethod
    def hold(
        cls,
        *,
        reference_no: str,
        title: str,
        chaired_by: str,
        held_at: datetime,
        touches_finance: bool,
        touches_personnel: bool,
        decision_refs: list[str],
        minutes_due: datetime | None,
        actor: Actor,
        provisional: bool = False,
        at: datetime | None = None,
    ) -> Meeting:
        require_role(actor, CAN_REGISTER, "登记会议")
        if not isinstance(touches_finance, bool) or not isinstance(touches_personnel, bool):
            raise InvalidInput("请说明会议纪要是否涉及财务、人事")
        if not decision_refs:
            raise InvalidInput("会议至少要有一项议定事项")
        if len(decision_refs) > MAX_DECISIONS:
            raise InvalidInput(f"一次会议的议定事项不能超过 {MAX_DECISIONS} 项")
        if (touches_finance or touches_personnel) != (minutes_due is not None):
            raise InvalidInput("涉及财务、人事的会议纪要必须有送签期限")
        reference_no = text(reference_no, "会议编号", limit=64)
        return cls._create(
            cls.Held,
            id=meeting_id(reference_no),
            timestamp=at,
            reference_no=reference_no,
            title=text(title, "会议名称", limit=200),
            chaired_by=text(chaired_by, "主持领导", limit=50),
            held_at=held_at,
            touches_finance=touches_finance,
            touches_personnel=touches_personnel,
            decision_refs=list(decision_refs),
            minutes_due=minutes_due,
            provisional=provisional,
            **actor.fields,
        )

    @event(Held)
    def __init__(
        self,
        reference_no: str,
        title: str,
        chaired_by: str,
        held_at: datetime,
        touches_finance: bool,
        touches_personnel: bool,
        decision_refs: list[str],
        minutes_due: datetime | None,
        provisional: bool,
    ) -> None:
        self.reference_no = reference_no
        self.title = title
        self.chaired_by = chaired_by
        self.held_at = held_at
        self.touches_finance = touches_finance
        self.touches_personnel = touches_personnel
        self.decision_refs = list(decision_refs)
        self.minutes_due = minutes_due
        self.provisional = provisional
        self.minutes_sent_at: datetime | None = None
        self.status = HELD

    @property
    def needs_signing(self) -> bool:
        return self.minutes_due is not None

    @property
    def status_name(self) -> str:
        if not self.needs_signing:
            return NO_MINUTES_NEEDED
        return STATUS_NAMES[self.status]

    class MinutesSentForSigning(Event):
        TOPIC = "hotline:Meeting.MinutesSentForSigning"
        note: str

    def _state_refusal(self, command: str, permit: Permit, actor: Actor, moment: datetime | None) -> DomainError | None:
        if not self.needs_signing:
            return InvalidTransition(f"会议 {self.reference_no} 的纪要不涉及财务、人事，无需送签")
        if self.status == MINUTES_SENT:
            return InvalidTransition(f"会议 {self.reference_no} 的纪要已送签，不能重复送签")
        return None

    def send_minutes_for_signing(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        self._permit("send_minutes", actor)
        self._record(self.MinutesSentForSigning, actor, at, note=text(note, "送签说明", required=False))

    @event(MinutesSentForSigning)
    def _minutes_sent(self, timestamp: datetime) -> None:
        self.minutes_sent_at = timestamp
        self.status = MINUTES_SENT


EVENT_NAMES = {Meeting.Held: "召开会议", Meeting.MinutesSentForSigning: "纪要送签"}
