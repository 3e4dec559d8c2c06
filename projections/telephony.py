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
from hotline.domain.workdays import as_china_time
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
# The figures' totals per hour of offer (Beijing time) and seat: kept with the calls (``record``),
# so that a month's figures sum a few thousand small rows instead of scanning every call. ``within``
# is the 15-second rule the ``in_time`` counts were made with; at start-up the table is made again
# from the calls when it is missing or the rule changed (``create_tables``).
HOURS = Table(
    "hv_telephony_hours",
    (
        "id",
        "at_hour",
        "seat",
        "within_seconds",
        "offered",
        "answered",
        "in_time",
        "wait_us",
        "waits",
        "abandoned",
        "talk_us",
        "talks",
        "transferred",
    ),
    "id TEXT PRIMARY KEY, at_hour TEXT NOT NULL, seat TEXT NOT NULL, within_seconds DOUBLE PRECISION NOT NULL, "
    "offered INTEGER NOT NULL, answered INTEGER NOT NULL, in_time INTEGER NOT NULL, wait_us BIGINT NOT NULL, "
    "waits INTEGER NOT NULL, abandoned INTEGER NOT NULL, talk_us BIGINT NOT NULL, talks INTEGER NOT NULL, "
    "transferred INTEGER NOT NULL",
    ("at_hour: at_hour",),
)
MEASURES = HOURS.columns[4:]
LOST = "answered_at IS NULL AND abandoned_at IS NOT NULL"
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
            view.lock_tables(cursor)
            hours_missing = not view.columns(cursor, HOURS.name)
            for table in (CALLS, HOURS):
                view.execute(cursor, f"CREATE TABLE IF NOT EXISTS {view.table(table.name)} ({table.ddl_columns})")
                add_missing_columns(view, cursor, table)
                for index in table.indexes:
                    label, columns = index.split(":")
                    view.execute(
                        cursor,
                        f"CREATE INDEX IF NOT EXISTS {table.name}_{label.strip()} "
                        f"ON {view.table(table.name)} ({columns.strip()})",
                    )
            # The abandoned calls not answered, by time offered: the 漏接回拨 list reads only these.
            view.execute(
                cursor,
                f"CREATE INDEX IF NOT EXISTS {CALLS.name}_lost ON {view.table(CALLS.name)} (offered_at) WHERE {LOST}",
            )
            rules_changed = bool(
                view.select(
                    cursor,
                    f"SELECT 1 AS changed FROM {view.table(HOURS.name)} WHERE within_seconds <> ? LIMIT 1",
                    [self.rules.answer_within_seconds],
                )
            )
        if hours_missing or rules_changed:
            self.rebuild_hours()

    def rebuild_hours(self) -> None:
        """Make the hourly totals again from the calls (the calls table is their only source)."""
        view, table = self.view, self.view.table(CALLS.name)
        with view.writing(None) as cursor:
            view.execute(cursor, f"DELETE FROM {view.table(HOURS.name)}")
            after = ""
            while True:  # the calls in key order, a chunk at a time: never all of them in memory
                rows = view.select(
                    cursor, f"SELECT * FROM {table} WHERE call_id > ? ORDER BY call_id LIMIT 5000", [after]
                )
                if not rows:
                    break
                self._add_hours(cursor, self._shares(rows, {}))
                after = rows[-1]["call_id"]

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
            before = {call_id: self._share(row) for call_id, row in rows.items()}
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
            self._add_hours(cursor, self._shares(changed.values(), before))
        return len(changed)

    def _share(self, row: dict[str, Any]) -> tuple[tuple[str, str], list[int]] | None:
        """What one call adds to the hourly totals: its (hour offered, seat) and its measures."""
        offered = row["offered_at"]
        if not offered:
            return None  # the offer not received yet: not a call of any period
        answered = row["answered_at"] is not None
        wait, talk = row["wait_seconds"], row["talk_seconds"]
        talked = answered and talk is not None
        return (offered[:13], (row["seat"] or "") if answered else ""), [
            1,
            int(answered),
            int(wait is not None and wait <= self.rules.answer_within_seconds),
            _micro(wait),
            int(wait is not None),
            int(not answered and row["abandoned_at"] is not None),
            _micro(talk) if talked else 0,
            int(talked),
            int(answered and row["transferred_at"] is not None),
        ]

    def _shares(
        self, rows: Iterable[dict[str, Any]], before: dict[str, tuple[tuple[str, str], list[int]] | None]
    ) -> dict[tuple[str, str], list[int]]:
        """The change to the hourly totals: the rows' shares now, less what they added ``before``."""
        found: dict[tuple[str, str], list[int]] = {}
        for row in rows:
            for share, sign in ((before.get(row["call_id"]), -1), (self._share(row), 1)):
                if share is not None:
                    sums = found.setdefault(share[0], [0] * len(MEASURES))
                    for number, value in enumerate(share[1]):
                        sums[number] += sign * value
        return found

    def _add_hours(self, cursor: Any, changes: dict[tuple[str, str], list[int]]) -> None:
        view, table = self.view, self.view.table(HOURS.name)
        within = self.rules.answer_within_seconds
        updates = ", ".join(f"{m} = h.{m} + excluded.{m}" for m in MEASURES)
        view.executemany(
            cursor,
            f"INSERT INTO {table} AS h ({', '.join(HOURS.columns)}) VALUES ({', '.join('?' * len(HOURS.columns))}) "
            f"ON CONFLICT (id) DO UPDATE SET within_seconds = excluded.within_seconds, {updates}",
            [(f"{hour}|{seat}", hour, seat, within, *sums) for (hour, seat), sums in sorted(changes.items())],
        )
        emptied = sorted(f"{hour}|{seat}" for (hour, seat), sums in changes.items() if sums[0] < 0)
        for start in range(0, len(emptied), 500):
            chunk = emptied[start : start + 500]
            view.execute(
                cursor, f"DELETE FROM {table} WHERE offered = 0 AND id IN ({','.join('?' * len(chunk))})", chunk
            )

    def figures(self, start: datetime, end: datetime, now: datetime) -> CallCentreFigures:
        """The figures of the calls offered in [start, end), judged at ``now``: summed from the hourly
        totals when the bounds are whole hours (a day, a month), else counted from the calls
        (``counted``); only the abandoned calls are read one by one."""
        rules = self.rules
        table = self.view.table(CALLS.name)
        span = [stamp(start), stamp(end)]
        totals, seats, hours = (
            self.summed(start, end) if _whole_hour(start) and _whole_hour(end) else self.counted(start, end)
        )
        offered, answered = int(totals["offered"]), int(totals["answered"])
        in_time, abandoned = int(totals["in_time"]), int(totals["abandoned"])
        limit = timedelta(minutes=rules.callback_within_minutes)
        missed: list[MissedCall] = []
        made_in_time = 0
        for row in self.view.query(
            f"SELECT call_id, caller_key, abandoned_at, called_back_at FROM {table} "
            f"WHERE offered_at >= ? AND offered_at < ? AND {LOST}",
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
            average_wait_seconds=round(totals["wait_us"] / totals["waits"] / 1e6, 1) if totals["waits"] else None,
            answer_within_seconds=rules.answer_within_seconds,
            target_rate=rules.target_answer_rate,
            callbacks_due=missed,
            callbacks_made_in_time=made_in_time,
            seats=sorted(seats, key=lambda s: (-s.answered, s.seat)),
            by_hour=sorted(hours),
        )

    def summed(self, start: datetime, end: datetime) -> tuple[dict[str, int], list[SeatFigures], list[tuple]]:
        """Totals, seats and hours of the calls offered in [start, end) (whole hours) from the hourly totals."""
        rows = self.view.query(
            f"SELECT * FROM {self.view.table(HOURS.name)} WHERE at_hour >= ? AND at_hour < ?",
            [(stamp(start) or "")[:13], (stamp(end) or "")[:13]],
        )
        totals = dict.fromkeys(MEASURES, 0)
        by_seat: dict[str, list[int]] = {}
        by_hour: dict[int, list[int]] = {}
        for row in rows:
            for measure in MEASURES:
                totals[measure] += row[measure]
            if row["answered"]:
                seat = by_seat.setdefault(row["seat"], [0, 0, 0, 0])
                seat[0] += row["answered"]
                seat[1] += row["talk_us"]
                seat[2] += row["talks"]
                seat[3] += row["transferred"]
            hour = by_hour.setdefault(int(row["at_hour"][11:13]), [0, 0])
            hour[0] += row["offered"]
            hour[1] += row["abandoned"]
        seats = [
            SeatFigures(seat or "（未知）", int(n), round(talk / talks / 1e6, 1) if talks else None, int(moved))
            for seat, (n, talk, talks, moved) in by_seat.items()
        ]
        return totals, seats, [(hour, n, gone) for hour, (n, gone) in by_hour.items()]

    def counted(self, start: datetime, end: datetime) -> tuple[dict[str, int], list[SeatFigures], list[tuple]]:
        """The same, counted from the calls themselves (any bounds; the reference for the totals)."""
        table = self.view.table(CALLS.name)
        span = [stamp(start), stamp(end)]
        found = self.view.query(
            f"SELECT COUNT(*) AS offered, SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered, "
            f"SUM(CASE WHEN wait_seconds <= ? THEN 1 ELSE 0 END) AS in_time, SUM(wait_seconds) AS wait_seconds, "
            f"COUNT(wait_seconds) AS waits, SUM(CASE WHEN {LOST} THEN 1 ELSE 0 END) AS abandoned "
            f"FROM {table} WHERE offered_at >= ? AND offered_at < ?",
            [self.rules.answer_within_seconds, *span],
        )[0]
        totals = {measure: int(found.get(measure) or 0) for measure in MEASURES}
        totals["wait_us"] = _micro(found["wait_seconds"])
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
        hours = [
            (int(row["hour"]), int(row["n"]), int(row["gone"] or 0))
            for row in self.view.query(
                f"SELECT SUBSTR(offered_at, 12, 2) AS hour, COUNT(*) AS n, SUM(CASE WHEN {LOST} THEN 1 ELSE 0 END) "
                f"AS gone FROM {table} WHERE offered_at >= ? AND offered_at < ? GROUP BY SUBSTR(offered_at, 12, 2)",
                span,
            )
        ]
        return totals, seats, hours


def _micro(seconds: float | None) -> int:
    """Seconds as whole microseconds (the stored times' precision): sums that add and take away exactly."""
    return round(seconds * 1_000_000) if seconds is not None else 0


def _whole_hour(moment: datetime) -> bool:
    local = as_china_time(moment)
    return (local.minute, local.second, local.microsecond) == (0, 0, 0)


def _seconds(first: str | None, then: str | None) -> float | None:
    if not first or not then:
        return None
    return (datetime.fromisoformat(then) - datetime.fromisoformat(first)).total_seconds()
