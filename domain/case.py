"""The hotline case (工单) as an event-sourced aggregate.

Lifecycle: opened (待分类 first when the catalogue does not know the call's service or category,
until the dispatch centre classifies it) → answered directly, or dispatched → signed | returned → redispatched →
extension requested → approved / rejected → urged → replied → callback recorded → closed |
reopened; a duplicate is merged into another case. docs/architecture.md draws it.

Each public command asks the permits table (``PERMITS``) first, then checks what the user typed,
and only then records its event, so a refused command stores nothing; the ``@event`` methods only
apply state and are replayed when the case is loaded. Every event carries the actor (id and role)
and its time (the event timestamp), added by ``_record``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, DEPARTMENT, OPERATOR, SUPERVISOR, SYSTEM, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.catalogue import CATEGORIES, CHANNELS, SATISFACTION, URGENCIES
from hotline.domain.deadlines import is_overdue
from hotline.domain.emergency import HANDED_OVER
from hotline.domain.errors import DomainError, InvalidInput, InvalidTransition, NotPermitted
from hotline.domain.follow_up import FollowUpRules
from hotline.domain.formats import PHONE, TICKET_NO
from hotline.domain.handling import CallbackRules, DispatchRules
from hotline.domain.notifications import SmsReplyRules, reply_words
from hotline.domain.permits import Permit, Permitted
from hotline.domain.privacy import ERASED, PERSONAL_FIELDS
from hotline.domain.text import text
from hotline.domain.workdays import CHINA_TZ, WorkingDayCalendar

OPENED = "opened"
UNCLASSIFIED = "unclassified"  # 待分类: the catalogue does not know the service or category the channel sent
ANSWERED = "answered"
DISPATCHED = "dispatched"
SIGNED = "signed"
RETURNED = "returned"
REPLIED = "replied"
CALLED_BACK = "called_back"
CLOSED = "closed"
REOPENED = "reopened"
MERGED = "merged"

STATUS_NAMES = {
    OPENED: "待派单",
    UNCLASSIFIED: "待分类",
    ANSWERED: "已直接答复",
    DISPATCHED: "待签收",
    SIGNED: "办理中",
    RETURNED: "已退单待改派",
    REPLIED: "已答复待回访",
    CALLED_BACK: "已回访待办结",
    CLOSED: "已办结",
    REOPENED: "已重启待派单",
    MERGED: "已并单",
}
FINISHED = (ANSWERED, CLOSED, MERGED)
UNFINISHED = tuple(status for status in STATUS_NAMES if status not in FINISHED)

# Who may run each command. Department staff also have to belong to the case's department.
CAN_INTAKE = (OPERATOR, SYSTEM, ADMIN)
CAN_DISPATCH = (OPERATOR, SYSTEM, ADMIN)
CAN_HANDLE = (DEPARTMENT,)
CAN_REVIEW_RETURN = (OPERATOR, SUPERVISOR, ADMIN)  # the dispatch centre reviews returns (派单异议审核)
# The widest set; rules/handling.toml names which of these roles approve (``approve_extension``).
CAN_DECIDE_EXTENSION = (OPERATOR, SUPERVISOR, ADMIN)
CAN_URGE = (OPERATOR, SUPERVISOR, ADMIN, SYSTEM)
CAN_FOLLOW_UP = (OPERATOR, ADMIN)
CAN_ESCALATE = (SUPERVISOR, ADMIN, SYSTEM)  # 转督办
CAN_WAIVE_REHANDLING = (SUPERVISOR, ADMIN)  # 不满意、未解决的工单不予重办，须督办员说明理由
CAN_MERGE = (OPERATOR, SUPERVISOR, ADMIN)  # 并单; the supervisor merges a 集中诉求 cluster in one step
CAN_HAND_OFF = (OPERATOR, ADMIN)  # 转 110 / 119 / 120 / 122
CAN_ERASE = (ADMIN, SYSTEM)  # 删除个人信息: an admin on request (hotline privacy erase), the retention job
CAN_RECEIVE_SMS = (SYSTEM,)  # 短信回复: only the SMS gateway's signed callback records them
CAN_MIGRATE = (ADMIN,)  # 导入原系统的迁移数据 (hotline import cases)
MIGRATE_ACTION = "导入迁移数据"
IN_HANDS = (DISPATCHED, SIGNED)  # the department is working against a deadline
AWAITING_DISPATCH = (UNCLASSIFIED, OPENED, REOPENED, RETURNED)  # the dispatch centre's queue
AWAITING_CALLBACK = (REPLIED,)  # the hotline calls the citizen back
# In each state the department works against one deadline: signing, then replying.
DEADLINE_OF_STATUS = {DISPATCHED: "sign_by", SIGNED: "reply_by"}


def event_moment(at: datetime | None) -> datetime:
    """The moment an event recorded ``at`` takes (None: now, as the library stamps it), so that a
    deadline counted from it is counted from the event's own timestamp."""
    return at if at is not None else Aggregate.Event.create_timestamp()


def dispatch_due(dispatch: DispatchRules | None, moment: datetime) -> datetime | None:
    """派单时限 of a case entering the dispatch centre's queue at ``moment`` (None: no rule given,
    nothing recorded; the read model then counts it as it did before it was recorded)."""
    return dispatch.dispatch_due(moment) if dispatch is not None else None


def current_deadline(status: str, sign_by: datetime | None, reply_by: datetime | None) -> datetime | None:
    """The deadline the department is working against now (``DEADLINE_OF_STATUS``)."""
    return {"sign_by": sign_by, "reply_by": reply_by}.get(DEADLINE_OF_STATUS.get(status, ""))


def distinct_callers(callers: Iterable[tuple[str, str]]) -> int:
    """诉求人数 of a case and the calls merged into it: each (name, phone) counted once by its phone
    number (digits only), else by its name; an anonymous call without either counts as one caller."""
    seen: set[str] = set()
    anonymous = 0
    for name, phone in callers:
        digits = "".join(ch for ch in phone or "" if ch.isdigit())
        key = f"phone:{digits[-11:]}" if digits else (f"name:{name.strip()}" if (name or "").strip() else "")
        if key:
            seen.add(key)
        else:
            anonymous += 1
    return len(seen) + anonymous


def case_id(ticket_no: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/case/{ticket_no}")


@dataclass(frozen=True)
class Call:
    """What a caller told the hotline: the content of a new case."""

    channel: str
    category: str
    service_code: str
    description: str
    caller_name: str = ""
    caller_phone: str = ""
    urgency: str = "normal"
    address: str = ""
    district: str = ""
    lat: float | None = None
    long: float | None = None
    call_id: str | None = None
    # 保密: None leaves it to the category's default (rules/privacy.toml); True or False as asked.
    confidential: bool | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise InvalidInput(f"未知渠道：{self.channel}")
        # A category or service code the catalogue does not know is kept as sent: the case opens
        # 待分类 (``unknown_to``), or the operator's form refuses it.
        object.__setattr__(self, "category", text(self.category, "诉求类别", required=False, limit=64))
        if self.urgency not in URGENCIES:
            raise InvalidInput(f"未知紧急程度：{self.urgency}")
        object.__setattr__(self, "service_code", text(self.service_code, "服务事项", required=False, limit=64))
        object.__setattr__(self, "description", text(self.description, "诉求内容"))
        object.__setattr__(self, "caller_name", text(self.caller_name, "来电人姓名", required=False, limit=50))
        phone = text(self.caller_phone, "联系电话", required=False, limit=20)
        if phone and not PHONE.match(phone):
            # Not echoed: the message reaches logs and dead-letter headers, a phone number must not.
            raise InvalidInput("联系电话格式不正确：只能包含数字、空格和短横线，可以 + 开头")
        object.__setattr__(self, "caller_phone", phone)
        object.__setattr__(self, "address", text(self.address, "地址", required=False, limit=200))
        object.__setattr__(self, "district", text(self.district, "区县", required=False, limit=50))
        for value, label, bound in ((self.lat, "纬度", 90), (self.long, "经度", 180)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not -bound <= value <= bound
            ):
                raise InvalidInput(f"{label}超出范围")
        if (self.lat is None) != (self.long is None):
            raise InvalidInput("经纬度必须同时提供")
        if self.call_id is not None:
            object.__setattr__(self, "call_id", text(self.call_id, "来电编号", limit=128))
        if self.confidential is not None and not isinstance(self.confidential, bool):
            raise InvalidInput("是否保密只能是 是 或 否")

    def unknown_to(self, services: Collection[str]) -> list[str]:
        """What of this call the catalogue (``services``, and the categories) does not know, in
        words: such a call opens as 待分类 (``Case.hold_for_classification``); empty: nothing."""
        unknown = []
        if self.service_code not in services:
            unknown.append(f"未知服务事项代码“{self.service_code or '（未填写）'}”，不在派单目录中")
        if self.category not in CATEGORIES:
            names = "、".join(CATEGORIES.values())
            unknown.append(f"未知诉求类别“{self.category or '（未填写）'}”，应为{names}之一")
        return unknown


def _call_fields(call: Call) -> dict[str, Any]:
    """What a call carries into the event that opens its case (Opened, Migrated): the same fields, one list."""
    return {
        "channel": call.channel,
        "category": call.category,
        "service_code": call.service_code,
        "description": call.description,
        "caller_name": call.caller_name,
        "caller_phone": call.caller_phone,
        "urgency": call.urgency,
        "address": call.address,
        "district": call.district,
        "lat": call.lat,
        "long": call.long,
    }


class Case(Permitted, HotlineAggregate):
    TOPIC = "hotline:Case"

    PERMITS: ClassVar[dict[str, Permit]] = {
        "hold": Permit("登记待分类", CAN_INTAKE, (OPENED,)),
        "classify": Permit("分类", CAN_DISPATCH, (UNCLASSIFIED,)),
        "answer": Permit("直接答复", CAN_INTAKE, (OPENED, REOPENED)),
        "dispatch": Permit("派单", CAN_DISPATCH, (OPENED, REOPENED)),
        "redispatch": Permit("改派", CAN_DISPATCH, (RETURNED, DISPATCHED)),
        "sign": Permit("签收", CAN_HANDLE, (DISPATCHED,), department_bound=True),
        "return": Permit("退单", CAN_HANDLE, (DISPATCHED, SIGNED), department_bound=True),
        "review_return": Permit("审核退单", CAN_REVIEW_RETURN, (DISPATCHED, SIGNED)),
        "request_extension": Permit("申请延期", CAN_HANDLE, (SIGNED,), department_bound=True),
        "approve_extension": Permit("审批延期", CAN_DECIDE_EXTENSION, (SIGNED,)),
        "reject_extension": Permit("审批延期", CAN_DECIDE_EXTENSION, (SIGNED,)),
        "urge": Permit("催办", CAN_URGE, IN_HANDS),
        "reply": Permit("答复", CAN_HANDLE, (SIGNED,), department_bound=True),
        "callback": Permit("回访", CAN_FOLLOW_UP, (REPLIED,)),
        "close": Permit("办结", CAN_FOLLOW_UP, (CALLED_BACK,), state_action="办结（请先回访）"),
        "reopen": Permit("重启工单", CAN_FOLLOW_UP, (CALLED_BACK, CLOSED, ANSWERED), state_action="重启"),
        # 不予重办: a caller not satisfied (or not solved) and yet the case is closed, with the reason.
        "waive_rehandling": Permit("登记不予重办", CAN_WAIVE_REHANDLING, (CALLED_BACK,)),
        "merge": Permit("并单", CAN_MERGE, (UNCLASSIFIED, OPENED, DISPATCHED, REOPENED)),
        "escalate": Permit("转督办", CAN_ESCALATE, IN_HANDS),
        # 主办 / 协办: the dispatch centre names cooperating departments; each signs and reports its
        # part; the lead (``department``) replies for all once every part is reported.
        "assign_cooperation": Permit("指定协办单位", CAN_DISPATCH, IN_HANDS),
        "sign_part": Permit("协办签收", CAN_HANDLE, IN_HANDS, department_bound=True),
        "report_part": Permit("报送协办情况", CAN_HANDLE, IN_HANDS, department_bound=True),
        # The emergency path and the interim feedback of urgent cases (domain/emergency.py).
        "flag_emergency": Permit("标记紧急", CAN_INTAKE, (OPENED,)),
        "hand_off": Permit("登记转警", CAN_HAND_OFF, UNFINISHED),
        "request_interim": Permit("要求阶段性反馈", CAN_DISPATCH, (DISPATCHED,)),
        "interim_feedback": Permit("阶段性反馈", CAN_HANDLE, (SIGNED,), department_bound=True),
        # 保密 callers: marked at intake; the handling department sees them masked unless it gives a reason.
        "mark_confidential": Permit("设为保密", CAN_INTAKE, (OPENED,)),
        "reveal_contact": Permit("查看保密来电人的联系方式", CAN_HANDLE, UNFINISHED, department_bound=True),
        # 个人信息删除 (crypto-shredding): in any state; the case's facts, deadlines and figures stay.
        "erase_personal_data": Permit("删除个人信息", CAN_ERASE),
        # 短信评价: the caller's answer to the satisfaction SMS, as the gateway passes it on (any state:
        # a reply that comes late is still the caller's word, recorded; it counts only in its window).
        "record_sms_reply": Permit("记录来电人短信回复", CAN_RECEIVE_SMS),
    }

    class Event(Aggregate.Event):
        TOPIC = "hotline:Case.Event"
        actor_id: str
        actor_role: str
        # When the sender says it happened (an intake message, a department system, a callback
        # entered later); None: when it was recorded. domain/timing.py.
        reported_at: datetime | None
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Events stored before there were two times: nothing was reported."""
            state["reported_at"] = None

        def apply(self, aggregate: Any) -> None:
            aggregate.happened_at = self.reported_at or self.timestamp

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:Case.Created"

        def as_erased(self) -> Case.Created:
            """This opening (Opened, Migrated) as read once its case's personal data is erased (a
            copy; the stored event of a case opened before the per-case keys still holds the
            fields inside the store's encryption, docs/privacy.md)."""
            copy = object.__new__(type(self))
            copy.__dict__.update(self.__dict__, **dict.fromkeys(PERSONAL_FIELDS, ERASED))
            return copy

    class Opened(Created):
        TOPIC = "hotline:Case.Opened"
        ticket_no: str
        call_id: str | None
        channel: str
        category: str
        service_code: str
        description: str
        caller_name: str
        caller_phone: str
        urgency: str
        address: str
        district: str
        lat: float | None
        long: float | None
        # The id of the case's own key that seals the personal fields inside the stored event
        # (infra/store/personal_keys.py); None: stored before (or without a key table), in clear
        # inside the store-wide encryption, erased by ``PersonalDataErased`` alone.
        personal_key: str | None
        # 派单时限: by when the dispatch centre dispatches the case (rules/handling.toml [dispatch]),
        # counted from the opening; None: opened before it was recorded (the read model counts it).
        dispatch_by: datetime | None
        class_version = 4

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Cases opened before the per-case keys: their personal fields were stored in clear."""
            state["personal_key"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            """Cases opened before the dispatch deadline was recorded on the opening."""
            state["dispatch_by"] = None

    @staticmethod
    def create_id(ticket_no: str, **_: Any) -> UUID:
        return case_id(ticket_no)

    @classmethod
    def open(
        cls,
        ticket_no: str,
        call: Call,
        actor: Actor,
        at: datetime | None = None,
        reported_at: datetime | None = None,
        personal_key: str | None = None,
        dispatch: DispatchRules | None = None,
    ) -> Case:
        """``dispatch``: the 派单时限 rule, counted from the opening and recorded on it."""
        require_role(actor, CAN_INTAKE, "受理来电")
        if not TICKET_NO.match(ticket_no):
            raise InvalidInput(f"工单编号格式不正确：{ticket_no}")
        at = event_moment(at) if dispatch is not None else at
        return cls._create(
            cls.Opened,
            id=case_id(ticket_no),
            timestamp=at,
            dispatch_by=dispatch_due(dispatch, at) if at is not None else None,
            ticket_no=ticket_no,
            call_id=call.call_id,
            **_call_fields(call),
            actor_id=actor.id,
            actor_role=actor.role,
            reported_at=reported_at,
            personal_key=personal_key,
        )

    @event(Opened)
    def __init__(
        self,
        ticket_no: str,
        call_id: str | None,
        channel: str,
        category: str,
        service_code: str,
        description: str,
        caller_name: str,
        caller_phone: str,
        urgency: str,
        address: str,
        district: str,
        lat: float | None,
        long: float | None,
        actor_id: str,
        personal_key: str | None,
    ) -> None:
        self.ticket_no = ticket_no
        self.call_id = call_id
        self.channel = channel
        self.category = category
        self.service_code = service_code
        self.description = description
        self.caller_name = caller_name
        self.caller_phone = caller_phone
        self.urgency = urgency
        self.address = address
        self.district = district
        self.lat = lat
        self.long = long
        self.opened_by = actor_id
        self.personal_key = personal_key
        # Erased: the key was destroyed (the fields were read as ERASED) or PersonalDataErased applied.
        self.personal_data_erased = caller_name == ERASED
        self.status = OPENED
        self.unclassified: list[str] = []  # 待分类: what the catalogue did not know of what the channel sent
        self.confidential = False
        self.contact_revealed_to: list[str] = []  # departments that gave a reason to see a 保密 caller
        self.department: str | None = None
        self.sign_by: datetime | None = None
        self.reply_by: datetime | None = None
        self.deadline_provisional = False
        self.signed_at: datetime | None = None
        self.dispatched_at: datetime | None = None
        self.dispatch_count = 0
        self.return_reason = ""
        self.pending_return: dict[str, Any] | None = None  # a return waiting for the dispatch centre's review
        self.return_rejection = ""  # why the dispatch centre refused the latest return
        self.pending_extension: dict[str, Any] | None = None
        self.extensions_granted = 0
        self.extension_days_granted = 0  # approved extensions in all, against the per-case cap
        self.urge_count = 0
        self.answer = ""
        self.reply_result = ""
        self.resolved: bool | None = None
        self.replied_at: datetime | None = None
        self.callback_by: datetime | None = None  # 回访期限, as recorded on the reply (None: not recorded)
        self.callback_by_provisional = False
        self.satisfaction: str | None = None
        self.resolved_per_caller: bool | None = None
        self.caller_reached: bool | None = None
        self.contacted_first: bool | None = None  # 承办单位是否先行联系来电人 (the caller's word)
        self.callback_attempts: list[datetime] = []  # callbacks since the reply that did not reach the caller
        self.rehandling_waived = ""  # why a supervisor let an unsatisfied case close without 重办
        self.closed_at: datetime | None = None
        self.reopen_count = 0
        self.merged_into: str | None = None
        self.escalated_to: str | None = None  # 转督办: the 督办台账 item this case went to
        # 协办单位 of the current dispatch: department -> {"signed_at": datetime | None, "report": str}
        self.cooperating: dict[str, dict[str, Any]] = {}
        self.article: dict[str, Any] | None = None  # the knowledge-base article a direct answer cited
        self.emergency = False  # on the emergency list: to be handed to an emergency desk
        self.handoff_by: datetime | None = None
        self.handoffs: list[dict[str, Any]] = []
        self.handed_off_at: datetime | None = None  # the first hand-off the desk took
        self.interim_by: datetime | None = None
        self.interim_given_at: datetime | None = None
        self.happened_at: datetime | None = None  # when the latest step happened (reported, else recorded)

    # ---- migrated from the city's previous system (domain/migration.py, docs/import.md) -----

    # Cases opened here, and every case loaded from events or snapshots written before, were not migrated.
    migrated_from: str | None = None  # the previous system's 工单编号
    source_status = ""  # its status there, as written
    source_department: str | None = None
    source_received_at: datetime | None = None  # its 受理时间 there (reported)
    source_finished_at: datetime | None = None  # its 办结时间 there (reported)

    class Migrated(Created):
        """A case of the previous system, recorded at the import; ``reported_at`` is its 受理时间.
        A finished case arrives closed (its 办结时间 reported, ``finished_at``); an open one arrives
        in the dispatch centre's queue, to be dispatched here with deadlines from then."""

        TOPIC = "hotline:Case.Migrated"
        ticket_no: str
        call_id: str | None
        channel: str
        category: str
        service_code: str
        description: str
        caller_name: str
        caller_phone: str
        urgency: str
        address: str
        district: str
        lat: float | None
        long: float | None
        personal_key: str | None  # as on Opened: the case's own key sealing its personal fields
        source_no: str
        source_status: str
        source_department: str | None
        finished: bool
        finished_at: datetime | None
        result: str
        # 派单时限 of a case open there, counted from the import (None: finished there, or imported
        # before it was recorded: the read model counts it).
        dispatch_by: datetime | None
        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Cases imported before the dispatch deadline was recorded on the import."""
            state["dispatch_by"] = None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.migrated_from = self.source_no
            aggregate.source_status = self.source_status
            aggregate.source_department = self.source_department
            aggregate.source_received_at = self.reported_at
            aggregate.source_finished_at = self.finished_at
            if self.finished:
                aggregate.status = CLOSED
                aggregate.department = self.source_department
                aggregate.closed_at = self.finished_at
                aggregate.reply_result = self.result
                aggregate.happened_at = self.finished_at

    @classmethod
    def migrate(
        cls,
        ticket_no: str,
        call: Call,
        actor: Actor,
        *,
        source_no: str,
        source_status: str,
        source_department: str | None,
        received_at: datetime,
        finished_at: datetime | None,
        result: str,
        at: datetime | None = None,
        personal_key: str | None = None,
        dispatch: DispatchRules | None = None,
    ) -> Case:
        """Record a case of the previous system (times checked by the application first); one open
        there waits for dispatch here, by the ``dispatch`` rule counted from the import."""
        require_role(actor, CAN_MIGRATE, MIGRATE_ACTION)
        if not TICKET_NO.match(ticket_no):
            raise InvalidInput(f"工单编号格式不正确：{ticket_no}")
        if finished_at is not None and finished_at < received_at:
            raise InvalidInput("办结时间早于受理时间")
        if finished_at is None and dispatch is not None:
            at = event_moment(at)
            dispatch_by = dispatch_due(dispatch, at)
        else:
            dispatch_by = None
        return cls._create(
            cls.Migrated,
            id=case_id(ticket_no),
            timestamp=at,
            ticket_no=ticket_no,
            call_id=None,
            **_call_fields(call),
            personal_key=personal_key,
            source_no=text(source_no, "原工单编号", limit=64),
            source_status=text(source_status, "原状态", limit=50),
            source_department=source_department,
            finished=finished_at is not None,
            finished_at=finished_at,
            result=text(result, "办理结果", required=False),
            dispatch_by=dispatch_by,
            actor_id=actor.id,
            actor_role=actor.role,
            reported_at=received_at,
        )

    # ---- reading ---------------------------------------------------------------------------

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED

    @property
    def current_deadline(self) -> datetime | None:
        return current_deadline(self.status, self.sign_by, self.reply_by)

    def is_overdue(self, moment: datetime) -> bool:
        """The deadline the department works against now has passed."""
        return is_overdue(self.current_deadline, moment)

    def sign_overdue(self, moment: datetime) -> bool:
        """Not signed, and its signing deadline has passed."""
        return self.status == DISPATCHED and is_overdue(self.sign_by, moment)

    def reply_overdue(self, moment: datetime) -> bool:
        """Still with the department, and its reply deadline has passed."""
        return self.status in IN_HANDS and is_overdue(self.reply_by, moment)

    # ---- what the rules allow now -------------------------------------------------------------

    def _record(
        self,
        event_class: type[Any],
        actor: Actor,
        at: datetime | None,
        reported_at: datetime | None = None,
        **fields: Any,
    ) -> None:
        """Every case event says when the sender reported it happened (None: nobody reported)."""
        super()._record(event_class, actor, at, reported_at=reported_at, **fields)

    def _refuse(self, action: str) -> InvalidTransition:
        return InvalidTransition(f"工单 {self.ticket_no} 当前状态为“{self.status_name}”，不能{action}")

    def _department_refusal(self, command: str, actor: Actor, action: str) -> DomainError | None:
        if command in ("sign_part", "report_part"):
            if actor.department not in self.cooperating:
                return NotPermitted(f"本单位不是工单 {self.ticket_no} 的协办单位，不能{action}")
            return None
        if actor.department != self.department:
            return NotPermitted(f"工单 {self.ticket_no} 不属于本单位，不能{action}")
        return None

    def _state_refusal(self, command: str, permit: Permit, actor: Actor, moment: datetime | None) -> DomainError | None:
        ticket = self.ticket_no
        if command in ("approve_extension", "reject_extension"):
            if self.status != SIGNED or self.pending_extension is None:
                return InvalidTransition(f"工单 {ticket} 没有待审批的延期申请")
            return None
        if command == "review_return":
            if self.status not in (DISPATCHED, SIGNED) or self.pending_return is None:
                return InvalidTransition(f"工单 {ticket} 没有待审核的退单申请")
            return None
        if command == "return" and self.status in (DISPATCHED, SIGNED) and self.pending_return is not None:
            return InvalidTransition(f"工单 {ticket} 已申请退单，正等待派单中心审核")
        if command == "reply" and self.status == DISPATCHED:
            return InvalidTransition(f"工单 {ticket} 尚未签收，不能答复，请先签收")
        if command == "reply" and self.status == SIGNED and (missing := self.parts_missing):
            return InvalidTransition(
                f"协办单位 {'、'.join(missing)} 尚未报送办理情况：主办单位汇总各协办单位的办理情况后统一答复"
            )
        part = self.cooperating.get(actor.department or "") if self.status in IN_HANDS else None
        if command == "sign_part" and part and part["signed_at"] is not None:
            return InvalidTransition(f"工单 {ticket} 的协办任务已签收")
        if command == "report_part" and part:
            if part["signed_at"] is None:
                return InvalidTransition(f"工单 {ticket} 的协办任务尚未签收，请先签收")
            if part["report"]:
                return InvalidTransition(f"工单 {ticket} 的协办情况已报送")
        if command == "mark_confidential" and self.confidential and self.status == OPENED:
            return InvalidTransition(f"工单 {ticket} 已是保密工单")
        if command == "reveal_contact" and not self.confidential and self.status in UNFINISHED:
            return InvalidTransition(f"工单 {ticket} 的来电人不是保密的，无需申请查看")
        if command == "interim_feedback" and self.status == DISPATCHED:
            return InvalidTransition(f"工单 {ticket} 尚未签收，不能阶段性反馈，请先签收")
        if command == "interim_feedback" and self.status == SIGNED and self.interim_by is None:
            return InvalidTransition(f"工单 {ticket} 不是紧急工单，无需阶段性反馈")
        if command == "erase_personal_data" and self.personal_data_erased:
            return InvalidTransition(f"工单 {ticket} 的个人信息已删除")
        if command == "close" and self.status in (CLOSED, ANSWERED):
            return InvalidTransition(f"工单 {ticket} 已办结，不能重复办结")
        if command == "close" and self.needs_rehandling:
            return InvalidTransition(
                f"工单 {ticket} 回访时来电人{self._unhappy_words()}，应重办；确不重办的，须由督办员登记不予重办的理由"
            )
        if command == "waive_rehandling" and self.status == CALLED_BACK and not self.needs_rehandling:
            return InvalidTransition(f"工单 {ticket} 回访结果无需重办")
        if command == "escalate":
            if self.escalated_to is not None:
                return InvalidTransition(f"工单 {ticket} 已转督办（督办编号 {self.escalated_to}），不能重复转督办")
            if self.status not in IN_HANDS:
                return InvalidTransition(f"工单 {ticket} 当前状态为“{self.status_name}”，不在办理中，不能转督办")
            if moment is None or not self.is_overdue(moment):
                return InvalidTransition(f"工单 {ticket} 尚未超期，不能转督办")
            return None
        refused = super()._state_refusal(command, permit, actor, moment)
        if refused is None and command == "request_extension" and self.pending_extension is not None:
            return InvalidTransition(f"工单 {ticket} 已有待审批的延期申请")
        return refused

    # ---- 待分类: a call the catalogue does not know, classified by the dispatch centre -----------

    class HeldForClassification(Event):
        """The channel sent a service code or category the catalogue does not know: the case (with
        everything the channel sent, on ``Opened``) waits in the dispatch centre's queue."""

        TOPIC = "hotline:Case.HeldForClassification"
        reasons: list[str]

    def hold_for_classification(self, actor: Actor, reasons: list[str], at: datetime | None = None) -> None:
        self._permit("hold", actor)
        if not reasons:
            raise InvalidInput("待分类须说明目录不认识的内容")
        self._record(self.HeldForClassification, actor, at, reasons=[text(r, "待分类原因") for r in reasons])

    @event(HeldForClassification)
    def _held_for_classification(self, reasons: list[str]) -> None:
        self.unclassified = list(reasons)
        self.status = UNCLASSIFIED

    class Classified(Event):
        """分类: the dispatch centre chose the service and category of a 待分类 case."""

        TOPIC = "hotline:Case.Classified"
        service_code: str
        category: str
        sent_service_code: str
        sent_category: str
        note: str

    def classify(
        self,
        actor: Actor,
        service_code: str,
        category: str,
        services: Collection[str],
        note: str = "",
        at: datetime | None = None,
    ) -> None:
        """The operator chooses the service from the catalogue (``services``) and the category; the
        case then waits for dispatch (or is routed by the rules) like any other."""
        self._permit("classify", actor)
        if service_code not in services:
            raise InvalidInput(f"请从派单目录中选择服务事项（“{service_code or '未选择'}”不在目录中）")
        if category not in CATEGORIES:
            raise InvalidInput(f"请选择诉求类别：{'、'.join(CATEGORIES.values())}")
        self._record(
            self.Classified,
            actor,
            at,
            service_code=service_code,
            category=category,
            sent_service_code=self.service_code,
            sent_category=self.category,
            note=text(note, "分类说明", required=False, limit=500),
        )

    @event(Classified)
    def _classified(self, service_code: str, category: str) -> None:
        self.unclassified = []
        self.service_code = service_code
        self.category = category
        self.status = OPENED

    # ---- the hotline answers or dispatches ---------------------------------------------------

    class AnsweredDirectly(Event):
        TOPIC = "hotline:Case.AnsweredDirectly"
        answer: str

    def answer_directly(self, actor: Actor, answer: str, at: datetime | None = None) -> None:
        self._permit("answer", actor)
        self._record(self.AnsweredDirectly, actor, at, answer=text(answer, "答复内容"))

    @event(AnsweredDirectly)
    def _answered_directly(self, answer: str, timestamp: datetime) -> None:
        self._answer(answer, timestamp)

    def _answer(self, answer: str, timestamp: datetime) -> None:
        self.answer = answer
        self.status = ANSWERED
        self.closed_at = timestamp

    class Dispatched(Event):
        TOPIC = "hotline:Case.Dispatched"
        department: str
        sign_by: datetime
        reply_by: datetime
        provisional: bool
        note: str

    def dispatch(
        self,
        actor: Actor,
        department: str,
        sign_by: datetime,
        reply_by: datetime,
        provisional: bool = False,
        note: str = "",
        at: datetime | None = None,
    ) -> None:
        self._permit("dispatch", actor)
        self._record(
            self.Dispatched,
            actor,
            at,
            department=text(department, "承办单位", limit=64),
            sign_by=sign_by,
            reply_by=reply_by,
            provisional=provisional,
            note=text(note, "派单说明", required=False),
        )

    @event(Dispatched)
    def _dispatched(
        self, department: str, sign_by: datetime, reply_by: datetime, provisional: bool, timestamp: datetime
    ) -> None:
        self._assign(department, sign_by, reply_by, provisional, timestamp)

    def _assign(
        self, department: str, sign_by: datetime, reply_by: datetime, provisional: bool, timestamp: datetime
    ) -> None:
        self.department = department
        self.dispatched_at = timestamp
        self.pending_return = None
        self.return_rejection = ""
        self.interim_by = None  # a new department owes its own interim feedback, if any
        self.interim_given_at = None
        self.sign_by = sign_by
        self.reply_by = reply_by
        self.deadline_provisional = provisional
        self.signed_at = None
        self.pending_extension = None
        self.cooperating = {}  # a new dispatch names its own 协办单位, if any
        self.dispatch_count += 1
        self.status = DISPATCHED

    class Redispatched(Event):
        TOPIC = "hotline:Case.Redispatched"
        department: str
        sign_by: datetime
        reply_by: datetime
        provisional: bool
        note: str

    def redispatch(
        self,
        actor: Actor,
        department: str,
        sign_by: datetime,
        reply_by: datetime,
        provisional: bool = False,
        note: str = "",
        at: datetime | None = None,
    ) -> None:
        """改派: after a return, or to correct a dispatch the department has not signed yet; the
        reason is required (a case never changes hands without one on its timeline)."""
        self._permit("redispatch", actor)
        department = text(department, "承办单位", limit=64)
        if self.status == DISPATCHED and department == self.department:
            raise InvalidInput(f"工单 {self.ticket_no} 已派给该单位，无需改派")
        if not (note or "").strip():
            raise InvalidInput(f"工单 {self.ticket_no} 改派须说明理由")
        self._record(
            self.Redispatched,
            actor,
            at,
            department=department,
            sign_by=sign_by,
            reply_by=reply_by,
            provisional=provisional,
            note=text(note, "改派说明", required=False),
        )

    @event(Redispatched)
    def _redispatched(
        self, department: str, sign_by: datetime, reply_by: datetime, provisional: bool, timestamp: datetime
    ) -> None:
        self._assign(department, sign_by, reply_by, provisional, timestamp)

    # ---- 主办 / 协办 -------------------------------------------------------------------------------

    @property
    def parts_missing(self) -> list[str]:
        """The 协办单位 whose part is not reported yet: the lead may not reply before they report."""
        return [department for department, part in self.cooperating.items() if not part["report"]]

    class CooperationAssigned(Event):
        TOPIC = "hotline:Case.CooperationAssigned"
        departments: list[str]
        note: str

    def assign_cooperation(
        self, actor: Actor, departments: list[str], known: Collection[str], note: str = "", at: datetime | None = None
    ) -> None:
        """协办: the dispatch centre names departments that handle a part beside the lead."""
        self._permit("assign_cooperation", actor)
        codes = list(dict.fromkeys(text(code, "协办单位", limit=64) for code in departments or ()))
        if not codes:
            raise InvalidInput("请选择至少一个协办单位")
        if unknown := [code for code in codes if code not in known]:
            raise InvalidInput(f"未知承办单位：{'、'.join(unknown)}")
        if self.department in codes:
            raise InvalidInput("主办单位不能同时是协办单位")
        if already := [code for code in codes if code in self.cooperating]:
            raise InvalidInput(f"{'、'.join(already)} 已是本工单的协办单位")
        note = text(note, "协办说明", required=False, limit=500)
        self._record(self.CooperationAssigned, actor, at, departments=codes, note=note)

    @event(CooperationAssigned)
    def _cooperation_assigned(self, departments: list[str]) -> None:
        self.cooperating = {**self.cooperating, **{code: {"signed_at": None, "report": ""} for code in departments}}

    class PartSigned(Event):
        TOPIC = "hotline:Case.PartSigned"
        department: str

    def sign_part(self, actor: Actor, at: datetime | None = None) -> None:
        """协办签收: a cooperating department takes on its part."""
        self._permit("sign_part", actor)
        self._record(self.PartSigned, actor, at, department=actor.department)

    @event(PartSigned)
    def _part_signed(self, department: str, timestamp: datetime) -> None:
        self.cooperating = {**self.cooperating, department: {**self.cooperating[department], "signed_at": timestamp}}

    class PartReported(Event):
        TOPIC = "hotline:Case.PartReported"
        department: str
        content: str

    def report_part(self, actor: Actor, content: str, at: datetime | None = None) -> None:
        """报送协办情况: a cooperating department reports its part to the lead, who replies for all."""
        self._permit("report_part", actor)
        content = text(content, "协办办理情况", limit=2000)
        self._record(self.PartReported, actor, at, department=actor.department, content=content)

    @event(PartReported)
    def _part_reported(self, department: str, content: str) -> None:
        self.cooperating = {**self.cooperating, department: {**self.cooperating[department], "report": content}}

    # ---- the department signs, returns, asks for time, replies -------------------------------

    class Signed(Event):
        TOPIC = "hotline:Case.Signed"

    class MarkedConfidential(Event):
        """The caller is 保密: departments see 王** / 139****5678 and reach the caller through the hotline."""

        TOPIC = "hotline:Case.MarkedConfidential"

    def mark_confidential(self, actor: Actor, at: datetime | None = None) -> None:
        self._permit("mark_confidential", actor)
        self._record(self.MarkedConfidential, actor, at)

    @event(MarkedConfidential)
    def _marked_confidential(self) -> None:
        self.confidential = True

    class ContactRevealed(Event):
        """A department saw a 保密 caller's name and number, and said why: the audit shows it."""

        TOPIC = "hotline:Case.ContactRevealed"
        department: str
        reason: str

    def reveal_contact(self, actor: Actor, reason: str, at: datetime | None = None) -> None:
        self._permit("reveal_contact", actor)
        reason = text(reason, "查看理由", limit=500)
        if len(reason) < 4:
            raise InvalidInput("请写明查看来电人联系方式的理由（至少 4 个字）")
        self._record(self.ContactRevealed, actor, at, department=actor.department or "", reason=reason)

    @event(ContactRevealed)
    def _contact_revealed(self, department: str) -> None:
        if department not in self.contact_revealed_to:
            self.contact_revealed_to = [*self.contact_revealed_to, department]

    class PersonalDataErased(Event):
        """个人信息删除: the caller's name, phone, description and address are erased (the case's
        key destroyed), on a person's request or when the retention period ends. The reason says
        which; the case's facts, deadlines and figures stay."""

        TOPIC = "hotline:Case.PersonalDataErased"
        reason: str

    def erase_personal_data(self, actor: Actor, reason: str, at: datetime | None = None) -> None:
        self._permit("erase_personal_data", actor)
        reason = text(reason, "删除理由", limit=500)
        if len(reason) < 4:
            raise InvalidInput("请写明删除个人信息的理由和依据（至少 4 个字）")
        self._record(self.PersonalDataErased, actor, at, reason=reason)

    @event(PersonalDataErased)
    def _personal_data_erased(self) -> None:
        self.read_as_erased()

    def read_as_erased(self) -> None:
        """Show the caller's personal data as erased: applying ``PersonalDataErased``, and on a copy
        of an earlier version loaded for reading after the case was erased (time travel, the
        messages planned before), which must not show what the erasure removed."""
        for name in PERSONAL_FIELDS:
            setattr(self, name, ERASED)
        self.personal_data_erased = True

    def retention_over(self, cutoff: datetime) -> bool:
        """Finished at or before ``cutoff`` and not erased yet: its personal data is due for erasure."""
        finished = not self.is_open and self.closed_at is not None and self.closed_at <= cutoff
        return finished and not self.personal_data_erased

    def contact_hidden_from(self, actor: Actor) -> bool:
        """Whether ``actor`` sees this case's caller masked (王** / 139****5678)."""
        return self.confidential and actor.role == DEPARTMENT and actor.department not in self.contact_revealed_to

    def sign(self, actor: Actor, at: datetime | None = None, reported_at: datetime | None = None) -> None:
        self._permit("sign", actor)
        self._record(self.Signed, actor, at, reported_at)

    @event(Signed)
    def _signed(self, timestamp: datetime) -> None:
        self.signed_at = timestamp
        self.status = SIGNED

    class Returned(Event):
        """A return that took effect at once, as stores written before returns were reviewed hold it."""

        TOPIC = "hotline:Case.Returned"
        department: str
        reason: str

    @event(Returned)
    def _returned(self, reason: str) -> None:
        self._take_back(reason)

    def _take_back(self, reason: str) -> None:
        self.return_reason = reason
        self.pending_return = None
        self.pending_extension = None
        self.status = RETURNED

    class ReturnRequested(Event):
        TOPIC = "hotline:Case.ReturnRequested"
        department: str
        reason: str
        basis: str
        return_by: datetime  # the limit the request was judged against (rules/handling.toml)

    def return_(
        self,
        actor: Actor,
        reason: str,
        basis: str,
        return_by: datetime,
        at: datetime | None = None,
        reported_at: datetime | None = None,
    ) -> None:
        """退单: the case is not this department's business. Asked within the limit after the
        dispatch, with the reason and its basis (the duty list, the regulation); the dispatch centre
        reviews it, and until then the case stays with the department."""
        self._permit("return", actor)
        reason = text(reason, "退单理由")
        basis = text(basis, "退单依据", limit=500)
        if (at or datetime.now(return_by.tzinfo)) > return_by:
            raise InvalidTransition(
                f"工单 {self.ticket_no} 已超过退单时限（截至 {return_by:%Y-%m-%d %H:%M}），不能退单；"
                "确需调整的请联系派单中心"
            )
        self._record(
            self.ReturnRequested,
            actor,
            at,
            reported_at,
            department=self.department,
            reason=reason,
            basis=basis,
            return_by=return_by,
        )

    @event(ReturnRequested)
    def _return_requested(self, reason: str, basis: str, timestamp: datetime) -> None:
        self.pending_return = {"reason": reason, "basis": basis, "requested_at": timestamp}
        self.return_rejection = ""

    class ReturnApproved(Event):
        TOPIC = "hotline:Case.ReturnApproved"
        department: str
        reason: str
        note: str
        dispatch_by: datetime | None  # 派单时限 of the redispatch; None: approved before it was recorded
        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["dispatch_by"] = None

    def approve_return(
        self, actor: Actor, note: str = "", at: datetime | None = None, dispatch: DispatchRules | None = None
    ) -> None:
        """The dispatch centre agrees: the case waits for redispatch, by the ``dispatch`` rule."""
        self._permit("review_return", actor)
        reason = self.pending_return["reason"] if self.pending_return else ""
        at = event_moment(at) if dispatch is not None else at
        self._record(
            self.ReturnApproved,
            actor,
            at,
            department=self.department,
            reason=reason,
            note=text(note, "审核意见", required=False, limit=1000),
            dispatch_by=dispatch_due(dispatch, at) if at is not None else None,
        )

    @event(ReturnApproved)
    def _return_approved(self, reason: str) -> None:
        self._take_back(reason)

    class ReturnRejected(Event):
        TOPIC = "hotline:Case.ReturnRejected"
        reason: str

    def reject_return(self, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """The dispatch centre refuses: the case stays with the department, which sees why."""
        self._permit("review_return", actor)
        self._record(self.ReturnRejected, actor, at, reason=text(reason, "不同意退单的理由", limit=1000))

    @event(ReturnRejected)
    def _return_rejected(self, reason: str) -> None:
        self.pending_return = None
        self.return_rejection = reason

    class ExtensionRequested(Event):
        TOPIC = "hotline:Case.ExtensionRequested"
        working_days: int
        reason: str

    def request_extension(
        self,
        actor: Actor,
        working_days: int,
        reason: str,
        max_days: int,
        max_total: int,
        at: datetime | None = None,
        reported_at: datetime | None = None,
    ) -> None:
        """申请延期: before the reply deadline, at most ``max_days`` at a time and ``max_total`` in all
        (rules/time_limits.csv)."""
        self._permit("request_extension", actor)
        if self.reply_by is not None and (at or datetime.now(self.reply_by.tzinfo)) > self.reply_by:
            raise InvalidTransition(
                f"工单 {self.ticket_no} 的办理期限（{self.reply_by:%Y-%m-%d %H:%M}）已过，不能再申请延期："
                "延期须在期限届满前申请"
            )
        left = max_total - self.extension_days_granted
        if left <= 0:
            raise InvalidInput(f"工单 {self.ticket_no} 累计延期已达 {max_total} 个工作日的上限，不能再申请延期")
        if isinstance(working_days, bool) or not isinstance(working_days, int) or not 1 <= working_days <= max_days:
            raise InvalidInput(f"延期天数必须是 1 到 {max_days} 个工作日")
        if working_days > left:
            raise InvalidInput(
                f"延期累计不能超过 {max_total} 个工作日：本工单已延期 {self.extension_days_granted} 个工作日，"
                f"最多还可申请 {left} 个工作日"
            )
        reason = text(reason, "延期理由")
        self._record(self.ExtensionRequested, actor, at, reported_at, working_days=working_days, reason=reason)

    @event(ExtensionRequested)
    def _extension_requested(self, working_days: int, reason: str, timestamp: datetime) -> None:
        self.pending_extension = {"working_days": working_days, "reason": reason, "requested_at": timestamp}

    class ExtensionApproved(Event):
        TOPIC = "hotline:Case.ExtensionApproved"
        reply_by: datetime
        provisional: bool

    def approve_extension(
        self,
        actor: Actor,
        reply_by: datetime,
        approvers: tuple[str, ...],
        provisional: bool = False,
        at: datetime | None = None,
    ) -> None:
        """同意延期, by one of the roles rules/handling.toml names."""
        self._permit("approve_extension", actor)
        require_role(actor, approvers, "审批延期")
        self._record(self.ExtensionApproved, actor, at, reply_by=reply_by, provisional=provisional)

    @event(ExtensionApproved)
    def _extension_approved(self, reply_by: datetime, provisional: bool) -> None:
        self.reply_by = reply_by
        self.deadline_provisional = self.deadline_provisional or provisional
        if self.pending_extension:
            self.extension_days_granted += self.pending_extension["working_days"]
        self.pending_extension = None
        self.extensions_granted += 1

    class ExtensionRejected(Event):
        TOPIC = "hotline:Case.ExtensionRejected"
        reason: str

    def reject_extension(
        self, actor: Actor, reason: str, approvers: tuple[str, ...], at: datetime | None = None
    ) -> None:
        self._permit("reject_extension", actor)
        require_role(actor, approvers, "审批延期")
        self._record(self.ExtensionRejected, actor, at, reason=text(reason, "不同意延期的理由"))

    @event(ExtensionRejected)
    def _extension_rejected(self) -> None:
        self.pending_extension = None

    class Urged(Event):
        TOPIC = "hotline:Case.Urged"
        note: str

    def urge(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """催办: remind the department of a case it has not finished."""
        self._permit("urge", actor)
        self._record(self.Urged, actor, at, note=text(note, "催办意见", required=False))

    @event(Urged)
    def _urged(self) -> None:
        self.urge_count += 1

    class Replied(Event):
        TOPIC = "hotline:Case.Replied"
        result: str
        resolved: bool
        # 回访期限 (rules/follow_up.csv), counted from the reply on the working-day calendar, and
        # whether it rests on a year whose arrangement is not published; None: replied before it was
        # recorded (the read model counts it, never provisional, as it did then).
        callback_by: datetime | None
        callback_by_provisional: bool
        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["callback_by"] = None
            state["callback_by_provisional"] = False

    def reply(
        self,
        actor: Actor,
        result: str,
        resolved: bool,
        at: datetime | None = None,
        reported_at: datetime | None = None,
        follow_up: FollowUpRules | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        """答复; with ``follow_up`` and ``calendar`` the callback deadline is counted from the reply
        and recorded on it."""
        self._permit("reply", actor)
        if not isinstance(resolved, bool):
            raise InvalidInput("请说明诉求是否已解决")
        callback_by, provisional = None, False
        if follow_up is not None and calendar is not None:
            at = event_moment(at)
            due = follow_up.callback_due(calendar, at)
            callback_by, provisional = due.at, due.provisional
        self._record(
            self.Replied,
            actor,
            at,
            reported_at,
            result=text(result, "办理结果"),
            resolved=resolved,
            callback_by=callback_by,
            callback_by_provisional=provisional,
        )

    @event(Replied)
    def _replied(
        self,
        result: str,
        resolved: bool,
        timestamp: datetime,
        callback_by: datetime | None,
        callback_by_provisional: bool,
    ) -> None:
        self.reply_result = result
        self.resolved = resolved
        self.replied_at = timestamp
        self.callback_by = callback_by
        self.callback_by_provisional = callback_by_provisional
        self.pending_extension = None
        self.pending_return = None
        self.callback_attempts = []
        self.status = REPLIED

    # ---- the hotline calls the citizen back and closes ---------------------------------------

    class CallbackRecorded(Event):
        """A callback as stores written before 先行联系 was asked hold it (one attempt was enough)."""

        TOPIC = "hotline:Case.CallbackRecorded"
        reached: bool
        satisfaction: str | None
        resolved: bool | None
        note: str

    @event(CallbackRecorded)
    def _callback_recorded(self, reached: bool, satisfaction: str | None, resolved: bool | None) -> None:
        self.caller_reached = reached
        self.satisfaction = satisfaction
        self.resolved_per_caller = resolved
        self.status = CALLED_BACK

    class CalledBack(Event):
        TOPIC = "hotline:Case.CalledBack"
        reached: bool
        contacted_first: bool | None  # 承办单位是否先行联系了来电人
        satisfaction: str | None
        resolved: bool | None
        note: str
        unreachable: bool  # not reached, and the attempts now meet the rule: may close as 无法联系

    def record_callback(
        self,
        actor: Actor,
        reached: bool,
        rule: CallbackRules,
        contacted_first: bool | None = None,
        satisfaction: str | None = None,
        resolved: bool | None = None,
        note: str = "",
        at: datetime | None = None,
        reported_at: datetime | None = None,
    ) -> None:
        """回访: the caller's own word on whether the department contacted them first, whether the
        problem is solved, and how satisfied they are. A caller not reached is tried again until
        ``rule`` (rules/handling.toml) allows closing as 无法联系. ``reported_at``: when the call
        was made, if it is entered later."""
        self._permit("callback", actor)
        if not isinstance(reached, bool):
            raise InvalidInput("请选择是否联系上来电人")
        if reached:
            if not isinstance(contacted_first, bool):
                raise InvalidInput("请记录来电人所说的承办单位是否先行联系过他")
            if not isinstance(resolved, bool):
                raise InvalidInput("请记录来电人认为问题是否已解决")
            if satisfaction not in SATISFACTION:
                raise InvalidInput("请选择来电人的满意度：满意、基本满意或不满意")
        elif satisfaction is not None or resolved is not None or contacted_first is not None:
            raise InvalidInput("未联系上来电人时不能记录回访答案")
        moment = at or datetime.now(CHINA_TZ)
        self._record(
            self.CalledBack,
            actor,
            at,
            reported_at,
            reached=reached,
            contacted_first=contacted_first,
            satisfaction=satisfaction,
            resolved=resolved,
            note=text(note, "回访记录", required=False),
            unreachable=not reached and rule.unreachable([*self.callback_attempts, moment]),
        )

    @event(CalledBack)
    def _called_back(
        self,
        reached: bool,
        contacted_first: bool | None,
        satisfaction: str | None,
        resolved: bool | None,
        unreachable: bool,
        timestamp: datetime,
    ) -> None:
        if not reached:
            self.callback_attempts = [*self.callback_attempts, timestamp]
            if not unreachable:
                return  # still 已答复待回访: to be called again
        self.caller_reached = reached
        self.contacted_first = contacted_first
        self.satisfaction = satisfaction
        self.resolved_per_caller = resolved
        self.rehandling_waived = ""
        self.status = CALLED_BACK

    @property
    def needs_rehandling(self) -> bool:
        """Reached, and not satisfied or not solved: 重办 unless a supervisor recorded why not."""
        unhappy = self.satisfaction == "dissatisfied" or self.resolved_per_caller is False
        return self.status == CALLED_BACK and bool(self.caller_reached) and unhappy and not self.rehandling_waived

    def _unhappy_words(self) -> str:
        words = [
            word
            for word, applies in (
                ("不满意", self.satisfaction == "dissatisfied"),
                ("认为问题未解决", self.resolved_per_caller is False),
            )
            if applies
        ]
        return "、".join(words)

    class RehandlingWaived(Event):
        TOPIC = "hotline:Case.RehandlingWaived"
        reason: str

    def waive_rehandling(self, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """不予重办: the supervisor records why an unsatisfied case is closed without re-handling."""
        self._permit("waive_rehandling", actor)
        self._record(self.RehandlingWaived, actor, at, reason=text(reason, "不予重办的理由", limit=1000))

    @event(RehandlingWaived)
    def _rehandling_waived(self, reason: str) -> None:
        self.rehandling_waived = reason

    class SmsReplied(Event):
        """The caller answered the satisfaction SMS (满意度回访短信) through the SMS gateway."""

        TOPIC = "hotline:Case.SmsReplied"
        reply_id: str  # the gateway's id of the incoming SMS: the same reply again records nothing
        message_key: str  # the satisfaction request it answers
        answer: str  # the reply as the rules list it ("1"); "" when it was none of them (not kept)
        satisfaction: str | None  # None: not one of the answers, or received after their window

    # Class-level: cases opened before SMS replies existed have none. Each: (reply id, satisfaction).
    sms_replies: tuple[tuple[str, str | None], ...] = ()

    @property
    def sms_satisfaction(self) -> str | None:
        """The caller's latest evaluation by SMS that counts (None: none yet)."""
        return next((given for _, given in reversed(self.sms_replies) if given is not None), None)

    def sms_reply(self, reply_id: str) -> tuple[bool, str | None]:
        """Whether reply ``reply_id`` is recorded, and the evaluation it gave."""
        return next(((True, given) for known, given in self.sms_replies if known == reply_id), (False, None))

    def record_sms_reply(
        self,
        actor: Actor,
        reply_id: str,
        message_key: str,
        reply_text: str,
        requested_at: datetime | None,
        rule: SmsReplyRules,
        at: datetime | None = None,
    ) -> bool:
        """短信评价: the caller's reply to the satisfaction request sent at ``requested_at``. A reply
        that is none of the listed answers is recorded as a reply without its text (it may hold
        personal details; 最小必要). Returns False, recording nothing, for a reply recorded already:
        gateways deliver again."""
        self._permit("record_sms_reply", actor)
        reply_id = text(reply_id, "短信平台的回复编号", limit=100)
        if self.sms_reply(reply_id)[0]:
            return False
        words = reply_words(str(reply_text or ""))  # compared, never kept unless it is an answer
        answer = words if words in rule.answers else ""
        moment = at or datetime.now(CHINA_TZ)
        self._record(
            self.SmsReplied,
            actor,
            at,
            reply_id=reply_id,
            message_key=text(message_key, "回访短信的编号", limit=200),
            answer=answer,
            satisfaction=rule.satisfaction(answer, requested_at, moment) if answer else None,
        )
        return True

    @event(SmsReplied)
    def _sms_replied(self, reply_id: str, satisfaction: str | None) -> None:
        self.sms_replies = (*self.sms_replies, (reply_id, satisfaction))

    class Closed(Event):
        TOPIC = "hotline:Case.Closed"
        note: str

    def close(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        self._permit("close", actor)
        self._record(self.Closed, actor, at, note=text(note, "办结说明", required=False))

    @event(Closed)
    def _closed(self, timestamp: datetime) -> None:
        self.closed_at = timestamp
        self.status = CLOSED

    class Reopened(Event):
        TOPIC = "hotline:Case.Reopened"
        reason: str
        dispatch_by: datetime | None  # 派单时限 of the new dispatch; None: reopened before it was recorded
        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["dispatch_by"] = None

    def reopen(
        self,
        actor: Actor,
        reason: str,
        window_days: int,
        at: datetime | None = None,
        dispatch: DispatchRules | None = None,
    ) -> None:
        """重启 (重办 after an unsatisfied callback): the case is dispatched anew, by the ``dispatch``
        rule counted from now. A closed case only within ``window_days`` days of closing, on the
        caller's new call (rules/handling.toml)."""
        self._permit("reopen", actor)
        reason = text(reason, "重启理由")
        closed = self.closed_at if self.status in (CLOSED, ANSWERED) else None
        if closed is not None and (at or datetime.now(CHINA_TZ)) > closed + timedelta(days=window_days):
            raise InvalidTransition(
                f"工单 {self.ticket_no} 办结已超过 {window_days} 天，不能重启；来电人再次反映的，请作为新工单受理"
            )
        at = event_moment(at) if dispatch is not None else at
        dispatch_by = dispatch_due(dispatch, at) if at is not None else None
        if self.needs_rehandling:  # 重办: counted against the department whose handling was rejected
            self._record(
                self.Rehandled, actor, at, reason=reason, department=self.department or "", dispatch_by=dispatch_by
            )
        else:
            self._record(self.Reopened, actor, at, reason=reason, dispatch_by=dispatch_by)

    class Rehandled(Event):
        """重办: the caller was not satisfied or the problem not solved; the case is dispatched anew
        (to the same or another department). Before it was recorded as such, a 重办 was a Reopened."""

        TOPIC = "hotline:Case.Rehandled"
        reason: str
        department: str  # the department whose handling the caller rejected
        dispatch_by: datetime | None  # 派单时限 of the new dispatch; None: recorded before it was
        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["dispatch_by"] = None

    @event(Rehandled)
    def _rehandled(self) -> None:
        self._restart()

    @event(Reopened)
    def _reopened(self) -> None:
        self._restart()

    def _restart(self) -> None:
        self.reopen_count += 1
        self.closed_at = None
        self.satisfaction = None
        self.resolved_per_caller = None
        self.caller_reached = None
        self.contacted_first = None
        self.rehandling_waived = ""
        self.status = REOPENED

    class MergedInto(Event):
        TOPIC = "hotline:Case.MergedInto"
        target_ticket_no: str

    def merge_into(self, actor: Actor, target_ticket_no: str, at: datetime | None = None) -> None:
        """并单: this case repeats another open case; it follows that one from now on."""
        self._permit("merge", actor)
        if target_ticket_no == self.ticket_no:
            raise InvalidInput("工单不能并入自身")
        if not TICKET_NO.match(target_ticket_no or ""):
            raise InvalidInput(f"工单编号格式不正确：{target_ticket_no}")
        self._record(self.MergedInto, actor, at, target_ticket_no=target_ticket_no)

    @event(MergedInto)
    def _merged_into(self, target_ticket_no: str, timestamp: datetime) -> None:
        self.merged_into = target_ticket_no
        self.closed_at = timestamp
        self.status = MERGED

    class Escalated(Event):
        """转督办: the overdue case went to the 督办台账 as item ``reference_no`` (saved with it)."""

        TOPIC = "hotline:Case.Escalated"
        reference_no: str

    def escalate(self, actor: Actor, reference_no: str, at: datetime | None = None) -> None:
        """Only an overdue case still with its department, and only once."""
        self._permit("escalate", actor, at or datetime.now(CHINA_TZ))
        self._record(self.Escalated, actor, at, reference_no=text(reference_no, "督办编号", limit=64))

    @event(Escalated)
    def _escalated(self, reference_no: str) -> None:
        self.escalated_to = reference_no

    # ---- answering from the knowledge base ------------------------------------------------------

    class AnsweredFromArticle(Event):
        TOPIC = "hotline:Case.AnsweredFromArticle"
        answer: str
        article_id: str
        article_no: str
        revision: int

    def answer_from_article(
        self, actor: Actor, article_id: str, article_no: str, revision: int, answer: str, at: datetime | None = None
    ) -> None:
        """直接答复 by reading out a published article: the case records which article and revision."""
        self._permit("answer", actor)
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
            raise InvalidInput("引用的知识库条目尚未发布")
        self._record(
            self.AnsweredFromArticle,
            actor,
            at,
            answer=text(answer, "答复内容"),
            article_id=article_id,
            article_no=article_no,
            revision=revision,
        )

    @event(AnsweredFromArticle)
    def _answered_from_article(
        self, answer: str, article_id: str, article_no: str, revision: int, timestamp: datetime
    ) -> None:
        self.article = {"id": article_id, "number": article_no, "revision": revision}
        self._answer(answer, timestamp)

    # ---- the emergency path ---------------------------------------------------------------------

    class EmergencyFlagged(Event):
        TOPIC = "hotline:Case.EmergencyFlagged"
        desks: list[str]
        handoff_by: datetime

    def flag_emergency(self, actor: Actor, desks: list[str], handoff_by: datetime, at: datetime | None = None) -> None:
        """An emergency on the list: to be handed to one of ``desks`` by ``handoff_by``."""
        self._permit("flag_emergency", actor)
        self._record(self.EmergencyFlagged, actor, at, desks=list(desks), handoff_by=handoff_by)

    @event(EmergencyFlagged)
    def _emergency_flagged(self, handoff_by: datetime) -> None:
        self.emergency = True
        self.handoff_by = handoff_by

    class HandedOff(Event):
        TOPIC = "hotline:Case.HandedOff"
        desk: str
        receiver: str
        outcome: str
        handed_off_at: datetime
        note: str

    def hand_off(
        self,
        actor: Actor,
        desk: str,
        receiver: str,
        outcome: str,
        handed_off_at: datetime,
        desks: dict[str, str],
        outcomes: dict[str, str],
        note: str = "",
        at: datetime | None = None,
    ) -> None:
        """转警: the operator passed the call to an emergency desk (or tried to); ``desks`` and
        ``outcomes`` are the choices the rules allow."""
        self._permit("hand_off", actor)
        if desk not in desks:
            raise InvalidInput(f"未知转接对象：{desk}，应为 {'、'.join(desks)} 之一")
        if outcome not in outcomes:
            raise InvalidInput("请选择转接结果")
        if not isinstance(handed_off_at, datetime) or handed_off_at.tzinfo is None:
            raise InvalidInput("请填写转接时间")
        if handed_off_at < self.created_on or (at is not None and handed_off_at > at):
            raise InvalidInput("转接时间应在受理之后、登记之前")
        self._record(
            self.HandedOff,
            actor,
            at,
            desk=desk,
            receiver=text(receiver, "接警席位或人员", limit=100),
            outcome=outcome,
            handed_off_at=handed_off_at,
            note=text(note, "转接说明", required=False, limit=500),
        )

    @event(HandedOff)
    def _handed_off(self, desk: str, receiver: str, outcome: str, handed_off_at: datetime) -> None:
        self.handoffs.append({"desk": desk, "receiver": receiver, "outcome": outcome, "at": handed_off_at})
        if outcome in HANDED_OVER and self.handed_off_at is None:
            self.handed_off_at = handed_off_at

    class InterimFeedbackRequested(Event):
        TOPIC = "hotline:Case.InterimFeedbackRequested"
        interim_by: datetime

    def request_interim_feedback(self, actor: Actor, interim_by: datetime, at: datetime | None = None) -> None:
        """An urgent case reached a department: it owes an interim feedback (阶段性反馈) by ``interim_by``."""
        self._permit("request_interim", actor)
        self._record(self.InterimFeedbackRequested, actor, at, interim_by=interim_by)

    @event(InterimFeedbackRequested)
    def _interim_requested(self, interim_by: datetime) -> None:
        self.interim_by = interim_by
        self.interim_given_at = None

    class InterimFeedbackGiven(Event):
        TOPIC = "hotline:Case.InterimFeedbackGiven"
        content: str

    def give_interim_feedback(self, actor: Actor, content: str, at: datetime | None = None) -> None:
        self._permit("interim_feedback", actor)
        self._record(self.InterimFeedbackGiven, actor, at, content=text(content, "阶段性反馈内容", limit=2000))

    @event(InterimFeedbackGiven)
    def _interim_given(self, timestamp: datetime) -> None:
        if self.interim_given_at is None:
            self.interim_given_at = timestamp

    @property
    def handoff_pending(self) -> bool:
        return self.emergency and self.handed_off_at is None and self.is_open

    def handoff_overdue(self, moment: datetime) -> bool:
        return self.handoff_pending and is_overdue(self.handoff_by, moment)

    def interim_overdue(self, moment: datetime) -> bool:
        return self.status in IN_HANDS and self.interim_given_at is None and is_overdue(self.interim_by, moment)


# 退单 as every figure counts it (the reports' 退单, the 考核 回退率): a return that took effect, the
# case going back to the dispatch centre. A request under review (ReturnRequested) is not one yet, and
# one the dispatch centre rejected never becomes one; stores written before returns were reviewed
# hold returns that took effect at once (Returned).
RETURNS_TAKING_EFFECT: tuple[type, ...] = (Case.Returned, Case.ReturnApproved)

EVENT_NAMES = {
    Case.Opened: "受理",
    Case.HeldForClassification: "待分类",
    Case.Classified: "分类",
    Case.Migrated: "迁移导入",
    Case.AnsweredDirectly: "直接答复",
    Case.Dispatched: "派单",
    Case.Redispatched: "改派",
    Case.Signed: "签收",
    Case.Returned: "退单",
    Case.ReturnRequested: "申请退单",
    Case.ReturnApproved: "同意退单",
    Case.ReturnRejected: "不同意退单",
    Case.ExtensionRequested: "申请延期",
    Case.ExtensionApproved: "同意延期",
    Case.ExtensionRejected: "不同意延期",
    Case.Urged: "催办",
    Case.Replied: "答复",
    Case.CallbackRecorded: "回访",
    Case.CalledBack: "回访",
    Case.RehandlingWaived: "不予重办",
    Case.Closed: "办结",
    Case.Reopened: "重启",
    Case.Rehandled: "重办",
    Case.MergedInto: "并单",
    Case.Escalated: "转督办",
    Case.CooperationAssigned: "指定协办单位",
    Case.PartSigned: "协办签收",
    Case.PartReported: "报送协办情况",
    Case.AnsweredFromArticle: "引用知识库答复",
    Case.EmergencyFlagged: "紧急事项",
    Case.HandedOff: "转警",
    Case.InterimFeedbackRequested: "要求阶段性反馈",
    Case.InterimFeedbackGiven: "阶段性反馈",
    Case.MarkedConfidential: "来电人保密",
    Case.ContactRevealed: "查看保密来电人联系方式",
    Case.PersonalDataErased: "删除个人信息",
    Case.SmsReplied: "来电人短信回复",
}
