"""Reports for a day (每日要情), a week, a month or any range of days (docs/reports.md).

What a report counts and where it comes from:

- 诉求总量 and its breakdowns (channel, category, service group and service, district, the department
  now handling the case), 新增, 直接答复, 派单, 办结, 退单, 重启, 合并: the daily totals of the report
  facts (view ``reports``, written from the events; ``DailyCounts``), a sum over the period's days;
  退单 counts a return once it took effect (approved by the dispatch centre: domain/case.py
  ``RETURNS_TAKING_EFFECT``);
- 直办率 = cases answered on the call ÷ cases opened, both in the period;
- 超期: cases opened in the period that are past their current deadline at the report's moment
  (the end of the period, or now if sooner), from the case index with the one overdue rule;
- 三率: the existing monthly metrics (``ReadModels.metrics``) of the month the period ends in, the
  city's rates computed from the departments' summed counts by the same rate rules;
- rising topics: services whose count grew most against the period just before, of the same length;
- repeat callers: the keyed phone hash with two or more cases in the period (never the number);
- for leaders: urgent cases of the period, cases past their deadline by more than the red-card
  threshold (rules/notifications.toml ``red_card_hours``), and the 集中诉求 (many callers on one
  matter) of the period's last days, beside the rising words (projections/hotspots.py).
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from hotline.domain.catalogue import CATEGORIES, CHANNELS
from hotline.domain.errors import InvalidInput
from hotline.domain.metrics import COUNTS, RATES
from hotline.domain.workdays import CHINA_TZ
from hotline.projections.base import stamp
from hotline.projections.cases import CaseRow
from hotline.projections.hotspots import Hotspots
from hotline.projections.report_view import (
    ANSWERED,
    CALLERS,
    CLOSED,
    DAYS,
    DISPATCHED,
    FACTS,
    MERGED,
    OPENED,
    OPENED_DIMENSIONS,
    REHANDLED,
    REOPENED,
    RETURNED,
    TOTAL,
)

if TYPE_CHECKING:
    from hotline.projections.read_models import ReadModels

PERIOD_NAMES = {"day": "每日要情", "week": "周报", "month": "月报", "range": "专题统计"}
RATE_NAMES = {key: name for name, key in RATES.items()}
LEADER_LIMIT = 20


@dataclass(frozen=True)
class Period:
    kind: str  # day, week, month, range
    first: date
    last: date  # inclusive

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_NAMES:
            raise InvalidInput(f"未知报告类型：{self.kind}（可选：{'、'.join(PERIOD_NAMES)}）")
        if self.first > self.last:
            raise InvalidInput("起始日期晚于截止日期")
        if (self.last - self.first).days > 366:
            raise InvalidInput("统计区间不能超过一年")

    @property
    def title(self) -> str:
        if self.kind == "day":
            return f"{self.first:%Y年%m月%d日} {PERIOD_NAMES['day']}"
        if self.kind == "month":
            return f"{self.first:%Y年%m月} {PERIOD_NAMES['month']}"
        return f"{self.first:%Y年%m月%d日}至{self.last:%Y年%m月%d日} {PERIOD_NAMES[self.kind]}"

    @property
    def slug(self) -> str:
        return f"{self.kind}-{self.first:%Y%m%d}" + ("" if self.kind == "day" else f"-{self.last:%Y%m%d}")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), CHINA_TZ)

    @property
    def end(self) -> datetime:
        """The exclusive end: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), CHINA_TZ)

    def before(self) -> Period:
        """The period of the same length just before this one."""
        days = (self.last - self.first).days + 1
        return Period("range", self.first - timedelta(days=days), self.first - timedelta(days=1))


def day(of: date) -> Period:
    return Period("day", of, of)


def week(of: date) -> Period:
    """Monday to Sunday of the week ``of`` falls in."""
    monday = of - timedelta(days=of.weekday())
    return Period("week", monday, monday + timedelta(days=6))


def month(text: str) -> Period:
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InvalidInput(f"月份格式应为 2025-10，而不是 {text!r}") from None
    return Period("month", first, first.replace(day=month_calendar.monthrange(first.year, first.month)[1]))


def date_range(first: date, last: date) -> Period:
    return Period("range", first, last)


@dataclass(frozen=True)
class Count:
    key: str
    name: str
    count: int


@dataclass(frozen=True)
class Rising:
    key: str
    name: str
    now: int
    before: int

    @property
    def change(self) -> int:
        return self.now - self.before


@dataclass(frozen=True)
class RepeatCaller:
    label: str  # the first characters of the keyed hash: enough to tell callers apart, never the number
    cases: int
    services: str


# Where the cases of a service code the catalogue does not list are counted (大类 and 小类).
OUTSIDE_CATALOGUE = "（目录外）"


@dataclass
class Report:
    period: Period
    generated_at: datetime
    total: int
    by_channel: list[Count]
    by_category: list[Count]
    by_major: list[Count]  # 大类 of the catalogue
    by_minor: list[Count]  # 小类, named 大类 › 小类
    by_service: list[Count]
    by_district: list[Count]
    by_department: list[Count]
    flows: dict[str, int]  # 新增 直接答复 派单 办结 退单 重启 合并 超期
    direct_answer_rate: float | None
    metrics_month: str
    city_rates: dict[str, float | None]  # 三率 of the city, by rate name
    departments: list[Any]  # the month's MetricRow ranking
    rising: list[Rising]
    repeat_callers: int
    top_repeat_callers: list[RepeatCaller]
    urgent: list[CaseRow]
    urgent_total: int
    red_card: list[CaseRow]
    red_card_total: int
    red_card_hours: float
    topics: list[Any] = field(default_factory=list)  # rising words (projections/hotspots.py)
    clusters: list[Any] = field(default_factory=list)  # 集中诉求 of the period's last days
    telephony: Any = None  # the call centre's figures (projections/telephony.py)
    extras: dict[str, Any] = field(default_factory=dict)  # sections other views add (telephony)


FLOW_NAMES = {
    OPENED: "新增",
    ANSWERED: "直接答复",
    DISPATCHED: "派单",
    CLOSED: "办结",
    RETURNED: "退单",
    REOPENED: "重启",
    REHANDLED: "重办",
    MERGED: "合并",
    "overdue": "超期",
}


class FactCounts:
    """The counting queries of a report as full scans of the period's report facts: the reference
    the daily totals are checked against (tests, and the benchmark's baseline)."""

    def __init__(self, models: ReadModels):
        self.view = models.recorder
        self.table = self.view.table(FACTS.name)

    def flows(self, period: Period) -> dict[str, int]:
        rows = self.view.query(
            f"SELECT kind, COUNT(*) AS n FROM {self.table} WHERE at >= ? AND at < ? GROUP BY kind",
            [stamp(period.start), stamp(period.end)],
        )
        found = {row["kind"]: int(row["n"]) for row in rows}
        return {kind: found.get(kind, 0) for kind in FLOW_NAMES if kind != "overdue"}

    def opened_by(self, period: Period) -> dict[str, dict[str, int]]:
        """Cases opened in the period, counted by each dimension, from one grouped scan."""
        columns = OPENED_DIMENSIONS
        rows = self.view.query(
            f"SELECT {', '.join(columns)}, COUNT(*) AS n FROM {self.table} WHERE kind = ? AND at >= ? AND at < ? "
            f"GROUP BY {', '.join(columns)}",
            [OPENED, stamp(period.start), stamp(period.end)],
        )
        found: dict[str, dict[str, int]] = {column: {} for column in columns}
        for row in rows:
            for column in columns:
                key = row[column] or ""
                found[column][key] = found[column].get(key, 0) + int(row["n"])
        return found

    def services_opened(self, period: Period) -> dict[str, int]:
        rows = self.view.query(
            f"SELECT service_code, COUNT(*) AS n FROM {self.table} WHERE kind = ? AND at >= ? AND at < ? "
            "GROUP BY service_code",
            [OPENED, stamp(period.start), stamp(period.end)],
        )
        return {row["service_code"]: int(row["n"]) for row in rows}

    def repeat_callers(self, period: Period, limit: int) -> tuple[int, list[tuple[str, int, str]]]:
        params = [OPENED, stamp(period.start), stamp(period.end)]
        repeated = self.view.query(
            f"SELECT caller_key, COUNT(*) AS n FROM {self.table} WHERE kind = ? AND at >= ? AND at < ? "
            "AND caller_key IS NOT NULL GROUP BY caller_key HAVING COUNT(*) >= 2",
            params,
        )
        return len(repeated), self._listed(period, repeated, limit)

    def _listed(self, period: Period, repeated: list[dict[str, Any]], limit: int) -> list[tuple[str, int, str]]:
        """The ``limit`` callers with most cases, each with the services they called about."""
        params = [OPENED, stamp(period.start), stamp(period.end)]
        top = sorted(repeated, key=lambda row: (-int(row["n"]), row["caller_key"]))[:limit]
        found = []
        for row in top:
            services = self.view.query(
                f"SELECT service_code FROM {self.table} WHERE caller_key = ? AND kind = ? AND at >= ? AND at < ? "
                "ORDER BY at",
                [row["caller_key"], *params],
            )
            codes = ",".join(dict.fromkeys(s["service_code"] for s in services))
            found.append((row["caller_key"], int(row["n"]), codes))
        return found


class DailyCounts(FactCounts):
    """The same counts summed from the daily totals (``hv_report_days``, kept by the reports view):
    a month is at most 31 days of small rows, however many cases it had. Repeat callers (who called
    twice is not a sum of days): a calendar month's from the cases per caller and month
    (``hv_report_callers``), any other period's an indexed query on the facts."""

    def __init__(self, models: ReadModels):
        super().__init__(models)
        self.days = self.view.table(DAYS.name)

    def _sums(self, period: Period, kind: str | None = None) -> list[dict[str, Any]]:
        where, params = "day >= ? AND day <= ?", [period.first.isoformat(), period.last.isoformat()]
        if kind is not None:
            where, params = f"{where} AND kind = ?", [*params, kind]
        return self.view.query(
            f"SELECT kind, dimension, value, SUM(n) AS n FROM {self.days} WHERE {where} "
            "GROUP BY kind, dimension, value",
            params,
        )

    def flows(self, period: Period) -> dict[str, int]:
        found = {row["kind"]: int(row["n"]) for row in self._sums(period) if row["dimension"] == TOTAL}
        return {kind: found.get(kind, 0) for kind in FLOW_NAMES if kind != "overdue"}

    def opened_by(self, period: Period) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {column: {} for column in OPENED_DIMENSIONS}
        for row in self._sums(period, OPENED):
            if row["dimension"] in found and int(row["n"]):
                found[row["dimension"]][row["value"]] = int(row["n"])
        return found

    def services_opened(self, period: Period) -> dict[str, int]:
        return self.opened_by(period)["service_code"]

    def repeat_callers(self, period: Period, limit: int) -> tuple[int, list[tuple[str, int, str]]]:
        """A calendar month's from the cases per caller and month; any other period from the facts."""
        first, last = period.first, period.last
        whole_month = first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month
        if not whole_month or first.year != last.year:
            return super().repeat_callers(period, limit)
        repeated = self.view.query(
            f"SELECT caller_key, n FROM {self.view.table(CALLERS.name)} WHERE month = ? AND n >= 2",
            [f"{first:%Y-%m}"],
        )
        return len(repeated), self._listed(period, repeated, limit)


def _counts(found: dict[str, int], names: dict[str, str] | None = None, name_of: Any = None) -> list[Count]:
    rows = [
        Count(key, (names or {}).get(key) or (name_of(key) if name_of else key) or "（未填）", n)
        for key, n in found.items()
    ]
    return sorted(rows, key=lambda c: (-c.count, c.key))


def compile_report(
    models: ReadModels, period: Period, now: datetime | None = None, counts: FactCounts | None = None
) -> Report:
    """The report for ``period`` as of ``now`` (the application's clock by default), counted from
    the daily totals (``counts``: ``FactCounts(models)`` scans the facts instead, the reference)."""
    rules = models.rules
    moment = now or models.app.clock.now()
    counts = counts or DailyCounts(models)
    flows = counts.flows(period)
    opened_by = counts.opened_by(period)
    by_service = opened_by["service_code"]
    majors: dict[str, int] = {}
    minors: dict[str, int] = {}
    for code, n in by_service.items():
        service = rules.services.get(code)  # a code the catalogue no longer (or not yet) knows: 目录外
        major, minor = (service.major, service.minor_path) if service else (OUTSIDE_CATALOGUE, OUTSIDE_CATALOGUE)
        majors[major] = majors.get(major, 0) + n
        minors[minor] = minors.get(minor, 0) + n
    judged_at = min(moment, period.end)
    opened = {"opened_from": period.start, "opened_to": period.end}
    _, overdue = models.cases.search(limit=0, overdue_at=judged_at, **opened)
    flows["overdue"] = overdue
    metrics_month = f"{period.last:%Y-%m}"
    departments = models.metrics(metrics_month, now=moment)
    summed = {key: sum(int(getattr(row, key)) for row in departments) for key in COUNTS.values()}
    city_rates = {RATE_NAMES[key]: value for key, value in rules.metrics.rates_of(summed).items()}
    before = counts.services_opened(period.before())
    rising = sorted(
        (Rising(code, rules.service_name(code), n, before.get(code, 0)) for code, n in by_service.items()),
        key=lambda r: (-r.change, -r.now, r.key),
    )
    repeat_total, repeat_top = counts.repeat_callers(period, 10)
    urgent, urgent_total = models.cases.search(limit=LEADER_LIMIT, urgent=True, **opened)
    red_hours = rules.notifications.settings.red_card_hours
    red, red_total = models.cases.search(limit=LEADER_LIMIT, overdue_at=moment - timedelta(hours=red_hours))
    total = sum(by_service.values())
    hotspots = Hotspots(models)
    days = min((period.last - period.first).days + 1, 7)
    return Report(
        period=period,
        generated_at=moment,
        total=total,
        by_channel=_counts(opened_by["channel"], CHANNELS),
        by_category=_counts(opened_by["category"], CATEGORIES),
        by_major=_counts(majors),
        by_minor=_counts(minors),
        by_service=_counts(by_service, name_of=rules.service_name),
        by_district=_counts(opened_by["district"]),
        by_department=_counts(opened_by["department"], {"": "未派单"}, rules.department_name),
        flows=flows,
        direct_answer_rate=round(100.0 * flows[ANSWERED] / flows[OPENED], 2) if flows[OPENED] else None,
        metrics_month=metrics_month,
        city_rates=city_rates,
        departments=departments,
        rising=[r for r in rising if r.change > 0][:10],
        repeat_callers=repeat_total,
        top_repeat_callers=[RepeatCaller(key[:8], n, _names(services, rules)) for key, n, services in repeat_top],
        urgent=urgent,
        urgent_total=urgent_total,
        red_card=red,
        red_card_total=red_total,
        red_card_hours=red_hours,
        topics=hotspots.rising(judged_at, days=days),
        clusters=hotspots.clusters(judged_at),
        telephony=models.telephony.figures(period.start, period.end, moment),
    )


def _names(codes: str, rules: Any) -> str:
    return "、".join(rules.service_name(code) for code in codes.split(",") if code)


def summary_lines(report: Report) -> Iterable[str]:
    """The report in a few plain lines (the e-mail body, the CLI's echo)."""
    yield report.period.title
    yield f"诉求总量 {report.total} 件；" + "，".join(f"{FLOW_NAMES[k]} {v}" for k, v in report.flows.items())
    if report.direct_answer_rate is not None:
        yield f"直办率 {report.direct_answer_rate:.2f}%"
    rates = "，".join(
        f"{name} {'—' if value is None else f'{value:.2f}%'}" for name, value in report.city_rates.items()
    )
    yield f"{report.metrics_month} 三率：{rates}"
    if report.rising:
        yield "上升最快：" + "、".join(f"{r.name}（{r.before}→{r.now}）" for r in report.rising[:5])
    yield (
        f"重复来电人 {report.repeat_callers} 位；紧急工单 {report.urgent_total} 件；"
        f"超期逾 {report.red_card_hours:g} 小时 {report.red_card_total} 件"
    )
