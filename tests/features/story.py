"""What the step files share: a moment in Beijing time, a story told on the application's simulated
clock, and the rates a department's overall score is computed from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.application import SimulatedClock
from hotline.domain.workdays import CHINA_TZ


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


class ClockedStory:
    """The services a scenario acts on and the clock every command takes its time from."""

    def __init__(self, services: Any, clock: SimulatedClock):
        self.services = services
        self.hotline = services.app
        self.clock = clock

    def at(self, when: str) -> None:
        self.clock.set(moment(when))


def rates_of(row: Any, changed: dict[str, float | None] | None = None) -> dict[str, float | None]:
    """A ranking row's rates as ``MetricRules.score`` takes them, some of them ``changed``."""
    rates = {
        "response": row.response_rate,
        "timely_signing": row.timely_signing_rate,
        "resolution": row.resolution_rate,
        "satisfaction": row.satisfaction_rate,
        "on_time": row.on_time_rate,
        "return": row.return_rate,
        "rehandling": row.rehandling_rate,
        "part_on_time": row.part_on_time_rate,
    }
    return {**rates, **(changed or {})}
