"""The facts the reports count (view ``reports``): one row per case event that a report counts,
written from the events themselves, beside (not from) the case index.

- ``opened``: one row per case (key ``<case id>:opened``) with the call's dimensions (channel,
  category, service, district, urgency, the caller's keyed hash), the department now handling
  it (kept up to date by the dispatches) and the description's distinct words (the knowledge
  base's segmenter, cut once here so that the hotspot analysis never cuts a month of text again);
  an erasure (``Case.PersonalDataErased``) clears its caller key and words, and its words no
  longer count in the day's ``hv_report_words`` (the daily totals do not change: no dimension of
  them is personal);
- ``answered`` (answered on the call, directly or citing an article), ``dispatched`` (first
  dispatch or re-dispatch), ``returned`` (a 退单 that took effect: ``RETURNS_TAKING_EFFECT`` of
  domain/case.py, the one rule every figure counts by; a request still under review is not one),
  ``closed``, ``reopened``, ``merged``: one row per event (key ``<case id>:<version>``) with its time
  and the department concerned.

Beside the facts, the daily totals (``hv_report_days``): for each day (Beijing time) and kind, the
count of facts, and for each dimension the count per value (an opened case by channel, category,
service, district and the department now handling it; every other kind by its department). They
are kept in the same transaction as the facts, from the same rows (``tally``), and a dispatch moves
an opened case's count from its old department to its new one. A report over whole days sums at
most a few hundred small rows per day instead of scanning every fact of the period
(projections/reports.py ``DailyCounts``; ``FactCounts`` is the full scan the tests and the benchmark
compare it with). Beside them, the cases per caller and calendar month (``hv_report_callers``), from
which a month's repeat callers are read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking

from hotline.domain.case import RETURNS_TAKING_EFFECT, Case
from hotline.domain.privacy import ERASED
from hotline.projections.base import IN_CHUNK, RowView, Table, stamp
from hotline.projections.caller_key import CallerKey
from hotline.projections.store import ViewRecorder
from hotline.projections.text_search import Segmenter

OPENED, ANSWERED, DISPATCHED, RETURNED, CLOSED, REOPENED, REHANDLED, MERGED = (
    "opened",
    "answered",
    "dispatched",
    "returned",
    "closed",
    "reopened",
    "rehandled",
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
# The daily totals: per day, kind, dimension ("" for the kind's total) and value ("" for none).
DAYS = Table(
    "hv_report_days",
    ("id", "day", "kind", "dimension", "value", "n"),
    "id TEXT PRIMARY KEY, day TEXT NOT NULL, kind TEXT NOT NULL, dimension TEXT NOT NULL, value TEXT NOT NULL, "
    "n INTEGER NOT NULL",
    ("day_kind: day, kind, dimension, value, n",),  # covering: a month's sums never visit the rows
)
# Cases per caller (the keyed phone hash) and calendar month: a month's repeat callers are its rows
# with n ≥ 2, read from the (month, n) index without grouping a month of cases.
CALLERS = Table(
    "hv_report_callers",
    ("id", "month", "caller_key", "n"),
    "id TEXT PRIMARY KEY, month TEXT NOT NULL, caller_key TEXT NOT NULL, n INTEGER NOT NULL",
    ("month_n: month, n, caller_key",),
)
TOTAL = ""  # the dimension of a kind's total
# What each fact row is counted by, by column (FACTS): an opened case by all its dimensions,
# every other fact by its department.
OPENED_DIMENSIONS = ("channel", "category", "service_code", "district", "department")
OTHER_DIMENSIONS = ("department",)
KIND_OF_EVENT: dict[type, str] = {
    Case.AnsweredDirectly: ANSWERED,
    Case.AnsweredFromArticle: ANSWERED,
    Case.Dispatched: DISPATCHED,
    Case.Redispatched: DISPATCHED,
    **dict.fromkeys(RETURNS_TAKING_EFFECT, RETURNED),
    Case.Closed: CLOSED,
    Case.Reopened: REOPENED,
    Case.Rehandled: REHANDLED,  # 重办, by the department whose handling the caller rejected
    Case.MergedInto: MERGED,
}
_COLUMN = {column: number for number, column in enumerate(FACTS.columns)}


def day_of(at: str | None) -> str:
    """The day (Beijing time) of a stored moment: what the daily totals are kept by."""
    return (at or "")[:10]


def tally(rows: Iterable[Sequence[Any]]) -> Counter[tuple[str, str, str, str]]:
    """What fact rows (tuples in FACTS' column order) add to the daily totals:
    {(day, kind, dimension, value): n}."""
    found: Counter[tuple[str, str, str, str]] = Counter()
    kind_at, at_at = _COLUMN["kind"], _COLUMN["at"]
    for row in rows:
        kind, day = row[kind_at], day_of(row[at_at])
        found[(day, kind, TOTAL, "")] += 1
        for dimension in OPENED_DIMENSIONS if kind == OPENED else OTHER_DIMENSIONS:
            found[(day, kind, dimension, row[_COLUMN[dimension]] or "")] += 1
    return found


def callers_tally(rows: Iterable[Sequence[Any]]) -> Counter[tuple[str, str]]:
    """What fact rows add to the cases per caller and month: {(month, caller key): n}."""
    kind_at, at_at, caller_at = _COLUMN["kind"], _COLUMN["at"], _COLUMN["caller_key"]
    return Counter(
        ((row[at_at] or "")[:7], row[caller_at]) for row in rows if row[kind_at] == OPENED and row[caller_at]
    )


def add_callers(view: ViewRecorder, cursor: Any, counts: Counter[tuple[str, str]]) -> None:
    view.add_counts(
        cursor,
        CALLERS.name,
        CALLERS.columns,
        [(f"{month}|{caller}", month, caller, n) for (month, caller), n in sorted(counts.items())],
    )


def add_days(view: ViewRecorder, cursor: Any, counts: Counter[tuple[str, str, str, str]]) -> None:
    """Add counts (negative ones move a case between departments) to the daily totals."""
    view.add_counts(
        cursor, DAYS.name, DAYS.columns, [("|".join(key), *key, n) for key, n in sorted(counts.items()) if n]
    )
    # A count moved away to nothing leaves no row: the totals are the same however the events were
    # batched (a rebuild reproduces them exactly).
    emptied = sorted("|".join(key) for key, n in counts.items() if n < 0)
    for start in range(0, len(emptied), IN_CHUNK):
        chunk = emptied[start : start + IN_CHUNK]
        view.execute(
            cursor, f"DELETE FROM {view.table(DAYS.name)} WHERE n = 0 AND id IN ({','.join('?' * len(chunk))})", chunk
        )


class ReportFacts(RowView):
    name = "reports"
    tables = (FACTS, WORDS, DAYS, CALLERS)

    def __init__(self, view: ViewRecorder, caller_key: CallerKey, segmenter: Segmenter):
        self.caller_key = caller_key
        self.segmenter = segmenter  # the description's distinct words, cut once here for the hotspots
        # Only the classes matter here (the topics this view reads); rows are written below.
        self.handlers = dict.fromkeys(
            (Case.Opened, Case.Classified, Case.PersonalDataErased, *KIND_OF_EVENT), (FACTS, _unused, False)
        )
        super().__init__(view)

    def create_tables(self, indexes: bool = True) -> None:
        """A store whose view was built before the daily totals (and before a 退单 counted only once
        it took effect) has no totals to sum: the view is built again from the first event on the
        next catch-up, as ``projections rebuild reports`` would."""
        with self.view.writing(None) as cursor:
            missing = not (self.view.columns(cursor, DAYS.name) and self.view.columns(cursor, CALLERS.name))
        super().create_tables(indexes)
        if missing and self.position() > 0:
            self.drop(indexes=indexes)

    def _words(self, description: str | None) -> list[str]:
        """The description's distinct words; none of a case erased already (its key destroyed)."""
        return [] if description == ERASED else list(self.segmenter.distinct(description or ""))

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        view = self.view
        rows: dict[str, tuple] = {}
        departments: list[tuple[str, str]] = []  # (case id, department) of the dispatches, in order
        classified: list[tuple[str, str, str]] = []  # (case id, category, service) of 待分类 cases classified
        used: dict[tuple[str, str], int] = {}  # (day, word): cases of the batch
        erased: list[str] = []  # cases whose caller's key and words go (Case.PersonalDataErased)
        for event in events:
            case_id = str(event.originator_id)
            if isinstance(event, Case.PersonalDataErased):
                opened = rows.get(f"{case_id}:opened")
                if opened is not None:  # opened in this same batch: its words not counted after all
                    day = (opened[3] or "")[:10]
                    for word in opened[11].split():
                        used[(day, word)] -= 1
                        if not used[(day, word)]:
                            del used[(day, word)]
                    rows[f"{case_id}:opened"] = (*opened[:9], None, opened[10], "")
                else:
                    erased.append(case_id)
                continue
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
                    " ".join(words := self._words(event.description)),
                )
                day = (stamp(event.timestamp) or "")[:10]
                for word in words:
                    used[(day, word)] = used.get((day, word), 0) + 1
                continue
            if isinstance(event, Case.Classified):  # counted under the service the operator chose
                opened = rows.get(f"{case_id}:opened")
                if opened is not None:  # opened in this same batch: set it before it is written
                    rows[f"{case_id}:opened"] = (*opened[:5], event.category, event.service_code, *opened[7:])
                else:
                    classified.append((case_id, event.category, event.service_code))
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
            counts = tally(rows.values())
            if rows:  # every fact is new: its key is its event's (a batch read twice fails on it, and is retried)
                view.copy_rows(cursor, FACTS.name, FACTS.columns, list(rows.values()))
            add_words(view, cursor, used)
            add_callers(view, cursor, callers_tally(rows.values()))
            if departments:
                counts.update(self._move(cursor, departments))
            if classified:
                counts.update(self._reclassify(cursor, classified))
            add_days(view, cursor, counts)
            for case_id in erased:
                forget_case(view, cursor, f"{case_id}:opened")

    def _reclassify(self, cursor: Any, classified: list[tuple[str, str, str]]) -> Counter[tuple[str, str, str, str]]:
        """待分类 cases opened in earlier batches, classified now: each opened fact takes the category
        and service the operator chose, and its day's counts move from what the channel sent."""
        view, table = self.view, self.view.table(FACTS.name)
        moves: Counter[tuple[str, str, str, str]] = Counter()
        for case_id, category, service_code in classified:
            key = f"{case_id}:opened"
            found = view.select(cursor, f"SELECT at, category, service_code FROM {table} WHERE id = ?", [key])
            if not found:
                continue  # a case this view never saw opened
            day, row = day_of(found[0]["at"]), found[0]
            for dimension, value in (("category", category), ("service_code", service_code)):
                moves[(day, OPENED, dimension, row[dimension] or "")] -= 1
                moves[(day, OPENED, dimension, value)] += 1
            view.execute(
                cursor, f"UPDATE {table} SET category = ?, service_code = ? WHERE id = ?", (category, service_code, key)
            )
        return moves

    def by_department(self, first_day: str, end_day: str, kinds: Sequence[str]) -> dict[tuple[str, str], int]:
        """{(department, kind): n} over the days [first_day, end_day) from the daily totals: what the
        考核 counts of returns and 重办 per department (projections/read_models.py ``metrics``)."""
        marks = ",".join("?" * len(kinds))
        rows = self.view.query(
            f"SELECT value, kind, SUM(n) AS n FROM {self.view.table(DAYS.name)} WHERE day >= ? AND day < ? "
            f"AND dimension = 'department' AND value <> '' AND kind IN ({marks}) GROUP BY value, kind",
            [first_day, end_day, *kinds],
        )
        return {(row["value"], row["kind"]): int(row["n"]) for row in rows}

    def _move(self, cursor: Any, departments: list[tuple[str, str]]) -> Counter[tuple[str, str, str, str]]:
        """Dispatches of cases opened in earlier batches: each opened fact takes its new department,
        and its day's count moves from the old department to the new."""
        view, table = self.view, self.view.table(FACTS.name)
        ids = sorted({f"{case_id}:opened" for case_id, _ in departments})
        now: dict[str, tuple[str, str]] = {}  # opened fact id: (day, department now)
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            for row in view.select(
                cursor, f"SELECT id, at, department FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                now[row["id"]] = (day_of(row["at"]), row["department"] or "")
        moves: Counter[tuple[str, str, str, str]] = Counter()
        for case_id, department in departments:
            key = f"{case_id}:opened"
            if key not in now:
                continue  # a case this view never saw opened
            day, before = now[key]
            moves[(day, OPENED, "department", before)] -= 1
            moves[(day, OPENED, "department", department or "")] += 1
            now[key] = (day, department or "")
        view.update_rows(
            cursor, FACTS.name, ("id", "department"), [(key, dept or None) for key, (_, dept) in now.items()]
        )
        return moves


def forget_case(view: ViewRecorder, cursor: Any, row_id: str) -> None:
    """An erased case: its caller's key and words go, and its words no longer count on its day
    (a word no case of that day uses any more goes from the words table)."""
    found = view.select(cursor, f"SELECT at, words FROM {view.table(FACTS.name)} WHERE id = ?", (row_id,))
    if not found:
        return
    day, words = (found[0]["at"] or "")[:10], (found[0]["words"] or "").split()
    ids = [(f"{day}|{word}",) for word in words]
    view.executemany(cursor, f"UPDATE {view.table(WORDS.name)} SET n = n - 1 WHERE id = ?", ids)
    view.executemany(cursor, f"DELETE FROM {view.table(WORDS.name)} WHERE id = ? AND n <= 0", ids)
    view.execute(cursor, f"UPDATE {view.table(FACTS.name)} SET caller_key = NULL, words = '' WHERE id = ?", (row_id,))


def _unused(row: Any, event: Any) -> None:  # pragma: no cover - process_batch writes the rows
    raise AssertionError("ReportFacts writes its rows in process_batch")


def add_words(view: ViewRecorder, cursor: Any, used: dict[tuple[str, str], int]) -> None:
    """Add the batch's (day, word) counts to the words table."""
    view.add_counts(
        cursor, WORDS.name, WORDS.columns, [(f"{day}|{word}", day, word, n) for (day, word), n in used.items()]
    )
