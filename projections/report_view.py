"""The facts the reports count (view ``reports``): one row per case event that a report counts,
written from the events themselves, beside (not from) the case index.

- ``opened``: one row per case (key ``<case id>:opened``) with the call's dimensions (channel,
  category, service, district, urgency, the caller's keyed hash), the department now handling
  it (kept up to date by the dispatches) and the description's distinct words (the knowledge
  base's segmenter, cut once here so that the hotspot analysis never cuts a month of text again);
- ``answered`` (answered on the call, directly or citing an article), ``dispatched`` (first
  dispatch or re-dispatch), ``returned`` (退单 asked), ``closed``, ``reopened``, ``merged``: one row per event
  (key ``<case id>:<version>``) with its time and the department concerned.

A report for a period counts rows by kind and time with plain GROUP BY queries on the
(kind, at) index, so a month of 200,000 cases is a handful of indexed scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking

from hotline.domain.case import Case
from hotline.projections.base import RowView, Table, stamp
from hotline.projections.caller_key import CallerKey
from hotline.projections.store import ViewRecorder
from hotline.projections.text_search import Segmenter

OPENED, ANSWERED, DISPATCHED, RETURNED, CLOSED, REOPENED, MERGED = (
    "opened",
    "answered",
    "dispatched",
    "returned",
    "closed",
    "reopened",
    "merged",
)
FACTS = Table(
    "hv_report_facts",
    (
        "id",
        "case_id",
        "kind",
        "at",
        "channel",
        "category",
        "service_code",
        "district",
        "urgency",
        "caller_key",
        "department",
        "words",
    ),
    "id TEXT PRIMARY KEY, case_id TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL, channel TEXT, "
    "category TEXT, service_code TEXT, district TEXT, urgency TEXT, caller_key TEXT, department TEXT, words TEXT",
    (
        "kind_at: kind, at",
        "case_kind: case_id, kind",
        # Covering the report's one grouped scan of a period's opened cases, and each caller's cases.
        "opened_dims: kind, at, channel, category, service_code, district, department, caller_key",
        "caller: caller_key, kind, at",
    ),
)
# How many cases opened on each day (Beijing time) use each word: what the rising-topic rule counts,
# kept as the cases arrive so that a month's topics never read a month of text.
WORDS = Table(
    "hv_report_words",
    ("id", "day", "word", "n"),
    "id TEXT PRIMARY KEY, day TEXT NOT NULL, word TEXT NOT NULL, n INTEGER NOT NULL",
    ("day_word: day, word",),
)
KIND_OF_EVENT: dict[type, str] = {
    Case.AnsweredDirectly: ANSWERED,
    Case.AnsweredFromArticle: ANSWERED,
    Case.Dispatched: DISPATCHED,
    Case.Redispatched: DISPATCHED,
    Case.Returned: RETURNED,  # stores written before returns were reviewed
    Case.ReturnRequested: RETURNED,  # 退单 asked (the dispatch centre reviews it)
    Case.Closed: CLOSED,
    Case.Reopened: REOPENED,
    Case.MergedInto: MERGED,
}


class ReportFacts(RowView):
    name = "reports"
    tables = (FACTS, WORDS)

    def __init__(self, view: ViewRecorder, caller_key: CallerKey, segmenter: Segmenter):
        self.caller_key = caller_key
        self.segmenter = segmenter  # the description's distinct words, cut once here for the hotspots
        # Only the classes matter here (the topics this view reads); rows are written below.
        self.handlers = dict.fromkeys((Case.Opened, *KIND_OF_EVENT), (FACTS, _unused, False))
        super().__init__(view)

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        view = self.view
        rows: dict[str, tuple] = {}
        departments: list[tuple[str, str]] = []  # (case id, department) of the dispatches, in order
        used: dict[tuple[str, str], int] = {}  # (day, word): cases of the batch
        for event in events:
            case_id = str(event.originator_id)
            if isinstance(event, Case.Opened):
                rows[f"{case_id}:opened"] = (
                    f"{case_id}:opened",
                    case_id,
                    OPENED,
                    stamp(event.timestamp),
                    event.channel,
                    event.category,
                    event.service_code,
                    event.district,
                    event.urgency,
                    self.caller_key(event.caller_phone),
                    None,
                    " ".join(words := self.segmenter.distinct(event.description or "")),
                )
                day = (stamp(event.timestamp) or "")[:10]
                for word in words:
                    used[(day, word)] = used.get((day, word), 0) + 1
                continue
            kind = KIND_OF_EVENT.get(type(event))
            if kind is None:
                continue
            department = getattr(event, "department", None)
            key = f"{case_id}:{event.originator_version}"
            rows[key] = (
                key,
                case_id,
                kind,
                stamp(event.timestamp),
                None,
                None,
                None,
                None,
                None,
                None,
                department,
                None,
            )
            if kind == DISPATCHED:
                opened = rows.get(f"{case_id}:opened")
                if opened is not None:  # opened in this same batch: set it before it is written
                    rows[f"{case_id}:opened"] = (*opened[:-2], department, opened[-1])
                else:
                    departments.append((case_id, department))
        with view.writing(tracking) as cursor:
            if rows:
                view.upsert(cursor, FACTS.name, FACTS.columns, list(rows.values()))
            add_words(view, cursor, used)
            for case_id, department in departments:
                view.execute(
                    cursor,
                    f"UPDATE {view.table(FACTS.name)} SET department = ? WHERE id = ?",
                    (department, f"{case_id}:opened"),
                )


def _unused(row: Any, event: Any) -> None:  # pragma: no cover - process_batch writes the rows
    raise AssertionError("ReportFacts writes its rows in process_batch")


def add_words(view: ViewRecorder, cursor: Any, used: dict[tuple[str, str], int]) -> None:
    """Add the batch's (day, word) counts to the words table."""
    view.executemany(
        cursor,
        f"INSERT INTO {view.table(WORDS.name)} AS w (id, day, word, n) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET n = w.n + excluded.n",
        [(f"{day}|{word}", day, word, n) for (day, word), n in used.items()],
    )
