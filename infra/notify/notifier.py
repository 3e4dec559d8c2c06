"""The notifier: sends the messages the notifications view says are due, and records each outcome.

One round (``run_once``): catch the view up, take each due message (``take_message``: the store
lets one notifier have it), fill its template from the case as it stood at the planning event,
send it through its channel with its idempotency key, record Sent or AttemptFailed (with the
next retry, doubling, until ``max_attempts``; then it is on the failed list). SMS to callers wait
out the quiet hours. ``run`` repeats rounds until stopped; ``hotline serve``, ``hotline consume``
and ``hotline notify run`` run it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from hotline.application import HotlineApplication
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Case
from hotline.domain.notifications import CALLER, SMS, is_confidential
from hotline.domain.workdays import as_china_time
from hotline.infra.notify.channels import Channel, ChannelError, Outgoing
from hotline.projections.notifications import MessageRow
from hotline.projections.read_models import ReadModels

log = logging.getLogger(__name__)
VIEW = "notifications"


class NoAddress(Exception):
    pass


@dataclass
class Round:
    sent: int = 0
    failed: int = 0  # attempts that failed (retried later or given up)
    deferred: int = 0  # quiet hours
    skipped: int = 0  # another notifier has it, or not due yet

    def __str__(self) -> str:
        return f"已发送 {self.sent} 条，失败 {self.failed} 条，静默时段顺延 {self.deferred} 条"


class Notifier:
    def __init__(self, app: HotlineApplication, read_models: ReadModels, channels: dict[str, Channel]):
        self.app = app
        self.read_models = read_models
        self.channels = channels
        self.rules = app.rules
        self.settings = app.rules.notifications.settings
        self._lock = threading.Lock()

    def run_once(self, limit: int = 200) -> Round:
        outcome = Round()
        with self._lock:
            self.read_models.catch_up(views=[VIEW])
            for row in self.read_models.notifications.due(self.app.now(), limit=limit):
                self._one(row, outcome)
            self.read_models.catch_up(views=[VIEW])
        return outcome

    def run(self, stop: threading.Event, interval: float = 5.0) -> None:
        while not stop.is_set():
            try:
                outcome = self.run_once()
                if outcome.sent or outcome.failed:
                    log.info("通知：%s", outcome)
            except Exception:
                log.exception("通知发送轮次失败，%.0f 秒后重试", interval)
            stop.wait(interval)

    # ---- one message ------------------------------------------------------------------------

    def _one(self, row: MessageRow, outcome: Round) -> None:
        now = self.app.now()
        if row.recipient == CALLER and row.channel == SMS and self.settings.quiet_hours.holds(now):
            outcome.deferred += 1
            return
        try:
            message = self.app.take_message(
                row.key,
                SYSTEM_ACTOR,
                lambda: self._prepare(row),
                timedelta(seconds=self.settings.sending_timeout_seconds),
            )
        except NoAddress as missing:
            log.warning("通知 %s 没有收件地址：%s", row.key, missing)
            outcome.skipped += 1
            return
        if message is None:
            outcome.skipped += 1
            return
        channel = self.channels[message.channel]
        try:
            receipt = channel.send(
                Outgoing(message.key, message.channel, message.address, message.subject, message.body)
            )
        except ChannelError as error:
            attempt = message.attempts_this_round
            retry_at = (
                self.app.now() + self.settings.retry_after(attempt) if attempt < self.settings.max_attempts else None
            )
            self.app.record_failure(message, SYSTEM_ACTOR, str(error), retry_at)
            outcome.failed += 1
            log.warning("通知 %s 第 %d 次发送失败：%s", message.key, message.attempts, error)
            return
        self.app.record_sent(message, SYSTEM_ACTOR, receipt)
        outcome.sent += 1

    def _prepare(self, row: MessageRow) -> dict[str, str]:
        """The message's fields, from the case as it stood when the message was planned."""
        template = self.rules.notifications.template(row.template)
        if template is None:
            raise NoAddress(f"模板 {row.template} 已从 notifications.toml 删除")
        # As planned, but showing an erasure of the caller's personal data since: no address left.
        case: Case = self.app.case_at(UUID(row.case_id), row.case_version)
        if row.recipient == CALLER:
            address = "" if case.personal_data_erased else case.caller_phone
        else:
            contact = self.rules.notifications.contacts.get(case.department or "")
            address = contact.address(row.recipient, row.channel) if contact else ""
        if not address:
            raise NoAddress(f"{row.recipient_name}没有{row.channel_name}地址")
        subject, body = template.render(self._values(case, row), confidential=is_confidential(case))
        return {
            "template": row.template,
            "channel": row.channel,
            "recipient": row.recipient,
            "address": address,
            "case_id": row.case_id,
            "ticket_no": row.ticket_no,
            "subject": subject,
            "body": body,
        }

    def _values(self, case: Case, row: MessageRow) -> dict[str, str]:
        def moment(value: datetime | None) -> str:
            return as_china_time(value).strftime("%m月%d日%H:%M") if value else ""

        service = self.rules.service_name(case.service_code)
        summary = case.description if len(case.description) <= 30 else case.description[:30] + "…"
        overdue = (row.due_at - case.reply_by).total_seconds() / 3600 if case.reply_by else 0
        last_urge = ""
        if row.template == "urge":
            urged = self.app.events.get(case.id, gt=row.case_version - 1, lte=row.case_version)
            last_urge = next((getattr(e, "note", "") for e in urged), "") or "请加快办理"
        return {
            "ticket_no": case.ticket_no,
            "service": service,
            "matter": f"{service}：{summary}",
            "department": self.rules.department_name(case.department),
            "sign_by": moment(case.sign_by),
            "reply_by": moment(case.reply_by),
            "note": last_urge,
            "overdue_hours": f"{max(0, round(overdue))}",
        }
