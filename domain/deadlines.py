"""When a deadline counts as missed: the one rule every page, queue, figure and command uses."""

from __future__ import annotations

from datetime import datetime

from hotline.domain.workdays import as_china_time


def is_overdue(due: datetime | None, moment: datetime) -> bool:
    """Past its due moment and not yet met (a deadline exactly now is still in time)."""
    return due is not None and due < moment


def finished_late(due: datetime | None, finished_at: datetime | None, moment: datetime) -> bool:
    """Finished after its due moment, or still unfinished past it."""
    return due is not None and (finished_at or moment) > due


def due_today(due: datetime | None, moment: datetime) -> bool:
    """Still in time, but due before the end of today (Beijing time)."""
    return due is not None and not is_overdue(due, moment) and as_china_time(due).date() == as_china_time(moment).date()
