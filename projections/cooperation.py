"""主办 / 协办 (view ``cooperation``): one row per cooperating department's part of a case.

The dispatch centre names cooperating departments (``Case.CooperationAssigned``); each signs its
part (``PartSigned``) and reports it (``PartReported``) to the lead, who replies for all. A new
dispatch (派单 or 改派) names its own cooperating departments, if any: it clears the parts, as the
case does (``Case._assign``). The cooperating department's inbox lists its parts (协办工单), the
lead's inbox says how many are still to report, and the monthly figures count the parts reported by
the case's reply deadline (协办按时报送率, docs/metrics.md).

The rows hold no words of the caller: what a part's inbox row shows of the case (its matter, as the
lead sees it) is read from the case index (``hv_cases``) when the page is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Tracking

from hotline.domain.case import IN_HANDS, Case
from hotline.domain.deadlines import is_overdue
from hotline.projections.base import IN_CHUNK, Row, RowView, Table, stamp, unstamp
from hotline.projections.cases import CASES
from hotline.projections.metrics import FACTS
from hotline.projections.store import ViewRecorder

PARTS = Table(
    "hv_case_parts",
    ("id", "case_id", "department", "assigned_at", "signed_at", "reported_at"),
    "id TEXT PRIMARY KEY, case_id TEXT NOT NULL, department TEXT NOT NULL, assigned_at TEXT, signed_at TEXT, "
    "reported_at TEXT",
    ("by_case: case_id", "by_department: department, reported_at"),
)

TO_SIGN, IN_PROGRESS, REPORTED = "to_sign", "in_progress", "reported"
PART_STATES = {TO_SIGN: "待签收协办", IN_PROGRESS: "办理中", REPORTED: "已报送"}
CLEARING = (Case.Dispatched, Case.Redispatched)  # a new dispatch names its own 协办单位


def part_id(case_id: str, department: str) -> str:
    return f"{case_id}:{department}"


def part_state(signed_at: Any, reported_at: Any) -> str:
    if reported_at:
        return REPORTED
    return IN_PROGRESS if signed_at else TO_SIGN


@dataclass(frozen=True)
class PartRow:
    """A cooperating department's part, with what its inbox shows of the case."""

    ticket_no: str
    department: str  # the cooperating department (协办单位)
    lead_department: str | None  # 主办单位
    state: str  # to_sign / in_progress / reported
    assigned_at: datetime | None
    signed_at: datetime | None
    reported_at: datetime | None
    case_status: str
    service_code: str
    category: str
    urgency: str
    description: str  # as the lead's inbox shows it (contacts scrubbed, projections/cases.py)
    reply_by: datetime | None  # the case's reply deadline (with approved extensions)
    overdue: bool  # not reported and the case's reply deadline has passed
    version: int  # the case's version, for the 协办签收 button

    @property
    def state_name(self) -> str:
        return PART_STATES[self.state]


@dataclass(frozen=True)
class PartsSummary:
    """The lead's view of a case's parts: how many cooperating departments, how many still to report."""

    cooperating: int
    outstanding: int


class CooperationView(RowView):
    """Rows keyed by (case, department), not by the aggregate alone: ``process_batch`` is its own."""

    name = "cooperation"
    tables = (PARTS,)
    handled = (*CLEARING, Case.CooperationAssigned, Case.PartSigned, Case.PartReported)

    def __init__(self, view: ViewRecorder):
        super().__init__(view)
        self.topics = tuple(cls.TOPIC for cls in self.handled)

    # ---- applying events ------------------------------------------------------------------

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        mine = [event for event in events if type(event) in self.handled]
        view = self.view
        with view.writing(tracking) as cursor:
            if not mine:
                return
            case_ids = sorted({str(event.originator_id) for event in mine})
            loaded = self._parts_of(cursor, case_ids)
            parts: dict[str, dict[str, Row]] = {}  # case id -> department -> row, as the batch leaves it
            for row in loaded.values():
                parts.setdefault(row["case_id"], {})[row["department"]] = dict(row)
            for event in mine:
                case = str(event.originator_id)
                if type(event) in CLEARING:
                    parts.pop(case, None)
                elif type(event) is Case.CooperationAssigned:
                    for department in event.departments:
                        parts.setdefault(case, {})[department] = {
                            "id": part_id(case, department),
                            "case_id": case,
                            "department": department,
                            "assigned_at": stamp(event.timestamp),
                            "signed_at": None,
                            "reported_at": None,
                        }
                elif (row := parts.get(case, {}).get(event.department)) is not None:
                    column = "signed_at" if type(event) is Case.PartSigned else "reported_at"
                    row[column] = stamp(event.timestamp)
            kept = {row["id"]: row for departments in parts.values() for row in departments.values()}
            gone = [key for key in loaded if key not in kept]
            for start in range(0, len(gone), IN_CHUNK):
                chunk = gone[start : start + IN_CHUNK]
                view.execute(cursor, f"DELETE FROM {self._table()} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            changed = [row for key, row in kept.items() if loaded.get(key) != row]
            self._upsert(cursor, PARTS, changed)

    def _parts_of(self, cursor: Any, case_ids: list[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        for start in range(0, len(case_ids), IN_CHUNK):
            chunk = case_ids[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.view.select(cursor, f"SELECT * FROM {self._table()} WHERE case_id IN ({marks})", chunk):
                found[row["id"]] = dict(row)
        return found

    # ---- queries ----------------------------------------------------------------------------

    def _table(self) -> str:
        return self.view.table(PARTS.name)

    def for_department(self, department: str, now: datetime, limit: int = 50) -> tuple[list[PartRow], int]:
        """The parts a department cooperates on in cases still in hand (签收 or 办理 by the lead): those
        still to report first, the soonest reply deadline first; and how many in all."""
        cases = self.view.table(CASES.name)
        clause = (
            f" FROM {self._table()} p JOIN {cases} c ON c.id = p.case_id WHERE p.department = ? AND c.status IN (?, ?)"
        )
        params: list[Any] = [department, *IN_HANDS]
        total = self.view.query(f"SELECT COUNT(*) AS n{clause}", params)[0]["n"]
        rows = self.view.query(
            "SELECT p.department, p.assigned_at, p.signed_at, p.reported_at, c.ticket_no, c.department AS lead, "
            "c.status, c.service_code, c.category, c.urgency, c.description, c.reply_by, c.version"
            f"{clause} ORDER BY CASE WHEN p.reported_at IS NULL THEN 0 ELSE 1 END, c.reply_by, c.ticket_no LIMIT ?",
            [*params, max(0, min(int(limit), 1000))],
        )
        return [self._part_row(row, now) for row in rows], int(total)

    @staticmethod
    def _part_row(row: Row, now: datetime) -> PartRow:
        reply_by = unstamp(row["reply_by"])
        return PartRow(
            ticket_no=row["ticket_no"],
            department=row["department"],
            lead_department=row["lead"],
            state=part_state(row["signed_at"], row["reported_at"]),
            assigned_at=unstamp(row["assigned_at"]),
            signed_at=unstamp(row["signed_at"]),
            reported_at=unstamp(row["reported_at"]),
            case_status=row["status"],
            service_code=row["service_code"],
            category=row["category"],
            urgency=row["urgency"],
            description=row["description"] or "",
            reply_by=reply_by,
            overdue=not row["reported_at"] and is_overdue(reply_by, now),
            version=int(row["version"] or 0),
        )

    def summaries(self, ticket_nos: Sequence[str]) -> dict[str, PartsSummary]:
        """For the lead's inbox: per case with cooperating departments, how many and how many still to report."""
        if not ticket_nos:
            return {}
        cases = self.view.table(CASES.name)
        marks = ",".join("?" * len(ticket_nos))
        rows = self.view.query(
            "SELECT c.ticket_no, COUNT(*) AS n, SUM(CASE WHEN p.reported_at IS NULL THEN 1 ELSE 0 END) AS outstanding "
            f"FROM {self._table()} p JOIN {cases} c ON c.id = p.case_id WHERE c.ticket_no IN ({marks}) "
            "GROUP BY c.ticket_no",
            list(ticket_nos),
        )
        return {row["ticket_no"]: PartsSummary(int(row["n"]), int(row["outstanding"] or 0)) for row in rows}

    def month(self, month_start: str, month_end: str, now: datetime) -> dict[str, dict[str, int]]:
        """协办 counts per cooperating department, for the cases dispatched in the month (the month
        every other figure of the case counts in, ``hv_case_facts``): parts due (reported, or the case's
        reply deadline has passed) and parts reported by the case's reply deadline."""
        facts = self.view.table(FACTS.name)
        rows = self.view.query(
            "SELECT p.department, "
            "SUM(CASE WHEN p.reported_at IS NOT NULL OR f.reply_by <= ? THEN 1 ELSE 0 END) AS parts_due, "
            "SUM(CASE WHEN p.reported_at IS NOT NULL AND p.reported_at <= f.reply_by THEN 1 ELSE 0 END) "
            "AS parts_on_time "
            f"FROM {self._table()} p JOIN {facts} f ON f.id = p.case_id "
            "WHERE f.dispatched_at >= ? AND f.dispatched_at < ? GROUP BY p.department",
            [stamp(now), month_start, month_end],
        )
        return {
            row["department"]: {
                "parts_due": int(row["parts_due"] or 0),
                "parts_on_time": int(row["parts_on_time"] or 0),
            }
            for row in rows
        }
