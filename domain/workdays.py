"""China's working-day calendar and the deadlines counted on it.

The holidays and make-up working days (调休) are passed in, FixMyStreet style: ``infra`` reads
them from the ``chinese-calendar`` package and the city's own data file. A year nobody has data
for gets only the statutory holidays fixed by law (``infra/statutory_holidays.py``, no make-up
days), and every deadline on it is marked provisional, never guessed silently.

Counting rule (民法典 第二百零一条): the day a time limit starts does not count; a limit of N
working days ends at the end (24:00, shown as 23:59:59) of the N-th working day after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.domain.errors import InvalidInput

CHINA_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)

NATURAL = "natural"  # 自然时间: the clock runs day and night, holidays included (urgent cases)
WORKING = "working"  # 工作时间: the clock runs only on working days
CLOCKS = (NATURAL, WORKING)

# No time limit in any rule is longer than a year; a bigger number is a typo, not a deadline.
MAX_WORKING_DAYS = 366
MAX_HOURS = 24 * 366


@dataclass(frozen=True)
class Deadline:
    """A due moment, and whether it rests on a year with no official holiday data."""

    at: datetime
    provisional: bool = False

    def isoformat(self) -> str:
        return self.at.isoformat()

    def __str__(self) -> str:
        suffix = "（暂定：该年度节假日安排尚未公布）" if self.provisional else ""
        return self.at.strftime("%Y-%m-%d %H:%M") + suffix


def as_china_time(moment: datetime) -> datetime:
    """Naive datetimes are Beijing time, as the hotline's users write them."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CHINA_TZ)
    return moment.astimezone(CHINA_TZ)


class WorkingDayCalendar:
    def __init__(
        self,
        holidays: Mapping[date, str],
        makeup_workdays: Mapping[date, str],
        known_years: Iterable[int],
    ):
        overlap = set(holidays) & set(makeup_workdays)
        if overlap:
            days = "、".join(sorted(d.isoformat() for d in overlap))
            raise InvalidInput(f"日期不能既是节假日又是调休工作日：{days}")
        self._holidays = dict(holidays)
        self._makeup_workdays = dict(makeup_workdays)
        self.known_years = frozenset(known_years)

    def is_known(self, year: int) -> bool:
        return year in self.known_years

    def is_workday(self, day: date) -> bool:
        if day in self._holidays:
            return False
        if day in self._makeup_workdays:
            return True
        return day.weekday() < 5

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """End of the ``days``-th working day after the day of ``start``."""
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_WORKING_DAYS:
            raise InvalidInput(f"工作日数必须是 0 到 {MAX_WORKING_DAYS} 之间的整数")
        start = as_china_time(start)
        day = start.date()
        provisional = False
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            provisional |= not self.is_known(day.year)
            if self.is_workday(day):
                counted += 1
        return Deadline(datetime.combine(day, END_OF_DAY, CHINA_TZ), provisional)

    def add_hours(self, start: datetime, hours: float, clock: str = NATURAL) -> Deadline:
        """``hours`` later; on the working clock only time on working days counts."""
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 <= hours <= MAX_HOURS:
            raise InvalidInput(f"小时数必须在 0 到 {MAX_HOURS} 之间")
        if clock not in CLOCKS:
            raise InvalidInput(f"未知计时方式：{clock}")
        start = as_china_time(start)
        if clock == NATURAL:
            return Deadline(start + timedelta(hours=hours))
        remaining = timedelta(hours=hours)
        moment = start
        provisional = False
        while True:
            day = moment.date()
            provisional |= not self.is_known(day.year)
            next_midnight = datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ)
            if self.is_workday(day):
                available = next_midnight - moment
                if remaining <= available:
                    return Deadline(moment + remaining, provisional)
                remaining -= available
            moment = next_midnight

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end is earlier)."""
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return sign * count

    def last_working_day_of_month(self, year: int, month: int) -> date:
        first_of_next = date(year + month // 12, month % 12 + 1, 1)
        day = first_of_next - timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day
