"""The supervision ledger (督办台账, view ``supervision``): one row per supervision item with its
latest progress and feedback, and one row per meeting for the minutes-signing deadline.

Overdue flags depend on "now", so they are computed when the ledger is read, not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.deadlines import finished_late, is_overdue
from hotline.domain.meeting import HELD, MINUTES_SENT, Meeting
from hotline.domain.meeting import STATUS_NAMES as MEETING_STATUS_NAMES
from hotline.domain.supervision import (
    COMPLETION_REPORTED,
    IN_PROGRESS,
    OPEN_STATUSES,
    REOPENED,
    SOURCES,
    STATUS_NAMES,
    VERIFIED,
    SupervisionItem,
)
from hotline.projections.base import Row, RowView, Table, stamp, touch, unstamp
from hotline.projections.store import ViewRecorder

ITEMS = Table(
    "hv_items",
    (
        "id",
        "reference_no",
        "source",
        "leader",
        "meeting_ref",
        "ticket_no",
        "content",
        "lead_department",
        "cooperating_departments",
        "registered_at",
        "due_at",
        "progress_due",
        "feedback_due",
        "provisional",
        "status",
        "latest_progress",
        "latest_progress_at",
        "latest_feedback",
        "latest_feedback_month",
        "progress_count",
        "feedback_count",
        "urge_count",
        "completion_summary",
        "completed_at",
        "verified_at",
        "reopen_count",
        "version",
        "updated_at",
    ),
    "id TEXT PRIMARY KEY, reference_no TEXT NOT NULL UNIQUE, source TEXT NOT NULL, leader TEXT, meeting_ref TEXT, "
    "ticket_no TEXT, content TEXT, lead_department TEXT, cooperating_departments TEXT, registered_at TEXT, "
    "due_at TEXT, progress_due TEXT, feedback_due TEXT, provisional INTEGER, status TEXT, latest_progress TEXT, "
    "latest_progress_at TEXT, latest_feedback TEXT, latest_feedback_month TEXT, progress_count INTEGER, "
    "feedback_count INTEGER, urge_count INTEGER, completion_summary TEXT, completed_at TEXT, verified_at TEXT, "
    "reopen_count INTEGER, version INTEGER, updated_at TEXT",
    (
        "registered: registered_at",
        "status: status, due_at",
        "lead: lead_department, status",
        "progress: status, progress_due",
        "feedback: status, feedback_due",
        "meeting: meeting_ref",
    ),
)
MEETINGS = Table(
    "hv_meetings",
    (
        "id",
        "reference_no",
        "title",
        "chaired_by",
        "held_at",
        "touches_finance",
        "touches_personnel",
        "decision_count",
        "minutes_due",
        "provisional",
        "minutes_sent_at",
        "status",
        "version",
        "updated_at",
    ),
    "id TEXT PRIMARY KEY, reference_no TEXT NOT NULL UNIQUE, title TEXT, chaired_by TEXT, held_at TEXT, "
    "touches_finance INTEGER, touches_personnel INTEGER, decision_count INTEGER, minutes_due TEXT, "
    "provisional INTEGER, minutes_sent_at TEXT, status TEXT, version INTEGER, updated_at TEXT",
    ("minutes: status, minutes_due",),
)


@dataclass(frozen=True)
class LedgerRow:
    reference_no: str
    source: str
    source_name: str
    leader_or_meeting: str  # the leader who gave the instruction, or the meeting (title and chair)
    content: str
    lead_department: str
    cooperating_departments: tuple[str, ...]
    registered_at: datetime
    due_at: datetime
    latest_progress: str
    latest_progress_at: datetime | None
    latest_feedback: str
    latest_feedback_month: str | None
    status: str
    status_name: str
    overdue: bool  # past the due date without a completion reported in time
    progress_overdue: bool  # the weekly progress report is late
    feedback_overdue: bool  # the monthly feedback is late
    progress_due: datetime
    feedback_due: datetime
    provisional: bool
    urge_count: int
    completed_at: datetime | None
    verified_at: datetime | None
    ticket_no: str
    meeting_ref: str
    version: int

    @property
    def any_overdue(self) -> bool:
        return self.overdue or self.progress_overdue or self.feedback_overdue


@dataclass(frozen=True)
class MeetingRow:
    reference_no: str
    title: str
    chaired_by: str
    held_at: datetime
    touches_finance: bool
    touches_personnel: bool
    decision_count: int
    minutes_due: datetime | None
    minutes_sent_at: datetime | None
    status: str
    status_name: str
    provisional: bool


def ledger_row(row: Row, now: datetime) -> LedgerRow:
    due_at = unstamp(row["due_at"])
    completed_at = unstamp(row["completed_at"])
    progress_due = unstamp(row["progress_due"])
    feedback_due = unstamp(row["feedback_due"])
    is_open = row["status"] in OPEN_STATUSES
    finished_at = completed_at if not is_open else None
    if row["source"] == "meeting_decision" and row.get("meeting_title"):
        leader = f"{row['meeting_title']}（{row['meeting_chair']}）"
    elif row["source"] == "escalated_case":
        leader = f"超期工单 {row['ticket_no']}"
    else:
        leader = row["leader"] or ""
    return LedgerRow(
        reference_no=row["reference_no"],
        source=row["source"],
        source_name=SOURCES.get(row["source"], row["source"]),
        leader_or_meeting=leader,
        content=row["content"] or "",
        lead_department=row["lead_department"] or "",
        cooperating_departments=tuple(c for c in (row["cooperating_departments"] or "").split(",") if c),
        registered_at=unstamp(row["registered_at"]),  # type: ignore[arg-type]
        due_at=due_at,  # type: ignore[arg-type]
        latest_progress=row["latest_progress"] or "",
        latest_progress_at=unstamp(row["latest_progress_at"]),
        latest_feedback=row["latest_feedback"] or "",
        latest_feedback_month=row["latest_feedback_month"],
        status=row["status"],
        status_name=STATUS_NAMES.get(row["status"], row["status"]),
        overdue=finished_late(due_at, finished_at, now),
        progress_overdue=is_open and is_overdue(progress_due, now),
        feedback_overdue=is_open and is_overdue(feedback_due, now),
        progress_due=progress_due,  # type: ignore[arg-type]
        feedback_due=feedback_due,  # type: ignore[arg-type]
        provisional=bool(row["provisional"]),
        urge_count=row["urge_count"] or 0,
        completed_at=completed_at,
        verified_at=unstamp(row["verified_at"]),
        ticket_no=row["ticket_no"] or "",
        meeting_ref=row["meeting_ref"] or "",
        version=row["version"],
    )


def meeting_row(row: Row) -> MeetingRow:
    needs = row["minutes_due"] is not None
    return MeetingRow(
        reference_no=row["reference_no"],
        title=row["title"],
        chaired_by=row["chaired_by"],
        held_at=unstamp(row["held_at"]),  # type: ignore[arg-type]
        touches_finance=bool(row["touches_finance"]),
        touches_personnel=bool(row["touches_personnel"]),
        decision_count=row["decision_count"],
        minutes_due=unstamp(row["minutes_due"]),
        minutes_sent_at=unstamp(row["minutes_sent_at"]),
        status=row["status"],
        status_name=MEETING_STATUS_NAMES[row["status"]] if needs else "无需送签",
        provisional=bool(row["provisional"]),
    )


class SupervisionLedger(RowView):
    name = "supervision"
    tables = (ITEMS, MEETINGS)

    def __init__(self, view: ViewRecorder):
        self.handlers = self._handlers()
        super().__init__(view)

    def _handlers(self) -> dict:
        def registered(row: Row, e: Any) -> None:
            row.update(
                reference_no=e.reference_no,
                source=e.source,
                leader=e.leader,
                meeting_ref=e.meeting_ref,
                ticket_no=e.ticket_no,
                content=e.content,
                lead_department=e.lead_department,
                cooperating_departments=",".join(e.cooperating_departments),
                registered_at=stamp(e.timestamp),
                due_at=stamp(e.due_at),
                progress_due=stamp(e.progress_due),
                feedback_due=stamp(e.feedback_due),
                provisional=int(e.provisional),
                status=IN_PROGRESS,
                latest_progress="",
                latest_feedback="",
                progress_count=0,
                feedback_count=0,
                urge_count=0,
                reopen_count=0,
            )
            touch(row, e)

        def progress(row: Row, e: Any) -> None:
            row.update(
                latest_progress=e.content,
                latest_progress_at=stamp(e.timestamp),
                progress_due=stamp(e.next_progress_due),
                progress_count=row["progress_count"] + 1,
            )
            touch(row, e)

        def feedback(row: Row, e: Any) -> None:
            row.update(
                latest_feedback=e.content,
                latest_feedback_month=e.month,
                feedback_due=stamp(e.next_feedback_due),
                feedback_count=row["feedback_count"] + 1,
            )
            touch(row, e)

        def urged(row: Row, e: Any) -> None:
            row["urge_count"] += 1
            touch(row, e)

        def due_changed(row: Row, e: Any) -> None:
            row.update(due_at=stamp(e.due_at), provisional=int(e.provisional))
            touch(row, e)

        def completed(row: Row, e: Any) -> None:
            row.update(status=COMPLETION_REPORTED, completion_summary=e.summary, completed_at=stamp(e.timestamp))
            touch(row, e)

        def verified(row: Row, e: Any) -> None:
            row.update(status=VERIFIED, verified_at=stamp(e.timestamp))
            touch(row, e)

        def reopened(row: Row, e: Any) -> None:
            row.update(
                status=REOPENED,
                verified_at=None,
                completed_at=None,
                progress_due=stamp(e.progress_due),
                reopen_count=row["reopen_count"] + 1,
            )
            touch(row, e)

        def held(row: Row, e: Any) -> None:
            row.update(
                reference_no=e.reference_no,
                title=e.title,
                chaired_by=e.chaired_by,
                held_at=stamp(e.held_at),
                touches_finance=int(e.touches_finance),
                touches_personnel=int(e.touches_personnel),
                decision_count=len(e.decision_refs),
                minutes_due=stamp(e.minutes_due),
                provisional=int(e.provisional),
                status=HELD,
            )
            touch(row, e)

        def minutes_sent(row: Row, e: Any) -> None:
            row.update(status=MINUTES_SENT, minutes_sent_at=stamp(e.timestamp))
            touch(row, e)

        item = SupervisionItem
        return {
            item.Registered: (ITEMS, registered, True),
            item.ProgressReported: (ITEMS, progress, False),
            item.FeedbackSubmitted: (ITEMS, feedback, False),
            item.Urged: (ITEMS, urged, False),
            item.DueDateChanged: (ITEMS, due_changed, False),
            item.CompletionReported: (ITEMS, completed, False),
            item.Verified: (ITEMS, verified, False),
            item.Reopened: (ITEMS, reopened, False),
            Meeting.Held: (MEETINGS, held, True),
            Meeting.MinutesSentForSigning: (MEETINGS, minutes_sent, False),
        }

    # ---- queries ----------------------------------------------------------------------------

    def _select(self) -> str:
        items, meetings = self.view.table(ITEMS.name), self.view.table(MEETINGS.name)
        return (
            f"SELECT i.*, m.title AS meeting_title, m.chaired_by AS meeting_chair FROM {items} i "
            f"LEFT JOIN {meetings} m ON m.reference_no = i.meeting_ref"
        )

    def rows(
        self,
        now: datetime,
        *,
        month_start: str | None = None,
        month_end: str | None = None,
        source: str | None = None,
        status: str | list[str] | None = None,
        department: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[LedgerRow], int]:
        where: list[str] = []
        params: list[Any] = []
        if month_start and month_end:
            # The month's ledger: items registered by its end and not closed before it began.
            where.append("i.registered_at < ? AND (i.verified_at IS NULL OR i.verified_at >= ?)")
            params.extend([month_end, month_start])
        if source:
            where.append("i.source = ?")
            params.append(source)
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"i.status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if department:
            where.append("(i.lead_department = ? OR i.cooperating_departments LIKE ?)")
            params.extend([department, f"%{department}%"])
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = self.view.query(f"SELECT COUNT(*) AS n FROM {self.view.table(ITEMS.name)} i{clause}", params)[0]["n"]
        found = self.view.query(
            f"{self._select()}{clause} ORDER BY i.source, i.registered_at, i.reference_no LIMIT ? OFFSET ?",
            [*params, max(0, min(int(limit), 10000)), max(0, int(offset))],
        )
        rows = [ledger_row(r, now) for r in found]
        if department:  # LIKE on the joined codes may over-match a code that contains another
            rows = [r for r in rows if r.lead_department == department or department in r.cooperating_departments]
        return rows, int(total)

    def get(self, reference_no: str, now: datetime) -> LedgerRow | None:
        found = self.view.query(f"{self._select()} WHERE i.reference_no = ?", (reference_no,))
        return ledger_row(found[0], now) if found else None

    def open_items_due(
        self, columns: Sequence[str], horizon: datetime, department: str | None, now: datetime, limit: int
    ) -> list[tuple[int, list[LedgerRow]]]:
        """For each deadline column: how many open items are due at or before ``horizon``, and the
        soonest ``limit`` of them (two statements in all)."""
        if not columns:
            return []
        items, meetings = self.view.table(ITEMS.name), self.view.table(MEETINGS.name)
        limit = max(0, int(limit))
        counts, selects, count_params, row_params = [], [], [], []
        for number, column in enumerate(columns):
            where, params = self._due_clause(column, horizon, department)
            counts.append(f"(SELECT COUNT(*) FROM {items} i{where}) AS n{number}")
            count_params.extend(params)
            # One status at a time, so that each reads its (status, deadline) index in order.
            for status in OPEN_STATUSES:
                where, params = self._due_clause(column, horizon, department, status)
                selects.append(
                    f"SELECT * FROM (SELECT i.*, m.title AS meeting_title, m.chaired_by AS meeting_chair, "
                    f"{number} AS kind_number FROM {items} i LEFT JOIN {meetings} m ON m.reference_no = i.meeting_ref"
                    f"{where} ORDER BY i.{column}, i.reference_no LIMIT ?) AS kind{number}_{len(selects)}"
                )
                row_params.extend([*params, limit])
        totals = self.view.query(f"SELECT {', '.join(counts)}", count_params)[0]
        found: list[list[dict[str, Any]]] = [[] for _ in columns]
        for row in self.view.query(" UNION ALL ".join(selects), row_params):
            found[int(row["kind_number"])].append(row)
        soonest = [
            sorted(rows, key=lambda r, c=column: (r[c], r["reference_no"]))[:limit]
            for rows, column in zip(found, columns, strict=True)
        ]
        return [
            (int(totals[f"n{number}"]), [ledger_row(row, now) for row in soonest[number]])
            for number in range(len(columns))
        ]

    @staticmethod
    def _due_clause(
        column: str, horizon: datetime, department: str | None, status: str | None = None
    ) -> tuple[str, list[Any]]:
        if status:
            where = f" WHERE i.status = ? AND i.{column} <= ?"
            params: list[Any] = [status, stamp(horizon)]
        else:
            where = f" WHERE i.status IN (?, ?) AND i.{column} <= ?"
            params = [IN_PROGRESS, REOPENED, stamp(horizon)]
        if department:
            where += " AND i.lead_department = ?"
            params.append(department)
        return where, params

    def meetings_due(self, horizon: datetime) -> list[MeetingRow]:
        sql = f"SELECT * FROM {self.view.table(MEETINGS.name)} WHERE status = ? AND minutes_due <= ?"
        return [meeting_row(r) for r in self.view.query(sql, (HELD, stamp(horizon)))]

    def meetings(self) -> list[MeetingRow]:
        sql = f"SELECT * FROM {self.view.table(MEETINGS.name)} ORDER BY held_at DESC, reference_no"
        return [meeting_row(r) for r in self.view.query(sql)]
