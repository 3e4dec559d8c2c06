"""The case index (view ``cases``): one row per case, the source of department inboxes, the case
part of the deadline queue, case search and caller history.

The caller's phone number is never stored: only its keyed hash (``caller_key``). The callback
deadline (``callback_by``, ``callback_provisional``) and the dispatch deadline (``dispatch_by``) are
the ones the events record (``Case.Replied``; the openings, ``ReturnApproved``, ``Reopened``,
``Rehandled``); for an event stored before they were recorded they are counted here, as they were
then (rules/follow_up.csv on the working-day calendar, never provisional; rules/handling.toml).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from hotline.domain.case import (
    ANSWERED,
    AWAITING_DISPATCH,
    CALLED_BACK,
    CLOSED,
    DEADLINE_OF_STATUS,
    DISPATCHED,
    FINISHED,
    MERGED,
    OPENED,
    REOPENED,
    REPLIED,
    RETURNED,
    SIGNED,
    STATUS_NAMES,
    UNCLASSIFIED,
    UNFINISHED,
    Case,
    current_deadline,
)
from hotline.domain.catalogue import CATEGORIES, SATISFACTION
from hotline.domain.emergency import HANDED_OVER
from hotline.domain.follow_up import FollowUpRules
from hotline.domain.handling import DispatchRules
from hotline.domain.privacy import ERASED, scrub, scrub_contacts
from hotline.domain.workdays import CHINA_TZ, WorkingDayCalendar, as_china_time
from hotline.projections.base import Row, RowView, Table, stamp, touch, unstamp
from hotline.projections.caller_key import CallerKey
from hotline.projections.store import ViewRecorder

DUPLICATE_WINDOW = timedelta(days=30)
ERASED_COLUMNS = ("description", "public_description", "address")  # the caller's own words, where they sit
NEWEST_FIRST = "opened_at DESC, ticket_no DESC"

# The emergency queue's rows and order, as SQL (the statuses are the domain's constants, not input).
EMERGENCY_OPEN = (
    "(urgency = 'urgent' OR emergency = 1) AND status IN (" + ", ".join(f"'{status}'" for status in UNFINISHED) + ")"
)
HANDOFF_FIRST = "(CASE WHEN emergency = 1 AND handed_off_at IS NULL THEN 0 ELSE 1 END)"
CASES = Table(
    "hv_cases",
    (
        "id",
        "ticket_no",
        "call_id",
        "status",
        "department",
        "category",
        "service_code",
        "channel",
        "urgency",
        "district",
        "address",
        "description",
        "lat",
        "long",
        "caller_key",
        "opened_at",
        "updated_at",
        "dispatched_at",
        "sign_by",
        "reply_by",
        "signed_at",
        "replied_at",
        "callback_by",
        "closed_at",
        "deadline_provisional",
        "satisfaction",
        "resolved",
        "resolved_per_caller",
        "reply_result",
        "urge_count",
        "merged_into",
        "version",
        "emergency",
        "handoff_by",
        "handed_off_at",
        "interim_by",
        "interim_given_at",
        "article_no",
        "extension_pending",
        "return_requested_at",
        "return_rejection",
        "return_reason",
        "public_description",
        "public_reply",
        "caller_name_key",
        "dispatch_by",
        "confidential",
        "migrated_from",
        "source_opened_at",
        "erased",
        "callback_provisional",
    ),
    "id TEXT PRIMARY KEY, ticket_no TEXT NOT NULL UNIQUE, call_id TEXT, status TEXT NOT NULL, department TEXT, "
    "category TEXT, service_code TEXT, channel TEXT, urgency TEXT, district TEXT, address TEXT, description TEXT, "
    "lat DOUBLE PRECISION, long DOUBLE PRECISION, caller_key TEXT, opened_at TEXT NOT NULL, updated_at TEXT, "
    "dispatched_at TEXT, sign_by TEXT, reply_by TEXT, signed_at TEXT, replied_at TEXT, callback_by TEXT, "
    "closed_at TEXT, deadline_provisional INTEGER, satisfaction TEXT, resolved INTEGER, resolved_per_caller INTEGER, "
    "reply_result TEXT, urge_count INTEGER, merged_into TEXT, version INTEGER, emergency INTEGER, handoff_by TEXT, "
    "handed_off_at TEXT, interim_by TEXT, interim_given_at TEXT, article_no TEXT, "
    "extension_pending INTEGER, return_requested_at TEXT, return_rejection TEXT, return_reason TEXT, "
    "public_description TEXT, public_reply TEXT, caller_name_key TEXT, dispatch_by TEXT, confidential INTEGER, "
    "migrated_from TEXT, source_opened_at TEXT, erased INTEGER, callback_provisional INTEGER",
    (
        "opened: opened_at",
        "updated: updated_at",
        "inbox: department, status, opened_at",
        # Deadlines fall on the same moment for many cases (a limit in days ends at 24:00), so every
        # deadline index carries the ticket number too: "soonest first, then by number" reads only the
        # rows of the page, however many cases share the moment.
        "inbox_sign_due: department, status, sign_by, ticket_no",
        "inbox_reply_due: department, status, reply_by, ticket_no",
        "caller: caller_key, service_code, opened_at",
        "status: status, opened_at",
        "sign_due: status, sign_by, ticket_no",
        "reply_due: status, reply_by, ticket_no",
        "callback_due: status, callback_by, ticket_no",
        "urgent: urgency, status",
        "handoff_by: handoff_by",
        "interim_due: status, interim_by, ticket_no",
        "return_review: return_requested_at",
        "extension_review: extension_pending",
        "dispatch_due: status, dispatch_by, ticket_no",
        "dispatch_queue: status, urgency, opened_at",
        "migrated_from: migrated_from",
        "merged_into: merged_into, opened_at",
        # The emergency queue on every console: only the open emergency cases are in these, in the
        # queue's order (still to hand off first, then the newest), for all and for one department.
        f"emergency_queue: {HANDOFF_FIRST}, opened_at DESC WHERE {EMERGENCY_OPEN}",
        f"emergency_department: department, {HANDOFF_FIRST}, opened_at DESC WHERE {EMERGENCY_OPEN}",
    ),
    retired_indexes=(
        "inbox_sign",
        "inbox_reply",
        "sign_by",
        "reply_by",
        "callback_by",
        "interim_by",
        "dispatch_by",
        "emergency",
    ),
)


@dataclass(frozen=True)
class CaseRow:
    ticket_no: str
    call_id: str | None
    status: str
    department: str | None
    category: str
    service_code: str
    channel: str
    urgency: str
    district: str
    address: str
    description: str
    lat: float | None
    long: float | None
    caller_key: str | None
    opened_at: datetime
    updated_at: datetime
    sign_by: datetime | None
    reply_by: datetime | None
    signed_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    deadline_provisional: bool
    satisfaction: str | None
    resolved: bool | None
    reply_result: str
    urge_count: int
    version: int
    dispatched_at: datetime | None = None
    callback_by: datetime | None = None
    resolved_per_caller: bool | None = None
    merged_into: str | None = None
    emergency: bool | None = None  # on the emergency list (to be handed to 110 / 119 / 120 / 122)
    handoff_by: datetime | None = None
    handed_off_at: datetime | None = None
    interim_by: datetime | None = None
    interim_given_at: datetime | None = None
    article_no: str | None = None  # the article a direct answer cited
    extension_pending: int | None = None  # working days of an extension waiting for approval
    return_requested_at: datetime | None = None  # a return waiting for the dispatch centre's review
    return_rejection: str | None = None  # why the latest return was refused
    return_reason: str | None = None  # the department's reason and basis for the latest return
    public_description: str | None = None  # the description as the public may read it (domain/privacy.scrub)
    public_reply: str | None = None  # the reply as the public may read it, the caller's name hidden
    caller_name_key: str | None = None  # the name's keyed hash (caller_key.py), never the name
    dispatch_by: datetime | None = None  # 派单时限: by when the dispatch centre dispatches it (rules/handling.toml)
    confidential: bool | None = None  # 保密 caller (Case.MarkedConfidential)
    migrated_from: str | None = None  # 迁移数据: the previous system's 工单编号 (Case.Migrated)
    source_opened_at: datetime | None = None  # 迁移数据: its 受理时间 there (reported)
    erased: bool | None = None  # the caller's personal data erased (Case.PersonalDataErased)
    callback_provisional: bool | None = None  # the callback deadline rests on a year not published (暂定)

    @property
    def migrated(self) -> bool:
        return self.migrated_from is not None

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def category_name(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def satisfaction_name(self) -> str:
        return SATISFACTION.get(self.satisfaction or "", "")

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED

    @property
    def is_emergency(self) -> bool:
        """In the emergency queue: urgent, or on the emergency list."""
        return self.urgency == "urgent" or bool(self.emergency)

    @property
    def handoff_pending(self) -> bool:
        return bool(self.emergency) and self.handed_off_at is None and self.is_open

    @property
    def interim_pending(self) -> bool:
        return self.interim_by is not None and self.interim_given_at is None and self.status in (DISPATCHED, SIGNED)

    @property
    def next_deadline(self) -> datetime | None:
        """The deadline the department is working against now."""
        return current_deadline(self.status, self.sign_by, self.reply_by)


TIME_FIELDS = {
    "opened_at",
    "updated_at",
    "sign_by",
    "reply_by",
    "signed_at",
    "replied_at",
    "closed_at",
    "dispatched_at",
    "callback_by",
    "handoff_by",
    "handed_off_at",
    "interim_by",
    "interim_given_at",
    "return_requested_at",
    "dispatch_by",
    "source_opened_at",
}
BOOL_FIELDS = {
    "deadline_provisional",
    "resolved",
    "resolved_per_caller",
    "emergency",
    "confidential",
    "callback_provisional",
}
CASE_FIELDS = [f.name for f in fields(CaseRow)]


def case_row(row: Row) -> CaseRow:
    values: dict[str, Any] = {}
    for name in CASE_FIELDS:
        value = row[name]
        if name in TIME_FIELDS:
            value = unstamp(value)
        elif name in BOOL_FIELDS:
            value = None if value is None else bool(value)
        values[name] = value
    values["reply_result"] = values["reply_result"] or ""
    values["urge_count"] = values["urge_count"] or 0
    return CaseRow(**values)


def moment_text(value: date | datetime, *, end: bool = False) -> str:
    """A filter bound as stored text; a bare date means its start (or, with ``end``, the next day's)."""
    if isinstance(value, datetime):
        return stamp(value)  # type: ignore[return-value]
    day = value + timedelta(days=1) if end else value
    return stamp(datetime.combine(day, time(0), CHINA_TZ))  # type: ignore[return-value]


class CaseIndex(RowView):
    name = "cases"
    tables = (CASES,)

    def __init__(
        self,
        view: ViewRecorder,
        caller_key: CallerKey,
        calendar: WorkingDayCalendar,
        follow_up: FollowUpRules,
        dispatch: DispatchRules,
    ):
        self.caller_key = caller_key
        self.calendar = calendar
        self.follow_up = follow_up
        self.dispatch = dispatch
        self.handlers = self._handlers()
        super().__init__(view)

    # ---- the deadlines recorded on the events, or counted as before they were -------------------

    def dispatch_by(self, e: Any) -> str | None:
        """派单时限 as the event records it; counted from the event's time if it records none."""
        recorded = getattr(e, "dispatch_by", None)
        return stamp(recorded if recorded is not None else self.dispatch.dispatch_due(e.timestamp))

    def callback_by(self, e: Any) -> tuple[str | None, int]:
        """回访期限 and whether it is provisional, as the reply records them; one stored before they
        were recorded: counted from the reply, never provisional (as it read then)."""
        if e.callback_by is not None:
            return stamp(e.callback_by), int(e.callback_by_provisional)
        return stamp(self.follow_up.callback_due(self.calendar, e.timestamp).at), 0

    # ---- applying events ------------------------------------------------------------------

    def _handlers(self) -> dict:
        def opened(row: Row, e: Any) -> None:
            row.update(
                ticket_no=e.ticket_no,
                call_id=e.call_id,
                status="opened",
                category=e.category,
                service_code=e.service_code,
                channel=e.channel,
                urgency=e.urgency,
                district=e.district,
                address=e.address,
                # No phone, ID number or e-mail in clear in a read model; the public's copy without names too.
                description=scrub_contacts(e.description),
                public_description=scrub(e.description, (e.caller_name,)),
                caller_name_key=self.caller_key.name(e.caller_name),
                lat=e.lat,
                long=e.long,
                caller_key=self.caller_key(e.caller_phone),
                opened_at=stamp(e.timestamp),
                dispatch_by=self.dispatch_by(e),
                deadline_provisional=0,
                urge_count=0,
                reply_result="",
            )
            touch(row, e)

        def held(row: Row, e: Any) -> None:
            row["status"] = UNCLASSIFIED
            touch(row, e)

        def classified(row: Row, e: Any) -> None:
            row.update(status=OPENED, service_code=e.service_code, category=e.category)
            touch(row, e)

        def migrated(row: Row, e: Any) -> None:
            opened(row, e)
            row.update(migrated_from=e.source_no, source_opened_at=stamp(e.reported_at), dispatch_by=None)
            if e.finished:
                row.update(
                    status=CLOSED,
                    department=e.source_department,
                    closed_at=stamp(e.finished_at),
                    reply_result=scrub_contacts(e.result),
                    public_reply=self.caller_key.hide_name(scrub(e.result), row["caller_name_key"]),
                )
            else:
                # Open there: in the dispatch centre's queue here, to be dispatched by today's 派单时限.
                row["dispatch_by"] = self.dispatch_by(e)

        def answered(row: Row, e: Any) -> None:
            row.update(status=ANSWERED, closed_at=stamp(e.timestamp), reply_result=scrub_contacts(e.answer))
            row["public_reply"] = self.caller_key.hide_name(scrub(e.answer), row["caller_name_key"])
            row["article_no"] = getattr(e, "article_no", None)
            touch(row, e)

        def emergency_flagged(row: Row, e: Any) -> None:
            row.update(emergency=1, handoff_by=stamp(e.handoff_by))
            touch(row, e)

        def handed_off(row: Row, e: Any) -> None:
            if e.outcome in HANDED_OVER and not row["handed_off_at"]:
                row["handed_off_at"] = stamp(e.handed_off_at)
            touch(row, e)

        def interim_requested(row: Row, e: Any) -> None:
            row.update(interim_by=stamp(e.interim_by), interim_given_at=None)
            touch(row, e)

        def interim_given(row: Row, e: Any) -> None:
            row["interim_given_at"] = row["interim_given_at"] or stamp(e.timestamp)
            touch(row, e)

        def dispatched(row: Row, e: Any) -> None:
            row.update(
                status=DISPATCHED,
                department=e.department,
                dispatched_at=stamp(e.timestamp),
                sign_by=stamp(e.sign_by),
                reply_by=stamp(e.reply_by),
                deadline_provisional=int(e.provisional),
                signed_at=None,
                return_requested_at=None,
                return_rejection=None,
                extension_pending=None,
                interim_by=None,  # the new department owes its own interim feedback, if any
                interim_given_at=None,
            )
            touch(row, e)

        def signed(row: Row, e: Any) -> None:
            row.update(status=SIGNED, signed_at=stamp(e.timestamp))
            touch(row, e)

        def returned(row: Row, e: Any) -> None:
            row.update(
                status=RETURNED,
                return_requested_at=None,
                extension_pending=None,
                dispatch_by=self.dispatch_by(e),
            )
            touch(row, e)

        def return_requested(row: Row, e: Any) -> None:
            row.update(
                return_requested_at=stamp(e.timestamp),
                return_rejection=None,
                return_reason=f"{e.reason}（依据：{e.basis}）",
            )
            touch(row, e)

        def return_rejected(row: Row, e: Any) -> None:
            row.update(return_requested_at=None, return_rejection=e.reason)
            touch(row, e)

        def extension_requested(row: Row, e: Any) -> None:
            row["extension_pending"] = e.working_days
            touch(row, e)

        def extension_rejected(row: Row, e: Any) -> None:
            row["extension_pending"] = None
            touch(row, e)

        def extension_approved(row: Row, e: Any) -> None:
            row["reply_by"] = stamp(e.reply_by)
            row["extension_pending"] = None
            row["deadline_provisional"] = int(bool(row["deadline_provisional"]) or e.provisional)
            touch(row, e)

        def urged(row: Row, e: Any) -> None:
            row["urge_count"] = (row["urge_count"] or 0) + 1
            touch(row, e)

        def replied(row: Row, e: Any) -> None:
            callback_by, provisional = self.callback_by(e)
            row.update(
                status=REPLIED,
                return_requested_at=None,
                extension_pending=None,
                reply_result=scrub_contacts(e.result),
                public_reply=self.caller_key.hide_name(scrub(e.result), row["caller_name_key"]),
                resolved=int(e.resolved),
                replied_at=stamp(e.timestamp),
                callback_by=callback_by,
                callback_provisional=provisional,
            )
            touch(row, e)

        def called_back(row: Row, e: Any) -> None:
            if not e.reached and not getattr(e, "unreachable", True):
                touch(row, e)  # an attempt that did not reach the caller: still to be called back
                return
            row.update(
                status=CALLED_BACK,
                satisfaction=e.satisfaction,
                resolved_per_caller=None if e.resolved is None else int(e.resolved),
            )
            touch(row, e)

        def closed(row: Row, e: Any) -> None:
            row.update(status=CLOSED, closed_at=stamp(e.timestamp))
            touch(row, e)

        def reopened(row: Row, e: Any) -> None:
            row.update(
                status=REOPENED,
                closed_at=None,
                satisfaction=None,
                resolved_per_caller=None,
                dispatch_by=self.dispatch_by(e),
            )
            touch(row, e)

        def merged(row: Row, e: Any) -> None:
            row.update(status=MERGED, closed_at=stamp(e.timestamp), merged_into=e.target_ticket_no)
            touch(row, e)

        def marked_confidential(row: Row, e: Any) -> None:
            row["confidential"] = 1
            touch(row, e)

        def personal_data_erased(row: Row, e: Any) -> None:
            # The caller's words and address, and the keys that find the caller: gone from the view too.
            row.update(dict.fromkeys(ERASED_COLUMNS, ERASED), caller_key=None, caller_name_key=None, erased=1)
            touch(row, e)

        handlers = {
            Case.MarkedConfidential: (marked_confidential, False),
            Case.ContactRevealed: (touch, False),
            Case.PersonalDataErased: (personal_data_erased, False),
            Case.Opened: (opened, True),
            Case.HeldForClassification: (held, False),
            Case.Classified: (classified, False),
            Case.Migrated: (migrated, True),
            Case.AnsweredDirectly: (answered, False),
            Case.Dispatched: (dispatched, False),
            Case.Redispatched: (dispatched, False),
            Case.Signed: (signed, False),
            Case.Returned: (returned, False),
            Case.ReturnRequested: (return_requested, False),
            Case.ReturnApproved: (returned, False),
            Case.ReturnRejected: (return_rejected, False),
            Case.ExtensionRequested: (extension_requested, False),
            Case.ExtensionApproved: (extension_approved, False),
            Case.ExtensionRejected: (extension_rejected, False),
            Case.Urged: (urged, False),
            Case.Replied: (replied, False),
            Case.CallbackRecorded: (called_back, False),
            Case.CalledBack: (called_back, False),
            Case.RehandlingWaived: (touch, False),
            Case.Closed: (closed, False),
            Case.Reopened: (reopened, False),
            Case.Rehandled: (reopened, False),
            Case.MergedInto: (merged, False),
            Case.Escalated: (touch, False),
            Case.CooperationAssigned: (touch, False),
            Case.PartSigned: (touch, False),
            Case.PartReported: (touch, False),
            Case.AnsweredFromArticle: (answered, False),
            Case.EmergencyFlagged: (emergency_flagged, False),
            Case.HandedOff: (handed_off, False),
            Case.InterimFeedbackRequested: (interim_requested, False),
            Case.InterimFeedbackGiven: (interim_given, False),
        }
        return {cls: (CASES, fn, creates) for cls, (fn, creates) in handlers.items()}

    # ---- queries ----------------------------------------------------------------------------

    def _table(self) -> str:
        return self.view.table(CASES.name)

    def get(self, ticket_no: str) -> CaseRow | None:
        rows = self.view.query(f"SELECT * FROM {self._table()} WHERE ticket_no = ?", (ticket_no,))
        return case_row(rows[0]) if rows else None

    def search(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        **filters: Any,
    ) -> tuple[list[CaseRow], int]:
        """Cases matching every filter given (``where``), newest first, and how many match in all."""
        clause, params = self.where(**filters)
        total = self.view.query(f"SELECT COUNT(*) AS n FROM {self._table()}{clause}", params)[0]["n"]
        rows = self.view.query(
            f"SELECT * FROM {self._table()}{clause} ORDER BY {NEWEST_FIRST} LIMIT ? OFFSET ?",
            [*params, _bounded(limit), max(0, int(offset))],
        )
        return [case_row(r) for r in rows], int(total)

    def stream(self, *, chunk: int = 1000, **filters: Any) -> Iterator[CaseRow]:
        """Every case matching the filters, in the order of ``search``, read ``chunk`` rows at a time
        (keyset paging on the ordering columns): an export of 200,000 cases never holds them all."""
        clause, params = self.where(**filters)
        joiner = " AND " if clause else " WHERE "
        after: tuple[str, str] | None = None
        while True:
            sql, args = f"SELECT * FROM {self._table()}{clause}", list(params)
            if after is not None:
                sql += f"{joiner}(opened_at < ? OR (opened_at = ? AND ticket_no < ?))"
                args.extend([after[0], after[0], after[1]])
            rows = self.view.query(f"{sql} ORDER BY {NEWEST_FIRST} LIMIT ?", [*args, max(1, int(chunk))])
            for row in rows:
                yield case_row(row)
            if len(rows) < chunk:
                return
            after = (rows[-1]["opened_at"], rows[-1]["ticket_no"])

    def where(
        self,
        *,
        text: str | None = None,
        ticket_no: str | None = None,
        phone: str | None = None,
        status: str | Sequence[str] | None = None,
        department: str | None = None,
        category: str | None = None,
        service_codes: Sequence[str] | None = None,
        district: str | None = None,
        urgent: bool = False,
        overdue_at: datetime | None = None,
        opened_from: date | datetime | None = None,
        opened_to: date | datetime | None = None,
        ticket_nos: Sequence[str] | None = None,
        updated_from: date | datetime | None = None,
        open_only: bool = False,
        categories: Sequence[str] | None = None,
        excluded_services: Sequence[str] | None = None,
        call_id_prefix: str | None = None,
        confidential: bool | None = None,
        erased: bool | None = None,
        finished_by: datetime | None = None,
    ) -> tuple[str, list[Any]]:
        """The WHERE clause of every case list (the search page, ``hotline cases``, the exports):
        every filter given must hold. ``overdue_at``: only cases past their current deadline then."""
        where: list[str] = []
        params: list[Any] = []

        def among(column: str, values: Sequence[Any]) -> None:
            values = list(values)
            if not values:
                where.append("1 = 0")
                return
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)

        if text and text.strip():
            like = f"%{escape_like(text.strip())}%"
            where.append(
                "(description LIKE ? ESCAPE '!' OR address LIKE ? ESCAPE '!' OR ticket_no LIKE ? ESCAPE '!'"
                " OR migrated_from LIKE ? ESCAPE '!')"
            )
            params.extend([like, like, like, like])
        if ticket_no:  # a migrated case is found by its old number too
            where.append("(ticket_no = ? OR migrated_from = ?)")
            params.extend([ticket_no.strip(), ticket_no.strip()])
        if phone is not None:
            where.append("caller_key = ?")
            params.append(self.caller_key(phone) or "")
        if status:
            among("status", [status] if isinstance(status, str) else status)
        for column, value in (("department", department), ("category", category), ("district", district)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if service_codes is not None:
            among("service_code", service_codes)
        if urgent:
            where.append("urgency = ?")
            params.append("urgent")
        if overdue_at is not None:
            # Past the deadline the department works against now (DEADLINE_OF_STATUS, domain/deadlines.is_overdue).
            moment = stamp(overdue_at)
            where.append(
                "(" + " OR ".join(f"(status = ? AND {column} < ?)" for column in DEADLINE_OF_STATUS.values()) + ")"
            )
            for status_name in DEADLINE_OF_STATUS:
                params.extend([status_name, moment])
        if ticket_nos is not None:
            among("ticket_no", ticket_nos)
        if opened_from is not None:
            where.append("opened_at >= ?")
            params.append(moment_text(opened_from))
        if opened_to is not None:
            # A date is inclusive (the whole day); a moment is the exclusive end.
            where.append("opened_at < ?")
            params.append(moment_text(opened_to, end=True))
        if updated_from is not None:
            where.append("updated_at >= ?")
            params.append(moment_text(updated_from))
        if open_only:
            among("status", [s for s in STATUS_NAMES if s not in FINISHED])
        if categories is not None:
            among("category", categories)
        if excluded_services:
            where.append(f"service_code NOT IN ({','.join('?' * len(excluded_services))})")
            params.extend(excluded_services)
        if confidential is not None:
            where.append("COALESCE(confidential, 0) = ?")
            params.append(int(confidential))
        if erased is not None:
            where.append("COALESCE(erased, 0) = ?")
            params.append(int(erased))
        if finished_by is not None:  # finished (办结, answered or merged) at or before this moment
            among("status", list(FINISHED))
            where.append("closed_at <= ?")
            params.append(stamp(finished_by))
        if call_id_prefix is not None:
            where.append("call_id LIKE ? ESCAPE '!'")
            params.append(f"{escape_like(call_id_prefix)}%")
        return (f" WHERE {' AND '.join(where)}" if where else ""), params

    def open_for(self, department: str, limit: int, offset: int) -> tuple[list[CaseRow], int]:
        """The department's open cases, by next deadline: overdue first, then the soonest."""
        # Cases waiting for the department: dispatched (to sign) or signed (to reply).
        clause = f" FROM {self._table()} WHERE department = ? AND status IN (?, ?)"
        params = [department, DISPATCHED, SIGNED]
        total = self.view.query(f"SELECT COUNT(*) AS n{clause}", params)[0]["n"]
        # The soonest of each status from its own index (department, status, deadline), merged: a busy
        # department has thousands of open cases, and sorting them all on every page view is slow.
        limit, offset = _bounded(limit), max(0, int(offset))
        table = self._table()
        rows = self.view.query(
            f"SELECT * FROM (SELECT *, sign_by AS due FROM {table} WHERE department = ? AND status = ? "
            f"ORDER BY sign_by, ticket_no LIMIT ?) AS to_sign UNION ALL "
            f"SELECT * FROM (SELECT *, reply_by AS due FROM {table} WHERE department = ? AND status = ? "
            f"ORDER BY reply_by, ticket_no LIMIT ?) AS to_reply ORDER BY due, ticket_no LIMIT ? OFFSET ?",
            [department, DISPATCHED, offset + limit, department, SIGNED, offset + limit, limit, offset],
        )
        return [case_row(r) for r in rows], int(total)

    def due_before(
        self, kinds: Sequence[tuple[str, str, str]], horizon: datetime, department: str | None, limit: int
    ) -> tuple[list[int], list[tuple[int, CaseRow]]]:
        """For each (kind, status, deadline column): how many cases in that status are due at or before
        ``horizon``; and the soonest ``limit`` of all kinds together, as (kind's number, row), in the
        deadline queue's order (due, kind, ticket). Two statements whatever the number of kinds: a page
        view pays a round trip per statement, and fetches only the rows a page can show."""
        if not kinds:
            return [], []
        counts, selects, count_params, row_params = [], [], [], []
        for number, (kind, status, column) in enumerate(kinds):
            if not kind.isidentifier():  # written into the statement: a code constant, never input
                raise ValueError(kind)
            clause, params = self._due_clause(status, column, horizon, department)
            counts.append(f"(SELECT COUNT(*){clause}) AS n{number}")
            count_params.extend(params)
            selects.append(
                f"SELECT * FROM (SELECT *, {number} AS kind_number, '{kind}' AS kind_code, {column} AS due{clause} "
                f"ORDER BY {column}, ticket_no LIMIT ?) AS kind{number}"
            )
            row_params.extend([*params, max(0, int(limit))])
        totals = self.view.query(f"SELECT {', '.join(counts)}", count_params)[0]
        rows = self.view.query(
            f"SELECT * FROM ({' UNION ALL '.join(selects)}) AS due_cases ORDER BY due, kind_code, ticket_no LIMIT ?",
            [*row_params, max(0, int(limit))],
        )
        return [int(totals[f"n{number}"]) for number in range(len(kinds))], [
            (int(row["kind_number"]), case_row(row)) for row in rows
        ]

    def _due_clause(self, status: str, column: str, horizon: datetime, department: str | None) -> tuple[str, list[Any]]:
        clause = f" FROM {self._table()} WHERE status = ? AND {column} <= ?"
        params: list[Any] = [status, stamp(horizon)]
        if department:
            clause += " AND department = ?"
            params.append(department)
        return clause, params

    def merged_into(self, ticket_no: str, limit: int = 200) -> tuple[list[CaseRow], int]:
        """The calls merged into ``ticket_no`` (并单), in the order they came in, and how many in all."""
        clause = f" FROM {self._table()} WHERE merged_into = ?"
        total = self.view.query(f"SELECT COUNT(*) AS n{clause}", [ticket_no])[0]["n"]
        rows = self.view.query(f"SELECT *{clause} ORDER BY opened_at, ticket_no LIMIT ?", [ticket_no, _bounded(limit)])
        return [case_row(r) for r in rows], int(total)

    def dispatch_queue(self, limit: int, offset: int = 0) -> tuple[list[CaseRow], int]:
        """Every case waiting for the dispatch centre (待派单, 已重启, 已退单): urgent first, then the
        longest waiting; the count is of the same rows."""
        marks = ",".join("?" * len(AWAITING_DISPATCH))
        clause = f" FROM {self._table()} WHERE status IN ({marks})"
        params = list(AWAITING_DISPATCH)
        total = self.view.query(f"SELECT COUNT(*) AS n{clause}", params)[0]["n"]
        rows = self.view.query(
            f"SELECT *{clause} ORDER BY CASE WHEN urgency = 'urgent' THEN 0 ELSE 1 END, opened_at, ticket_no "
            "LIMIT ? OFFSET ?",
            [*params, _bounded(limit), max(0, int(offset))],
        )
        return [case_row(r) for r in rows], int(total)

    def awaiting_review(self, limit: int) -> tuple[tuple[int, list[CaseRow]], tuple[int, list[CaseRow]]]:
        """Returns waiting for the dispatch centre's review (oldest first), and extensions waiting
        for approval: (count, rows) each."""
        found = []
        for clause, params, order in (
            (
                " WHERE return_requested_at IS NOT NULL AND status IN (?, ?)",
                [DISPATCHED, SIGNED],
                "return_requested_at",
            ),
            (" WHERE extension_pending IS NOT NULL AND status = ?", [SIGNED], "reply_by"),
        ):
            table = self._table()
            count = self.view.query(f"SELECT COUNT(*) AS n FROM {table}{clause}", params)[0]["n"]
            rows = self.view.query(
                f"SELECT * FROM {table}{clause} ORDER BY {order}, ticket_no LIMIT ?", [*params, _bounded(limit)]
            )
            found.append((int(count), [case_row(r) for r in rows]))
        return found[0], found[1]

    def calls_by_service(self, since: datetime) -> dict[str, int]:
        rows = self.view.query(
            f"SELECT service_code, COUNT(*) AS n FROM {self._table()} WHERE opened_at >= ? GROUP BY service_code",
            [stamp(since)],
        )
        return {row["service_code"]: int(row["n"]) for row in rows}

    def emergencies(self, department: str | None, limit: int) -> tuple[list[CaseRow], int]:
        """Open emergency cases (urgent, or on the emergency list), those still to hand off first."""
        # The condition written out as the partial indexes have it: only then do both stores use them.
        clause = f" FROM {self._table()} WHERE {EMERGENCY_OPEN}"
        params: list[Any] = []
        if department:
            clause += " AND department = ?"
            params.append(department)
        total = self.view.query(f"SELECT COUNT(*) AS n{clause}", params)[0]["n"]
        rows = self.view.query(
            f"SELECT *{clause} ORDER BY {HANDOFF_FIRST}, opened_at DESC LIMIT ?", [*params, _bounded(limit)]
        )
        return [case_row(r) for r in rows], int(total)

    def emergency_due(
        self, horizon: datetime, department: str | None, limit: int
    ) -> tuple[tuple[int, list[CaseRow]], tuple[int, list[CaseRow]]]:
        """Hand-offs not made and interim feedback not given, due by ``horizon``: (count, soonest) each."""
        marks = ",".join("?" * len(UNFINISHED))
        handoff = f" FROM {self._table()} WHERE handoff_by <= ? AND handed_off_at IS NULL AND status IN ({marks})"
        handoff_params: list[Any] = [stamp(horizon), *UNFINISHED]
        interim = f" FROM {self._table()} WHERE status IN (?, ?) AND interim_by <= ? AND interim_given_at IS NULL"
        interim_params: list[Any] = [DISPATCHED, SIGNED, stamp(horizon)]
        if department:
            handoff += " AND department = ?"
            interim += " AND department = ?"
            handoff_params.append(department)
            interim_params.append(department)
        found = []
        for clause, params, column in (
            (handoff, handoff_params, "handoff_by"),
            (interim, interim_params, "interim_by"),
        ):
            count = self.view.query(f"SELECT COUNT(*) AS n{clause}", params)[0]["n"]
            rows = self.view.query(f"SELECT *{clause} ORDER BY {column}, ticket_no LIMIT ?", [*params, max(0, limit)])
            found.append((int(count), [case_row(r) for r in rows]))
        return found[0], found[1]

    def by_caller(
        self,
        phone: str,
        *,
        service_code: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[CaseRow]:
        key = self.caller_key(phone)
        if not key:
            return []
        sql = f"SELECT * FROM {self._table()} WHERE caller_key = ?"
        params: list[Any] = [key]
        if service_code:
            sql += " AND service_code = ?"
            params.append(service_code)
        if since is not None:
            sql += " AND opened_at >= ?"
            params.append(stamp(since))
        if until is not None:
            sql += " AND opened_at <= ?"
            params.append(stamp(until))
        sql += " ORDER BY opened_at DESC, ticket_no DESC LIMIT ?"
        return [case_row(r) for r in self.view.query(sql, [*params, _bounded(limit)])]


def escape_like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _bounded(limit: int) -> int:
    return max(0, min(int(limit), 1000))


def as_moment(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return as_china_time(value) if value else None
    return datetime.combine(value, time(0), CHINA_TZ)
