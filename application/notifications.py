"""Messages out: the notifier's steps recorded as events (domain/message.py).

``take_message`` creates a message (its first attempt) or starts another attempt; the store lets
only one notifier win either, so a message is never sent by two at once. The outcome of every
attempt is recorded; what the notifier sends and when is decided in ``infra/notify``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from hotline.application.base import HotlineBase
from hotline.application.cases import CASE_CHANGED
from hotline.domain.actors import SYSTEM, Actor
from hotline.domain.case import Case
from hotline.domain.errors import CaseNotFound, InvalidInput, NotPermitted
from hotline.domain.message import Message, message_id
from hotline.domain.notifications import SATISFACTION_REQUEST, phone_digits

MESSAGE_CHANGED = "该通知已被他人更新，请刷新后重试"
SMS_GATEWAY = Actor(id="sms-gateway", role=SYSTEM)  # who records a caller's SMS reply


@dataclass(frozen=True)
class SmsReplyRecorded:
    ticket_no: str
    recorded: bool  # False: the gateway delivered this reply before, and it was recorded then
    satisfaction: str | None  # the evaluation it gave; None: none of the listed answers, or too late


class NotificationCommands(HotlineBase):
    def get_message(self, key: str) -> Message | None:
        try:
            message: Message = self.repository.get(message_id(key))
        except AggregateNotFoundError:
            return None
        return message

    def take_message(self, key: str, actor: Actor, prepare: Any, sending_timeout: timedelta) -> Message | None:
        """The message, taken for an attempt now; None when it is not due or another notifier has it.

        ``prepare()`` gives the fields of a message not prepared yet (template, channel, recipient,
        address, case_id, ticket_no, subject, body); it is called only for a new message."""
        moment = self.now()
        message = self.get_message(key)
        if message is None:
            message = Message.prepare(key, actor=actor, at=moment, **prepare())
        elif message.may_take_over(moment, sending_timeout):
            message.start_attempt(actor, moment, sending_timeout)
        else:
            return None
        try:
            self.save(message)
        except IntegrityError:
            return None  # another notifier took it first
        return message

    def record_sent(self, message: Message, actor: Actor, receipt: str) -> None:
        message.record_sent(actor, receipt, at=self.now())
        self.save(message)

    def record_failure(self, message: Message, actor: Actor, error: str, retry_at: datetime | None) -> None:
        message.record_failure(actor, error, retry_at, at=self.now())
        self.save(message)

    def requeue_message(self, key: str, actor: Actor, note: str = "", **options: Any) -> Message:
        """重新发送 a message on the failed list."""
        message = self.get_message(key)
        if message is None:
            raise InvalidInput(f"没有幂等键为 {key} 的通知")
        return self._run(message, lambda m, moment: m.requeue(actor, note, at=moment), MESSAGE_CHANGED, **options)

    def record_sms_reply(self, reply_id: str, message_key: str, phone: str, reply_text: str) -> SmsReplyRecorded:
        """A caller's SMS reply to the satisfaction request ``message_key``, from the number it was
        sent to, recorded on the case (短信评价). The gateway may deliver a reply twice: it is
        recorded once."""
        message = self.get_message(message_key)
        if message is None or message.template != SATISFACTION_REQUEST:
            raise CaseNotFound(f"没有编号为 {message_key} 的满意度回访短信")
        if message.sent_at is None:
            raise InvalidInput(f"回访短信 {message_key} 尚未发出，不能有回复")
        if phone_digits(phone) != phone_digits(message.address):
            raise NotPermitted("回复号码与回访短信的收件号码不一致，未记录")
        rule = self.rules.notifications.sms_reply
        recorded: list[bool] = []

        def command(case: Case, at: datetime) -> None:
            recorded[:] = [
                case.record_sms_reply(SMS_GATEWAY, reply_id, message_key, reply_text, message.sent_at, rule, at)
            ]

        def load() -> Case:
            found: Case = self.repository.get(UUID(message.case_id))
            return found

        case = self._run(self._for_command(load), command, CASE_CHANGED)
        return SmsReplyRecorded(case.ticket_no, recorded[0], case.sms_reply(reply_id)[1])
