"""The call centre's figures from the switch's feed (``hotline.telephony``, docs/messages.md).

The feed is the switch's record, not events of the case store: each message is applied as it
arrives to one row per call (``hv_telephony``), keeping the first time of each step, so a message
delivered twice changes nothing. The table is not a rebuildable view (the feed is its only source):
``projections rebuild`` leaves it alone.

Figures for a period (calls offered in it), with ``rules/analysis.toml [telephony]``:

- 接通率 = answered ÷ offered;
- 15 秒接通率 = answered within ``answer_within_seconds`` of being offered ÷ offered;
- average wait = mean of (answered − offered) over the answered calls;
- 漏接回拨: abandoned calls, each due to be called back within ``callback_within_minutes``;
  the list shows those not called back in time (overdue) and those still within the limit;
- per seat: calls answered, average talk time (ended − answered), transfers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hotline.domain.analysis import TelephonyRules
from hotline.projections.base import Table, add_missing_columns, stamp, unstamp
from hotline.projections.caller_key import CallerKey
from hotline.projections.store import ViewRecorder

CALLS = Table(
    "hv_telephony",
    (
        "call_id",
        "caller_key",
        "offered_at",
        "answered_at",
        "seat",
        "abandoned_at",
        "transferred_at",
        "transferred_to",
        "ended_at",
        "called_back_at",
        "called_back_by",
        "wait_seconds",
        "talk_seconds",
    ),
    "call_id TEXT PRIMARY KEY, caller_key TEXT, offered_at TEXT, answered_at TEXT, seat TEXT, abandoned_at TEXT, "
    "transferred_at TEXT, transferred_to TEXT, ended_at TEXT, called_back_at TEXT, called_back_by TEXT, "
    "wait_seconds DOUBLE PRECISION, talk_seconds DOUBLE PRECISION",
    (
        "offered: offered_at",
        "abandoned: abandoned_at",
        # Covering the figures' scans of a period (index-only: a month of calls without visiting the rows).
        "figures: offered_at, answered_at, abandoned_at, wait_seconds, talk_seconds, seat, transferred_at",
    ),
)
STEP_COLUMN = {
    "offered": "offered_at",
    "answered": "answered_at",
    "abandoned": "abandoned_at",
    "transferred": "transferred_at",
    "ended": "ended_at",
    "called_back": "called_back_at",
}


class FeedEvent(Protocol):
    kind: str
    call_id: str
    at: datetime
    seat: str
    caller_phone: str
    transferred_to: str


@dataclass(frozen=True)
class SeatFigures:
    seat: str
    answered: int
    average_talk_seconds: float | None
    transferred: int


@dataclass(frozen=True)
class MissedCall:
    call_id: str
    caller_key: str | None
    abandoned_at: datetime
    callback_due: datetime
    called_back_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class CallCentreFigures:
    offered: int
    answered: int
    answered_in_time: int
    abandoned: int
    answer_rate: float | None  # 接通率, percent
    in_time_rate: float | None  # 15 秒接通率, percent
    average_wait_seconds: float | None
    answer_within_seconds: float
    target_rate: float
    callbacks_due: list[MissedCall]  # abandoned, not called back in time (overdue first), or still due
    callbacks_made_in_time: int
    seats: list[SeatFigures]
    by_hour: list[tuple[int, int, int]]  # (hour, offered, abandoned)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


class TelephonyLog:
    def __init__(self, view: ViewRecorder, caller_key: CallerKey, rules: TelephonyRules):
        self.view = view
        self.caller_key = caller_key
        self.rules = rules

    def create_tables(self) -> None:
        view = self.view
        with view.writing(None) as cursor:
            view.execute(cursor, f"CREATE TABLE IF NOT EXISTS {view.table(CALLS.name)} ({CALLS.ddl_columns})")
            add_missing_columns(view, cursor, CALLS)
            for index in CALLS.indexes:
                label, columns = index.split(":")
                view.execute(
                    cursor,
                    f"CREATE INDEX IF NOT EXISTS {CALLS.name}_{label.strip()} "
                    f"ON {view.table(CALLS.name)} ({columns.strip()})",
                )

    def record(self, events: Iterable[FeedEvent]) -> int:
        """Apply the feed's messages; returns how many calls changed."""
        events = list(events)
        if not events:
            return 0
        view, table = self.view, self.view.table(CALLS.name)
        with view.writing(None) as cursor:
            ids = sorted({e.call_id for e in events})
            rows: dict[str, dict[str, Any]] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in view.select(cursor, f"SELECT * FROM {table} WHERE call_id IN ({marks})", chunk):
                    rows[row["call_id"]] = row
            changed: dict[str, dict[str, Any]] = {}
            for event in events:
                row = rows.setdefault(event.call_id, {**dict.fromkeys(CALLS.columns), "call_id": event.call_id})
                column = STEP_COLUMN[event.kind]
                if row[column] is None:  # the first time of each step stays
                    row[column] = stamp(event.at)
                    if event.kind == "answered":
                        row["seat"] = event.seat
                    elif event.kind == "transferred":
                        row["transferred_to"] = event.transferred_to
                    elif event.kind == "called_back":
                        row["called_back_by"] = event.seat
                row["wait_seconds"] = _seconds(row["offered_at"], row["answered_at"])
                row["talk_seconds"] = _seconds(row["answered_at"], row["ended_at"])
                if event.caller_phone and not row["caller_key"]:
                    row["caller_key"] = self.caller_key(event.caller_phone)
                changed[event.call_id] = row
            view.upsert(
                cursor, CALLS.name, CALLS.columns, [tuple(r[c] for c in CALLS.columns) for r in changed.values()]
            )
        return len(changed)

    def figures(self, start: datetime, end: datetime, now: datetime) -> CallCentreFigures:
        """The figures of the calls offered in [start, end), judged at ``now``: counted in SQL (the
        waits and talk times are kept per call), only the abandoned calls read one by one."""
        rules = self.rules
        table = self.view.table(CALLS.name)
        span = [stamp(start), stamp(end)]
        lost = "answered_at IS NULL AND abandoned_at IS NOT NULL"
        totals = self.view.query(
            f"SELECT COUNT(*) AS offered, SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered, "
            f"SUM(CASE WHEN wait_seconds <= ? THEN 1 ELSE 0 END) AS in_time, AVG(wait_seconds) AS wait, "
            f"SUM(CASE WHEN {lost} THEN 1 ELSE 0 END) AS abandoned "
            f"FROM {table} WHERE offered_at >= ? AND offered_at < ?",
            [rules.answer_within_seconds, *span],
        )[0]
        offered, answered = int(totals["offered"] or 0), int(totals["answered"] or 0)
        in_time, abandoned = int(totals["in_time"] or 0), int(totals["abandoned"] or 0)
        seats = [
            SeatFigures(
                row["seat"] or "（未知）",
                int(row["n"]),
                None if row["talk"] is None else round(float(row["talk"]), 1),
                int(row["moved"] or 0),
            )
            for row in self.view.query(
                f"SELECT seat, COUNT(*) AS n, AVG(talk_seconds) AS talk, "
                f"SUM(CASE WHEN transferred_at IS NOT NULL THEN 1 ELSE 0 END) AS moved FROM {table} "
                "WHERE offered_at >= ? AND offered_at < ? AND answered_at IS NOT NULL GROUP BY seat",
                span,
            )
        ]
        hours = self.view.query(
            f"SELECT SUBSTR(offered_at, 12, 2) AS hour, COUNT(*) AS n, SUM(CASE WHEN {lost} THEN 1 ELSE 0 END) AS gone "
            f"FROM {table} WHERE offered_at >= ? AND offered_at < ? GROUP BY SUBSTR(offered_at, 12, 2)",
            span,
        )
        limit = timedelta(minutes=rules.callback_within_minutes)
        missed: list[MissedCall] = []
        made_in_time = 0
        for row in self.view.query(
            f"SELECT call_id, caller_key, abandoned_at, called_back_at FROM {table} "
            f"WHERE offered_at >= ? AND offered_at < ? AND {lost}",
            span,
        ):
            gone = unstamp(row["abandoned_at"])
            assert gone is not None
            due, back = gone + limit, unstamp(row["called_back_at"])
            if back is not None and back <= due:
                made_in_time += 1
            else:
                missed.append(MissedCall(row["call_id"], row["caller_key"], gone, due, back, due < (back or now)))
        missed.sort(key=lambda m: (not m.overdue, m.callback_due))
        return CallCentreFigures(
            offered=offered,
            answered=answered,
            answered_in_time=in_time,
            abandoned=abandoned,
            answer_rate=_percent(answered, offered),
            in_time_rate=_percent(in_time, offered),
            average_wait_seconds=None if totals["wait"] is None else round(float(totals["wait"]), 1),
            answer_within_seconds=rules.answer_within_seconds,
            target_rate=rules.target_answer_rate,
            callbacks_due=missed,
            callbacks_made_in_time=made_in_time,
            seats=sorted(seats, key=lambda s: (-s.answered, s.seat)),
            by_hour=[
                (int(row["hour"]), int(row["n"]), int(row["gone"] or 0))
                for row in sorted(hours, key=lambda r: r["hour"])
            ],
        )


def _seconds(first: str | None, then: str | None) -> float | None:
    if not first or not then:
        return None
    return (datetime.fromisoformat(then) - datetime.fromisoformat(first)).total_seconds()
