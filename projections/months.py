"""A month's 三率 and ranking as shown: a closed month from its frozen figures (月度结账,
domain/month.py), an open month from the one metrics function, marked provisional."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from hotline.application import HotlineApplication
from hotline.domain.month import MonthClose
from hotline.projections.metrics import MetricRow, rank_rows
from hotline.projections.read_models import ReadModels


@dataclass(frozen=True)
class MonthFigures:
    month: str
    rows: list[MetricRow]
    closed: MonthClose | None  # None: the month is open, its figures still change

    @property
    def provisional(self) -> bool:
        return self.closed is None


def frozen_row(figures: dict[str, Any]) -> MetricRow:
    """A frozen row as the ranking shows it (a field the figures lack is shown empty)."""
    return MetricRow(**{field.name: figures.get(field.name) for field in fields(MetricRow)})


def month_figures(
    app: HotlineApplication, read_models: ReadModels, month: str, now: datetime | None = None
) -> MonthFigures:
    closed = app.month_close(month)
    if closed is not None:
        return MonthFigures(month, rank_rows([frozen_row(row) for row in closed.figures]), closed)
    read_models.catch_up()
    return MonthFigures(month, read_models.metrics(month, now), None)
