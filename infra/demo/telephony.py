"""A realistic day at the call centre's switch (``hotline.telephony/1`` messages): calls peak at
9–11 and 14–16, most are answered within seconds by one of a dozen seats, some wait long, a share
hang up in the queue (abandoned), most of those are called back (some late), a few are transferred."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta

from hotline.domain.workdays import CHINA_TZ
from hotline.intake.telephony import TELEPHONY_SCHEMA

# Relative call volume per hour of the day (8:00–21:00): the morning and afternoon peaks.
HOURLY = {8: 4, 9: 10, 10: 11, 11: 8, 12: 4, 13: 5, 14: 9, 15: 10, 16: 7, 17: 5, 18: 3, 19: 2, 20: 2}
SEATS = [f"A{n:02d}" for n in range(1, 13)]


def telephony_day(day: date, calls: int, seed: int = 12345, run_id: str = "demo") -> list[dict]:
    """The switch's messages for ``calls`` calls on ``day``, in time order."""
    rng = random.Random(seed)
    hours, weights = list(HOURLY), list(HOURLY.values())
    messages: list[dict] = []

    def say(kind: str, call_id: str, at: datetime, **fields: str) -> None:
        messages.append({"schema": TELEPHONY_SCHEMA, "event": kind, "call_id": call_id, "at": at.isoformat(), **fields})

    for number in range(calls):
        hour = rng.choices(hours, weights)[0]
        offered = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), CHINA_TZ)
        call_id = f"tel-{run_id}-{day:%Y%m%d}-{number:05d}"
        phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        say("offered", call_id, offered, caller_phone=phone)
        busy = hour in (9, 10, 14, 15)
        wait = rng.expovariate(1 / (14 if busy else 7))
        if rng.random() < (0.12 if busy else 0.05):  # hung up in the queue
            gone = offered + timedelta(seconds=5 + wait * 2)
            say("abandoned", call_id, gone)
            roll = rng.random()
            if roll < 0.6:
                say("called_back", call_id, gone + timedelta(minutes=rng.randint(2, 28)), seat=rng.choice(SEATS))
            elif roll < 0.8:
                say("called_back", call_id, gone + timedelta(minutes=rng.randint(35, 180)), seat=rng.choice(SEATS))
            continue
        seat = rng.choice(SEATS)
        picked = offered + timedelta(seconds=wait)
        say("answered", call_id, picked, seat=seat)
        talk = timedelta(seconds=rng.randint(60, 420))
        if rng.random() < 0.03:
            say(
                "transferred",
                call_id,
                picked + talk / 2,
                seat=seat,
                transferred_to=rng.choice(["110", "120", "市水务局热线"]),
            )
        say("ended", call_id, picked + talk)
    messages.sort(key=lambda m: m["at"])
    return messages


def encoded(messages: list[dict]) -> list[tuple[bytes, bytes]]:
    """(key, value) for the topic: keyed by call, so one call's messages stay in order."""
    return [(m["call_id"].encode(), json.dumps(m, ensure_ascii=False).encode()) for m in messages]
