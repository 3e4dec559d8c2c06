"""Time limits (限时办结) as data: per category and urgency, a signing limit and a reply limit.

The table itself lives in ``rules/time_limits.csv``; this module only applies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from hotline.domain.catalogue import CATEGORIES, URGENCIES
from hotline.domain.errors import InvalidInput
from hotline.domain.workdays import CLOCKS, Deadline, WorkingDayCalendar

WORKING_DAYS = "working_days"
HOURS = "hours"
UNITS = (WORKING_DAYS, HOURS)


def limit_end(calendar: WorkingDayCalendar, start: datetime, amount: int | float, unit: str, clock: str) -> Deadline:
    """When a limit of ``amount`` ``unit`` started at ``start`` ends: working days end at 24:00 of the
    last one (the start day not counted); hours run on ``clock``."""
    if unit == WORKING_DAYS:
        return calendar.add_working_days(start, int(amount))
    return calendar.add_hours(start, amount, clock)


@dataclass(frozen=True)
class TimeLimit:
    category: str
    urgency: str
    sign_amount: int | float
    sign_unit: str
    sign_clock: str
    reply_amount: int | float
    reply_unit: str
    reply_clock: str
    max_extension_days: int  # one request asks for at most this many working days
    max_extension_total: int  # all approved extensions of one case together
    basis: str = ""

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES or self.urgency not in URGENCIES:
            raise InvalidInput(f"时限表中的类别或紧急程度无效：{self.category}/{self.urgency}")
        if self.sign_clock not in CLOCKS or self.reply_clock not in CLOCKS:
            raise InvalidInput("时限表中的计时方式无效")
        if self.sign_unit not in UNITS or self.reply_unit not in UNITS:
            raise InvalidInput(f"时限表中的时限单位无效：{self.sign_unit}/{self.reply_unit}")
        if self.sign_amount <= 0 or self.reply_amount <= 0 or self.max_extension_days < 0:
            raise InvalidInput("时限必须为正数")
        if self.max_extension_total < self.max_extension_days:
            raise InvalidInput("累计延期上限不能小于每次最长延期")
        for amount, unit in ((self.sign_amount, self.sign_unit), (self.reply_amount, self.reply_unit)):
            if unit == WORKING_DAYS and int(amount) != amount:
                raise InvalidInput("以工作日计的时限必须是整数")


@dataclass(frozen=True)
class CaseDeadlines:
    sign_by: Deadline
    reply_by: Deadline

    @property
    def provisional(self) -> bool:
        return self.sign_by.provisional or self.reply_by.provisional


class TimeLimitTable:
    def __init__(self, limits: list[TimeLimit]):
        self._limits = {(limit.category, limit.urgency): limit for limit in limits}
        missing = [
            f"{CATEGORIES[c]}/{URGENCIES[u]}" for c in CATEGORIES for u in URGENCIES if (c, u) not in self._limits
        ]
        if missing:
            raise InvalidInput("时限表缺少：" + "、".join(missing))

    def __iter__(self) -> Iterator[TimeLimit]:
        return iter(self._limits.values())

    def limit_for(self, category: str, urgency: str) -> TimeLimit:
        try:
            return self._limits[(category, urgency)]
        except KeyError:
            raise InvalidInput(f"没有 {category}/{urgency} 的办理时限") from None

    def deadlines(
        self, calendar: WorkingDayCalendar, category: str, urgency: str, dispatched_at: datetime
    ) -> CaseDeadlines:
        """The department's clock starts when the case reaches it (派单时刻)."""
        limit = self.limit_for(category, urgency)
        return CaseDeadlines(
            sign_by=limit_end(calendar, dispatched_at, limit.sign_amount, limit.sign_unit, limit.sign_clock),
            reply_by=limit_end(calendar, dispatched_at, limit.reply_amount, limit.reply_unit, limit.reply_clock),
        )
