"""The call centre's figures from a hand-made feed of the switch (``hotline.telephony/1``), through
the intake as the consumer hands it over, equal the figures computed by hand."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo.telephony import telephony_day
from hotline.intake.handlers import Intake
from hotline.intake.messages import Topics
from hotline.intake.telephony import TELEPHONY_SCHEMA, TelephonyError, parse_telephony
from hotline.projections.telephony import TelephonyLog

DAY = datetime(2026, 11, 30, tzinfo=CHINA_TZ)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def at(clock: str) -> str:
    hour, minute, second = map(int, clock.split(":"))
    return DAY.replace(hour=hour, minute=minute, second=second).isoformat()


FEED = [
    ("offered", "c1", "09:00:00", {"caller_phone": "13900000001"}),
    ("answered", "c1", "09:00:05", {"seat": "A01"}),
    ("ended", "c1", "09:03:05", {}),
    ("offered", "c2", "09:10:00", {}),
    ("answered", "c2", "09:10:20", {"seat": "A02"}),
    ("transferred", "c2", "09:12:00", {"seat": "A02", "transferred_to": "市水务局热线"}),
    ("ended", "c2", "09:14:20", {}),
    ("offered", "c3", "09:20:00", {}),
    ("abandoned", "c3", "09:20:30", {}),
    ("called_back", "c3", "09:40:00", {"seat": "A03"}),  # within 30 minutes
    ("offered", "c4", "10:00:00", {}),
    ("abandoned", "c4", "10:00:10", {}),
    ("called_back", "c4", "11:00:00", {"seat": "A03"}),  # late
    ("offered", "c5", "14:00:00", {}),
    ("abandoned", "c5", "14:00:40", {}),  # never called back
    ("offered", "c7", "14:30:00", {}),
    ("answered", "c7", "14:30:15", {"seat": "A01"}),  # exactly 15 seconds: in time
    ("ended", "c7", "14:32:15", {}),
    ("offered", "c6", "17:50:00", {}),
    ("abandoned", "c6", "17:50:10", {}),  # still within its limit at 18:00
    ("answered", "c1", "09:30:00", {"seat": "A09"}),  # a redelivery, later: the first time stays
]


def message(kind: str, call_id: str, clock: str, extra: dict) -> bytes:
    body = {"schema": TELEPHONY_SCHEMA, "event": kind, "call_id": call_id, "at": at(clock), **extra}
    return json.dumps(body, ensure_ascii=False).encode()


def test_the_figures_of_a_hand_made_feed_equal_the_hand_computed_ones(services):
    topics = Topics()
    intake = Intake(services.app, topics, telephony=services.read_models.telephony.record)
    assert topics.telephony in intake.subscribed
    records = [Record(topics.telephony, 0, n, None, message(*row)) for n, row in enumerate(FEED)]
    records.append(Record(topics.telephony, 0, 99, None, b'{"schema": "hotline.telephony/1", "event": "lost"}'))
    intake.handle(records)
    now = DAY.replace(hour=18)
    f = services.read_models.telephony.figures(DAY, DAY + timedelta(days=1), now)
    assert (f.offered, f.answered, f.answered_in_time, f.abandoned) == (7, 3, 2, 4)
    assert f.answer_rate == round(100 * 3 / 7, 2) == 42.86
    assert f.in_time_rate == round(100 * 2 / 7, 2) == 28.57
    assert f.average_wait_seconds == round((5 + 20 + 15) / 3, 1) == 13.3
    assert f.callbacks_made_in_time == 1
    assert [(m.call_id, m.overdue) for m in f.callbacks_due] == [("c4", True), ("c5", True), ("c6", False)]
    assert f.callbacks_due[2].callback_due == DAY.replace(hour=18, minute=20, second=10)
    seats = {s.seat: (s.answered, s.average_talk_seconds, s.transferred) for s in f.seats}
    assert seats == {"A01": (2, (180 + 120) / 2, 0), "A02": (1, 240, 1)}
    assert {h: (n, a) for h, n, a in f.by_hour} == {9: (3, 1), 10: (1, 1), 14: (2, 1), 17: (1, 1)}


def test_bad_messages_say_why():
    for value, reason in (
        (b"not json", "JSON"),
        (message("answered", "x", "09:00:00", {}), "seat"),
        (b'{"schema": "hotline.telephony/1", "event": "offered", "call_id": "x", "at": "2026-11-30T09:00:00"}', "时区"),
    ):
        with pytest.raises(TelephonyError, match=reason):
            parse_telephony(value)


def test_the_demo_feed_peaks_in_the_morning_and_afternoon_and_loses_a_share():
    messages = telephony_day(DAY.date(), 2000, seed=1)
    offered = [m for m in messages if m["event"] == "offered"]
    hours = [datetime.fromisoformat(m["at"]).hour for m in offered]
    peak = sum(1 for h in hours if h in (9, 10, 14, 15))
    assert peak / len(hours) > 0.45 and hours.count(10) > 2 * hours.count(19)
    abandoned = sum(1 for m in messages if m["event"] == "abandoned")
    assert 0.04 < abandoned / len(offered) < 0.15
    assert all(parse_telephony(json.dumps(m, ensure_ascii=False).encode()) for m in messages[:200])


def _seats(seats):
    return sorted((s.seat, s.answered, s.average_talk_seconds, s.transferred) for s in seats)


def _figures(log, start, end, now):
    f = log.figures(start, end, now)
    return (
        f.offered,
        f.answered,
        f.answered_in_time,
        f.abandoned,
        f.average_wait_seconds,
        _seats(f.seats),
        sorted(f.by_hour),
        f.callbacks_made_in_time,
        [m.call_id for m in f.callbacks_due],
    )


def test_the_hourly_totals_give_the_figures_counted_from_the_calls_however_the_feed_arrives(services):
    """A demo day delivered out of order in small batches, part of it twice: the figures summed from
    the hourly totals equal those counted from the calls, and making the totals again from the calls
    (as start-up does when the table is missing or the 15-second rule changed) gives the same rows."""
    log = services.read_models.telephony
    messages = telephony_day(DAY.date(), 400, seed=3)
    rng = random.Random(5)
    shuffled = messages + rng.sample(messages, 150)  # redeliveries
    rng.shuffle(shuffled)
    records = [parse_telephony(json.dumps(m, ensure_ascii=False).encode()) for m in shuffled]
    for start in range(0, len(records), 37):
        log.record(records[start : start + 37])
    now = DAY + timedelta(days=1, hours=1)
    whole_day = (DAY, DAY + timedelta(days=1))
    summed = _figures(log, *whole_day, now)
    assert summed[0] == 400 and summed[3] > 0 and summed[5]
    totals, seats, hours = log.counted(*whole_day)
    assert (int(totals["offered"]), int(totals["answered"]), int(totals["in_time"]), int(totals["abandoned"])) == (
        summed[:4]
    )
    assert _seats(seats) == summed[5] and sorted(hours) == summed[6]
    afternoon = (DAY.replace(hour=13), DAY.replace(hour=16, minute=30))  # not whole hours: counted
    offered = [datetime.fromisoformat(m["at"]) for m in messages if m["event"] == "offered"]
    assert _figures(log, *afternoon, now)[0] == sum(1 for t in offered if afternoon[0] <= t < afternoon[1]) > 0
    table = services.read_models.recorder.table("hv_telephony_hours")
    kept = services.read_models.recorder.query(f"SELECT * FROM {table} ORDER BY id")
    log.rebuild_hours()
    assert services.read_models.recorder.query(f"SELECT * FROM {table} ORDER BY id") == kept
    assert _figures(log, *whole_day, now) == summed
    # The 15-second rule changed in rules/: at start-up the totals are made again by the new rule.
    longer = TelephonyLog(log.view, log.caller_key, replace(log.rules, answer_within_seconds=40))
    longer.create_tables()
    assert _figures(longer, *whole_day, now)[2] == int(longer.counted(*whole_day)[0]["in_time"]) > summed[2]
