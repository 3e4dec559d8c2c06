"""Messages out: the notifier's steps recorded as events (domain/message.py).

``take_message`` creates a message (its first attempt) or starts another attempt; the store lets
only one notifier win either, so a message is never sent by two at once. The outcome of every
attempt is recorded; what the notifier sends and when is decided in ``infra/notify``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from hotline.application.base import HotlineBase
from hotline.domain.actors import Actor
from hotline.domain.errors import InvalidInput
from hotline.domain.message import Message, message_id

MESSAGE_CHANGED = "该通知已被他人更新，请刷新后重试"


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
