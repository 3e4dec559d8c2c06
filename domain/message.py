"""One message sent out (短信 / 电子邮件): what was prepared, each attempt, and how it ended.

The notifier prepares a message (the text and the address, fixed from then on) before its first
attempt; the store accepts that creation once per message key, so two notifiers never both take
the same message. Every later attempt starts with an event too (a claim on that attempt), and
each attempt ends with ``Sent`` or ``AttemptFailed``. An attempt that never ended (the process
died) may be taken over once ``sending_timeout`` has passed; it is sent again under the same
idempotency key, so a gateway that accepted it the first time accepts nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from hashlib import sha1
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, SUPERVISOR, SYSTEM, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import DomainError, InvalidTransition
from hotline.domain.permits import Permit, Permitted
from hotline.domain.text import printable, text

SENDING = "sending"
WAITING = "waiting"  # a failed attempt, another one to come
SENT = "sent"
FAILED = "failed"  # gave up after the last attempt: on the failed list
STATUS_NAMES = {SENDING: "发送中", WAITING: "等待重试", SENT: "已发送", FAILED: "发送失败"}

CAN_SEND = (SYSTEM, ADMIN)
CAN_REQUEUE = (SUPERVISOR, ADMIN)

_NAMESPACE = NAMESPACE_URL.bytes


def message_id(key: str) -> UUID:
    return UUID(message_id_text(key))


def message_id_text(key: str) -> str:
    """``str(uuid5(NAMESPACE_URL, "hotline/message/" + key))``, as RFC 4122 defines it (SHA-1 of the
    namespace and the name, version 5, the RFC's variant), in a third of uuid5's time: a rebuild
    derives one for every message planned (tests/memory/test_message_ids.py proves them equal)."""
    digest = bytearray(sha1(_NAMESPACE + f"hotline/message/{key}".encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Message(Permitted, HotlineAggregate):
    TOPIC = "hotline:Message"

    PERMITS: ClassVar[dict[str, Permit]] = {
        "attempt": Permit("再次发送", CAN_SEND, (WAITING, SENDING)),
        "record_outcome": Permit("记录发送结果", CAN_SEND, (SENDING,)),
        "requeue": Permit("重新发送", CAN_REQUEUE, (FAILED,)),
    }

    class Event(Aggregate.Event):
        TOPIC = "hotline:Message.Event"
        actor_id: str
        actor_role: str

    class Prepared(Event, Aggregate.Created):
        TOPIC = "hotline:Message.Prepared"
        key: str
        template: str
        channel: str
        recipient: str
        address: str
        case_id: str
        ticket_no: str
        subject: str
        body: str

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        return message_id(key)

    @classmethod
    def prepare(
        cls,
        key: str,
        *,
        template: str,
        channel: str,
        recipient: str,
        address: str,
        case_id: str,
        ticket_no: str,
        subject: str,
        body: str,
        actor: Actor,
        at: datetime | None = None,
    ) -> Message:
        """The message as it will be sent, taken for its first attempt."""
        require_role(actor, CAN_SEND, "发送通知")
        return cls._create(
            cls.Prepared,
            id=message_id(key),
            timestamp=at,
            key=key,
            template=template,
            channel=channel,
            recipient=recipient,
            address=text(address, "收件地址", limit=200),
            case_id=case_id,
            ticket_no=ticket_no,
            subject=text(subject, "邮件主题", required=False, limit=200),
            body=text(body, "通知正文"),
            actor_id=actor.id,
            actor_role=actor.role,
        )

    @event(Prepared)
    def __init__(
        self,
        key: str,
        template: str,
        channel: str,
        recipient: str,
        address: str,
        case_id: str,
        ticket_no: str,
        subject: str,
        body: str,
        timestamp: datetime,
    ) -> None:
        self.key = key
        self.template = template
        self.channel = channel
        self.recipient = recipient
        self.address = address
        self.case_id = case_id
        self.ticket_no = ticket_no
        self.subject = subject
        self.body = body
        self.attempts = 1
        self.round_started_with = 1  # the first attempt since it was prepared or requeued
        self.attempt_started = timestamp
        self.status = SENDING
        self.retry_at: datetime | None = None
        self.last_error = ""
        self.sent_at: datetime | None = None

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    def _refuse(self, action: str) -> InvalidTransition:
        return InvalidTransition(f"通知 {self.key} 当前状态为“{self.status_name}”，不能{action}")

    def _state_refusal(self, command: str, permit: Permit, actor: Actor, moment: datetime | None) -> DomainError | None:
        refused = super()._state_refusal(command, permit, actor, moment)
        if refused is not None or command != "attempt" or moment is None:
            return refused
        if self.status == WAITING and self.retry_at is not None and moment < self.retry_at:
            return InvalidTransition(f"通知 {self.key} 将于 {self.retry_at:%H:%M:%S} 重试")
        return None

    @property
    def attempts_this_round(self) -> int:
        return self.attempts - self.round_started_with + 1

    def may_take_over(self, moment: datetime, sending_timeout: timedelta) -> bool:
        """A new attempt may start now: a retry is due, or the attempt in progress was abandoned."""
        if self.status == SENDING:
            return moment - self.attempt_started >= sending_timeout
        return self.may("attempt", Actor("system", SYSTEM), moment)

    # ---- attempts ---------------------------------------------------------------------------

    class AttemptStarted(Event):
        TOPIC = "hotline:Message.AttemptStarted"
        attempt: int

    def start_attempt(self, actor: Actor, moment: datetime, sending_timeout: timedelta) -> None:
        self._permit("attempt", actor, moment)
        if not self.may_take_over(moment, sending_timeout):
            raise InvalidTransition(f"通知 {self.key} 正在由其他发送进程发送")
        self._record(self.AttemptStarted, actor, moment, attempt=self.attempts + 1)

    @event(AttemptStarted)
    def _attempt_started(self, attempt: int, timestamp: datetime) -> None:
        self.attempts = attempt
        self.attempt_started = timestamp
        self.status = SENDING

    class Sent(Event):
        TOPIC = "hotline:Message.Sent"
        attempt: int
        receipt: str  # what the channel answered (the gateway's message id, the SMTP reply, the file)

    def record_sent(self, actor: Actor, receipt: str, at: datetime | None = None) -> None:
        self._permit("record_outcome", actor)
        self._record(self.Sent, actor, at, attempt=self.attempts, receipt=text(receipt, "回执", required=False))

    @event(Sent)
    def _sent(self, timestamp: datetime) -> None:
        self.sent_at = timestamp
        self.status = SENT

    class AttemptFailed(Event):
        TOPIC = "hotline:Message.AttemptFailed"
        attempt: int
        error: str
        retry_at: datetime | None  # None: no attempt left, the message is on the failed list

    def record_failure(self, actor: Actor, error: str, retry_at: datetime | None, at: datetime | None = None) -> None:
        self._permit("record_outcome", actor)
        error = printable((error or "未知错误").strip())[:500]  # a gateway's words: kept, made safe
        self._record(self.AttemptFailed, actor, at, attempt=self.attempts, error=error, retry_at=retry_at)

    @event(AttemptFailed)
    def _attempt_failed(self, error: str, retry_at: datetime | None) -> None:
        self.last_error = error
        self.retry_at = retry_at
        self.status = WAITING if retry_at is not None else FAILED

    class Requeued(Event):
        TOPIC = "hotline:Message.Requeued"
        note: str

    def requeue(self, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """重新发送 a message on the failed list (after its address or the gateway was fixed)."""
        self._permit("requeue", actor)
        self._record(self.Requeued, actor, at, note=text(note, "说明", required=False, limit=500))

    @event(Requeued)
    def _requeued(self, timestamp: datetime) -> None:
        self.round_started_with = self.attempts + 1
        self.retry_at = timestamp
        self.status = WAITING


EVENT_NAMES = {
    Message.Prepared: "准备发送",
    Message.AttemptStarted: "再次发送",
    Message.Sent: "已发送",
    Message.AttemptFailed: "发送失败",
    Message.Requeued: "重新发送",
}
