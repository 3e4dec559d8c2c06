"""The notifications view (``notifications``): which messages are due to whom and when, planned from
the case events by the templates of rules/notifications.toml, and what became of each one.

Planning: a dispatch plans the caller's 受理回执 (the first dispatch only), the liaison's 签收提醒
(``sign_reminder_hours`` before the signing deadline) and 签收超期提醒 (at it), and the head's
黄牌 and 红牌 (``yellow_card_hours`` / ``red_card_hours`` past the reply deadline); signing,
returning, replying, a redispatch or an approved extension cancel what no longer applies (an
extension plans the cards again from the new deadline). Every urge plans a 催办通知; a reply
plans the caller's 满意度回访. A message is planned only when its recipient has an address
(the caller a mobile number; the department a contact in rules/contacts.csv).

Each message's key is derived from the event that planned it (``<ticket>-v<version>-<template>-
<channel>``), so it is the same on every rebuild and every notifier: the idempotency key. The
``Message`` events the notifier records (domain/message.py) move the rows on: sending, sent,
waiting to retry, failed. Nothing here sends; ``infra/notify`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.case import Case
from hotline.domain.message import FAILED, SENDING, SENT, WAITING, Message, message_id_text
from hotline.domain.message import STATUS_NAMES as MESSAGE_STATUS_NAMES
from hotline.domain.notifications import (
    CALLER,
    CHANNELS,
    RECEIPT,
    RECIPIENTS,
    RED_CARD,
    SATISFACTION_REQUEST,
    SIGN_OVERDUE,
    SIGN_REMINDER,
    URGE,
    YELLOW_CARD,
    NotificationRules,
    is_mobile,
    masked,
)
from hotline.projections.base import IN_CHUNK, Row, RowView, Table, row_values, stamp, unstamp
from hotline.projections.store import ViewRecorder

PENDING = "pending"
CANCELLED = "cancelled"
EXPIRED = "expired"  # shown, never stored: a pending message past its expiry when read
STATUS_NAMES = {PENDING: "待发送", CANCELLED: "已取消", EXPIRED: "已过期", **MESSAGE_STATUS_NAMES}
SIGNING = (SIGN_REMINDER, SIGN_OVERDUE)
CARDS = (YELLOW_CARD, RED_CARD)

MESSAGES = Table(
    "hv_messages",
    (
        "key",
        "message_id",
        "case_id",
        "ticket_no",
        "department",
        "template",
        "channel",
        "recipient",
        "source",
        "planned_at",
        "due_at",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "address_shown",
        "body",
        "cancelled_reason",
        "message_version",
        "updated_at",
    ),
    "key TEXT PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, ticket_no TEXT NOT NULL, "
    "department TEXT, template TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, source TEXT NOT NULL, "
    "planned_at TEXT NOT NULL, due_at TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER, next_attempt_at TEXT, "
    "sent_at TEXT, last_error TEXT, address_shown TEXT, body TEXT, cancelled_reason TEXT, message_version INTEGER, "
    "updated_at TEXT",
    ("due: status, due_at", "case: case_id, planned_at"),
    write_indexes=("case",),  # _cancel: a case's pending messages
)
CASE_STATE = Table(
    "hv_notify_cases",
    ("id", "ticket_no", "department", "caller_mobile", "dispatched", "sign_by", "reply_by"),
    "id TEXT PRIMARY KEY, ticket_no TEXT NOT NULL, department TEXT, caller_mobile INTEGER, dispatched INTEGER, "
    "sign_by TEXT, reply_by TEXT",
)


@dataclass(frozen=True)
class MessageRow:
    key: str
    case_id: str
    ticket_no: str
    department: str | None
    template: str
    channel: str
    recipient: str
    source: str  # the event that planned it: <case id>/<version>
    planned_at: datetime
    due_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str
    address_shown: str
    body: str
    cancelled_reason: str
    message_version: int  # the Message aggregate's version (0: not prepared yet)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def channel_name(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def recipient_name(self) -> str:
        return RECIPIENTS.get(self.recipient, self.recipient)

    @property
    def case_version(self) -> int:
        return int(self.source.rsplit("/", 1)[1])


def message_row(row: Row, moment: datetime | None = None, expire: timedelta | None = None) -> MessageRow:
    status = row["status"]
    due = unstamp(row["due_at"])
    if status == PENDING and moment is not None and expire is not None and due and due < moment - expire:
        status = EXPIRED
    return MessageRow(
        key=row["key"],
        case_id=row["case_id"],
        ticket_no=row["ticket_no"],
        department=row["department"],
        template=row["template"],
        channel=row["channel"],
        recipient=row["recipient"],
        source=row["source"],
        planned_at=unstamp(row["planned_at"]),  # type: ignore[arg-type]
        due_at=due,  # type: ignore[arg-type]
        status=status,
        attempts=int(row["attempts"] or 0),
        next_attempt_at=unstamp(row["next_attempt_at"]),
        sent_at=unstamp(row["sent_at"]),
        last_error=row["last_error"] or "",
        address_shown=row["address_shown"] or "",
        body=row["body"] or "",
        cancelled_reason=row["cancelled_reason"] or "",
        message_version=int(row["message_version"] or 0),
    )


CASE_EVENTS = (
    Case.Opened,
    Case.Migrated,  # 迁移数据: no message for the import itself; its steps here are told like any case's
    Case.Dispatched,
    Case.Redispatched,
    Case.Signed,
    Case.Returned,
    Case.ReturnApproved,  # a reviewed return takes effect
    Case.ExtensionApproved,
    Case.Urged,
    Case.Replied,
    Case.MergedInto,
)
CREATED = (Case.Opened, Case.Migrated)
MESSAGE_EVENTS = (Message.Prepared, Message.AttemptStarted, Message.Sent, Message.AttemptFailed, Message.Requeued)


CANCELLABLE = (*SIGNING, *CARDS)  # every template a step may cancel: one statement shape for all


class Planned(dict):
    """The messages planned in a batch (key → row), findable by case: cancelling a case's pending
    messages looks at that case's rows, not at every row of the batch. The cancellations of rows
    stored before the batch are collected and sent in order in one ``executemany`` at its end (one
    round trip per step had made a catch-up of 1M events on PostgreSQL run at 200 events/s); none is
    sent for a case opened in the batch, which has no stored rows."""

    def __init__(self) -> None:
        super().__init__()
        self._by_case: dict[str, list[Row]] = {}
        self._by_message: dict[str, Row] = {}
        self.opened: set[str] = set()  # cases whose opening is in this batch
        self.cancels: list[list[Any]] = []  # the UPDATE's parameters, in the order of the events
        self.stored: set[str] = set()  # keys of rows read from the store (the others are new)

    def __setitem__(self, key: str, row: Row) -> None:
        super().__setitem__(key, row)
        self._by_case.setdefault(row["case_id"], []).append(row)  # a replaced row too: harmless
        self._by_message[row["message_id"]] = row

    def of_case(self, case_id: str) -> list[Row]:
        return self._by_case.get(case_id, [])

    def of_message(self, message_id: str) -> Row | None:
        """A message planned earlier in this batch (the notifier may have sent it within the batch)."""
        return self._by_message.get(message_id)

    def new_rows(self) -> list[Row]:
        return [row for key, row in self.items() if key not in self.stored]

    def stored_rows(self) -> list[Row]:
        return [row for key, row in self.items() if key in self.stored]


class NotificationPlan(RowView):
    name = "notifications"
    tables = (MESSAGES, CASE_STATE)

    def __init__(self, view: ViewRecorder, rules: NotificationRules):
        self.rules = rules
        super().__init__(view)
        self.topics = tuple(cls.TOPIC for cls in (*CASE_EVENTS, *MESSAGE_EVENTS))

    # ---- applying events ------------------------------------------------------------------

    def process_batch(self, events: Sequence[Any], tracking: Any) -> None:
        view = self.view
        mine = [e for e in events if isinstance(e, (*CASE_EVENTS, *MESSAGE_EVENTS))]
        with view.writing(tracking) as cursor:
            if not mine:
                return
            case_ids = {str(e.originator_id) for e in mine if isinstance(e, Case.Event) and not isinstance(e, CREATED)}
            cases = self._load(cursor, CASE_STATE, case_ids)
            message_ids = {str(e.originator_id) for e in mine if isinstance(e, MESSAGE_EVENTS)}
            messages = self._messages_by_id(cursor, message_ids)
            planned = Planned()  # key → row, planned in this batch
            touched_cases: dict[str, Row] = {}
            opened_cases: dict[str, Row] = {}
            for event in mine:
                key = str(event.originator_id)
                if isinstance(event, MESSAGE_EVENTS):
                    row = messages.get(key)
                    if row is not None:
                        planned.stored.add(row["key"])
                    else:
                        row = planned.of_message(key)
                    if row is not None:
                        _message_moved(row, event)
                        planned[row["key"]] = row
                    continue
                if isinstance(event, CREATED):
                    cases[key] = {
                        "id": key,
                        "ticket_no": event.ticket_no,
                        "department": None,
                        "caller_mobile": int(is_mobile(event.caller_phone)),
                        "dispatched": 0,
                        "sign_by": None,
                        "reply_by": None,
                    }
                    opened_cases[key] = cases[key]
                    planned.opened.add(key)
                    continue
                case = cases.get(key)
                if case is None:
                    continue
                self._plan(case, event, planned)
                if key not in opened_cases:
                    touched_cases[key] = case
            # Rows new in this batch are appended (their keys are their events': a batch read twice
            # fails on them and is retried), rows read from the store replaced.
            if opened_cases:
                view.copy_rows(
                    cursor, CASE_STATE.name, CASE_STATE.columns, row_values(CASE_STATE, opened_cases.values())
                )
            if touched_cases:
                self._upsert(cursor, CASE_STATE, touched_cases.values())
            self._cancel_stored(cursor, planned)
            view.copy_rows(cursor, MESSAGES.name, MESSAGES.columns, row_values(MESSAGES, planned.new_rows()))
            if planned.stored:
                self._upsert(cursor, MESSAGES, planned.stored_rows())

    def _messages_by_id(self, cursor: Any, ids: set[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[start : start + IN_CHUNK]
            for row in self.view.select(
                cursor,
                f"SELECT * FROM {self.view.table(MESSAGES.name)} WHERE message_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[row["message_id"]] = row
        return found

    def _plan(self, case: Row, event: Any, planned: Planned) -> None:
        at = event.timestamp
        settings = self.rules.settings
        if isinstance(event, (Case.Dispatched, Case.Redispatched)):
            self._cancel(case, (*SIGNING, *CARDS), "已改派" if case["dispatched"] else "", planned)
            case.update(department=event.department, sign_by=stamp(event.sign_by), reply_by=stamp(event.reply_by))
            if not case["dispatched"]:
                self._add(case, event, RECEIPT, at, planned)
            case["dispatched"] = 1
            self._add(
                case,
                event,
                SIGN_REMINDER,
                max(at, event.sign_by - timedelta(hours=settings.sign_reminder_hours)),
                planned,
            )
            self._add(case, event, SIGN_OVERDUE, event.sign_by + timedelta(seconds=1), planned)
            self._cards(case, event, event.reply_by, planned)
        elif isinstance(event, Case.Signed):
            self._cancel(case, SIGNING, "已签收", planned)
        elif isinstance(event, (Case.Returned, Case.ReturnApproved)):
            self._cancel(case, (*SIGNING, *CARDS), "已退单", planned)
        elif isinstance(event, Case.ExtensionApproved):
            self._cancel(case, CARDS, "已延期", planned)
            case["reply_by"] = stamp(event.reply_by)
            self._cards(case, event, event.reply_by, planned)
        elif isinstance(event, Case.Urged):
            self._add(case, event, URGE, at, planned)
        elif isinstance(event, Case.Replied):
            self._cancel(case, (*SIGNING, *CARDS), "已答复", planned)
            self._add(case, event, SATISFACTION_REQUEST, at, planned)
        elif isinstance(event, Case.MergedInto):
            self._cancel(case, (*SIGNING, *CARDS), "已并单", planned)

    def _cards(self, case: Row, event: Any, reply_by: datetime, planned: Planned) -> None:
        settings = self.rules.settings
        self._add(case, event, YELLOW_CARD, reply_by + timedelta(hours=settings.yellow_card_hours), planned)
        self._add(case, event, RED_CARD, reply_by + timedelta(hours=settings.red_card_hours), planned)

    def _add(self, case: Row, event: Any, code: str, due: datetime, planned: Planned) -> None:
        template = self.rules.template(code)
        if template is None:
            return
        at = None
        for channel in template.channels:
            if template.recipient == CALLER:
                if not case["caller_mobile"]:
                    continue
            else:
                contact = self.rules.contacts.get(case["department"] or "")
                if contact is None or not contact.address(template.recipient, channel):
                    continue
            key = f"{case['ticket_no']}-v{event.originator_version}-{code}-{channel}"
            at = at or stamp(event.timestamp)
            planned[key] = {  # every column of MESSAGES
                "key": key,
                "message_id": message_id_text(key),
                "case_id": case["id"],
                "ticket_no": case["ticket_no"],
                "department": case["department"],
                "template": code,
                "channel": channel,
                "recipient": template.recipient,
                "source": f"{event.originator_id}/{event.originator_version}",
                "planned_at": at,
                "due_at": stamp(due),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": None,
                "sent_at": None,
                "last_error": None,
                "address_shown": None,
                "body": None,
                "cancelled_reason": None,
                "message_version": None,
                "updated_at": at,
            }

    def _cancel(self, case: Row, templates: Sequence[str], reason: str, planned: Planned) -> None:
        """What is still pending of these templates for the case will not be sent."""
        reason = reason or "不再需要"
        for row in planned.of_case(case["id"]):
            if row["template"] in templates and row["status"] == PENDING:
                row.update(status=CANCELLED, cancelled_reason=reason)
        if case["id"] not in planned.opened:
            padded = [*templates, *(templates[0] for _ in range(len(CANCELLABLE) - len(templates)))]
            planned.cancels.append([CANCELLED, reason, case["id"], PENDING, *padded])

    def _cancel_stored(self, cursor: Any, planned: Planned) -> None:
        """The batch's cancellations of stored rows, in order: the first reason for a row stays, as
        when each ran at its step. Rows planned in the batch are written after, as they are now."""
        marks = ",".join("?" * len(CANCELLABLE))
        self.view.executemany(
            cursor,
            f"UPDATE {self.view.table(MESSAGES.name)} SET status = ?, cancelled_reason = ? "
            f"WHERE case_id = ? AND status = ? AND template IN ({marks})",
            planned.cancels,
        )

    # ---- queries ----------------------------------------------------------------------------

    def _table(self) -> str:
        return self.view.table(MESSAGES.name)

    def due(self, moment: datetime, limit: int = 200) -> list[MessageRow]:
        """Messages whose time has come: planned and due (not expired), waiting for a retry that is
        due, or being sent by a notifier that may have died (the notifier decides)."""
        expire = timedelta(hours=self.rules.settings.expire_hours)
        now = stamp(moment)
        rows = self.view.query(
            f"SELECT * FROM {self._table()} WHERE (status = ? AND due_at <= ? AND due_at >= ?) "
            f"OR (status = ? AND next_attempt_at <= ?) OR status = ? ORDER BY due_at, key LIMIT ?",
            [PENDING, now, stamp(moment - expire), WAITING, now, SENDING, max(1, int(limit))],
        )
        return [message_row(row) for row in rows]

    def for_case(self, case_id: str, moment: datetime) -> list[MessageRow]:
        rows = self.view.query(f"SELECT * FROM {self._table()} WHERE case_id = ? ORDER BY due_at, key", [case_id])
        expire = timedelta(hours=self.rules.settings.expire_hours)
        return [message_row(row, moment, expire) for row in rows]

    def listed(
        self, moment: datetime, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[MessageRow], int]:
        expire = timedelta(hours=self.rules.settings.expire_hours)
        where, params = "", []
        if status == EXPIRED:
            where, params = " WHERE status = ? AND due_at < ?", [PENDING, stamp(moment - expire)]
        elif status == PENDING:
            where, params = " WHERE status = ? AND due_at >= ?", [PENDING, stamp(moment - expire)]
        elif status:
            where, params = " WHERE status = ?", [status]
        total = self.view.query(f"SELECT COUNT(*) AS n FROM {self._table()}{where}", params)[0]["n"]
        rows = self.view.query(
            f"SELECT * FROM {self._table()}{where} ORDER BY due_at DESC, key LIMIT ? OFFSET ?",
            [*params, max(0, min(int(limit), 500)), max(0, int(offset))],
        )
        return [message_row(row, moment, expire) for row in rows], int(total)

    def counts(self, moment: datetime) -> dict[str, int]:
        """How many messages are in each status (pending ones past their expiry counted as expired)."""
        found = dict.fromkeys(STATUS_NAMES, 0)
        for row in self.view.query(f"SELECT status, COUNT(*) AS n FROM {self._table()} GROUP BY status"):
            found[row["status"]] = int(row["n"])
        expired = self.view.query(
            f"SELECT COUNT(*) AS n FROM {self._table()} WHERE status = ? AND due_at < ?",
            [PENDING, stamp(moment - timedelta(hours=self.rules.settings.expire_hours))],
        )[0]["n"]
        found[EXPIRED] = int(expired)
        found[PENDING] -= int(expired)
        return found


def _message_moved(row: Row, event: Any) -> None:
    row["updated_at"] = stamp(event.timestamp)
    row["message_version"] = event.originator_version
    if isinstance(event, Message.Prepared):
        row.update(status=SENDING, attempts=1, address_shown=masked(event.address), body=event.body)
    elif isinstance(event, Message.AttemptStarted):
        row.update(status=SENDING, attempts=event.attempt)
    elif isinstance(event, Message.Sent):
        row.update(status=SENT, sent_at=stamp(event.timestamp), last_error="")
    elif isinstance(event, Message.AttemptFailed):
        row.update(
            status=WAITING if event.retry_at else FAILED,
            next_attempt_at=stamp(event.retry_at),
            last_error=event.error,
        )
    elif isinstance(event, Message.Requeued):
        row.update(status=WAITING, next_attempt_at=stamp(event.timestamp))
