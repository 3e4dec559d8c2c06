"""The calendar of a year whose arrangement is not published: the statutory holidays of
《全国年节及纪念日放假办法》 (2024), no make-up days, every deadline on it provisional. Properties
over every such year, and the dates of 2027 checked by hand against the lunar calendar."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.workdays import CHINA_TZ
from hotline.infra.statutory_holidays import LAST_YEAR, statutory_holidays

UNPUBLISHED = st.integers(min_value=2027, max_value=LAST_YEAR - 1)


def test_2027_by_hand():
    days = statutory_holidays(2027)
    assert days[date(2027, 1, 1)] == "元旦"
    assert [d for d, name in sorted(days.items()) if name == "春节"] == [date(2027, 2, d) for d in (5, 6, 7, 8)]
    assert days[date(2027, 4, 5)] == "清明节"
    assert days[date(2027, 6, 9)] == "端午节" and days[date(2027, 9, 15)] == "中秋节"
    assert [d for d, name in sorted(days.items()) if name in ("劳动节", "国庆节")] == [
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    ]


@given(UNPUBLISHED)
def test_every_year_has_the_thirteen_days_in_their_seasons(year):
    days = statutory_holidays(year)
    names = list(days.values())
    assert len(days) in (12, 13)  # 中秋 may fall on 1–3 October
    assert names.count("春节") == 4 and names.count("劳动节") == 2 and names.count("元旦") == 1
    spring = sorted(d for d, name in days.items() if name == "春节")
    assert date(year, 1, 20) <= spring[0] <= date(year, 2, 19)  # 除夕 between 20 Jan and 19 Feb
    assert [b - a for a, b in itertools.pairwise(spring)] == [timedelta(days=1)] * 3
    (qingming,) = (d for d, name in days.items() if name == "清明节")
    assert date(year, 4, 3) <= qingming <= date(year, 4, 6)


@settings(max_examples=200, deadline=None)
@given(
    year=UNPUBLISHED,
    day_of_year=st.integers(min_value=0, max_value=364),
    hour=st.integers(min_value=0, max_value=23),
    days=st.integers(min_value=1, max_value=30),
)
def test_a_deadline_in_an_unpublished_year_skips_every_statutory_holiday_and_is_provisional(
    calendar, year, day_of_year, hour, days
):
    start = datetime.combine(date(year, 1, 1) + timedelta(days=day_of_year), time(hour), CHINA_TZ)
    due = calendar.add_working_days(start, days)
    holidays = statutory_holidays(due.at.year) | statutory_holidays(start.year)
    assert due.provisional
    assert due.at.date() not in holidays and due.at.weekday() < 5  # it ends on a working day
    assert calendar.working_days_between(start.date(), due.at.date()) == days  # exactly N working days
    for step in range(1, (due.at.date() - start.date()).days):
        day = start.date() + timedelta(days=step)
        if day in holidays:
            assert not calendar.is_workday(day)  # no make-up day is invented either
