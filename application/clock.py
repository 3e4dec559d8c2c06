"""The one clock: Beijing time, injected, so that tests and the demo can run on a clock of their own.

Everything that needs "now" (commands, read models judging what is overdue, pages, dead letters)
asks the clock the application was built with. Deadlines, 三率 and the deadline queue are judged
in Beijing time, so the clock answers in Beijing time too.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from hotline.domain.workdays import CHINA_TZ, as_china_time


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The server's clock, in Beijing time."""

    def now(self) -> datetime:
        return datetime.now(CHINA_TZ)


class SimulatedClock:
    """A clock that only moves when told to: tests, the demo generator and the benchmarks."""

    def __init__(self, start: datetime):
        self._now = as_china_time(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = as_china_time(moment)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


App = TypeVar("App", bound="HasClock")


class HasClock(Protocol):
    clock: Clock


def clocked(app: App, moment: datetime) -> App:
    """``app`` with its clock moved to ``moment``: how the demo, the benchmarks and the tests replay a
    history (no command takes a time: only the clock records time). An application on the server's
    clock is put on a simulated clock first."""
    clock = app.clock
    if not isinstance(clock, SimulatedClock):
        clock = SimulatedClock(moment)
        app.clock = clock
    clock.set(moment)
    return app
