"""The working-day calendar: China's holidays, make-up workdays, and years nobody has data for."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.errors import InvalidInput
from hotline.domain.workdays import CHINA_TZ, WORKING, WorkingDayCalendar
from hotline.infra.rule_files import RulesFileError, load_calendar


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_the_starting_day_does_not_count(calendar):
    # 3 working days from Tuesday 10:00 end on Friday.
    due = calendar.add_working_days(at("2025-11-04 10:00"), 3)
    assert due.at == at("2025-11-07 23:59:59")
    assert due.at.strftime("%A") == "Friday"
    assert not due.provisional


def test_national_day_and_a_makeup_saturday(calendar):
    # 10-01..10-08 are off; Saturday 10-11 is a make-up working day.
    due = calendar.add_working_days(at("2025-09-30 16:00"), 3)
    assert due.at == at("2025-10-11 23:59:59")


def test_makeup_sunday_before_national_day_counts(calendar):
    # Sunday 2025-09-28 is a make-up working day: Friday + 1 lands on it.
    assert calendar.add_working_days(at("2025-09-26 09:00"), 1).at.date() == date(2025, 9, 28)


def test_spring_festival_2026(calendar):
    # 02-15..02-23 off; Saturdays 02-14 and 02-28 are make-up working days.
    assert calendar.add_working_days(at("2026-02-13 09:00"), 1).at.date() == date(2026, 2, 14)
    assert calendar.add_working_days(at("2026-02-14 09:00"), 1).at.date() == date(2026, 2, 24)


def test_starting_on_a_rest_day(calendar):
    assert calendar.add_working_days(at("2025-11-08 12:00"), 1).at.date() == date(2025, 11, 10)


def test_zero_days_is_the_end_of_the_same_day(calendar):
    assert calendar.add_working_days(at("2025-11-04 10:00"), 0).at == at("2025-11-04 23:59:59")


def test_working_hours_pause_over_weekends_and_holidays(calendar):
    assert calendar.add_hours(at("2025-11-07 17:00"), 24, WORKING).at == at("2025-11-10 17:00")
    # Tuesday 2025-09-30 16:00: 8 hours that day, then the holiday, then 16 hours on 10-09.
    assert calendar.add_hours(at("2025-09-30 16:00"), 24, WORKING).at == at("2025-10-09 16:00")


def test_natural_hours_run_day_and_night(calendar):
    assert calendar.add_hours(at("2025-10-01 23:50"), 0.5).at == at("2025-10-02 00:20")


def test_naive_and_foreign_times_are_read_as_beijing_time(calendar):
    utc = datetime(2025, 11, 4, 17, 0, tzinfo=CHINA_TZ).astimezone(tz=None)
    assert calendar.add_working_days(utc, 1).at == at("2025-11-05 23:59:59")
    assert calendar.add_working_days(datetime(2025, 11, 4, 10), 1).at == at("2025-11-05 23:59:59")


def test_a_year_without_data_is_counted_with_the_statutory_holidays_and_provisional(calendar):
    assert not calendar.is_known(2027)
    due = calendar.add_working_days(at("2027-03-01 10:00"), 5)  # a Monday
    assert due.at == at("2027-03-08 23:59:59")
    assert due.provisional
    assert "暂定" in str(due)


def test_a_deadline_reaching_into_an_unknown_year_is_provisional(calendar):
    assert calendar.add_working_days(at("2026-12-30 10:00"), 5).provisional
    assert not calendar.add_working_days(at("2026-12-21 10:00"), 5).provisional


def test_the_city_file_adds_a_new_year_and_overrides_the_package(tmp_path):
    # Invented dates, for the test only: the real 2027 arrangement goes in rules/calendar.toml.
    data = tmp_path / "calendar.toml"
    data.write_text(
        """
[[years]]
year = 2027
holidays = [{ name = "测试假期", from = 2027-03-02, to = 2027-03-04 }]
makeup_workdays = [2027-03-06]

[[years]]
year = 2026
holidays = [{ name = "临时调整", from = 2026-11-27, to = 2026-11-27 }]
""",
        encoding="utf-8",
    )
    calendar = load_calendar(data)
    due = calendar.add_working_days(at("2027-03-01 10:00"), 3)
    assert due.at == at("2027-03-08 23:59:59")  # 03-05 Fri, 03-06 Sat (make-up), 03-08 Mon
    assert not due.provisional
    assert not calendar.is_workday(date(2026, 11, 27))
    assert calendar.holiday_name(date(2026, 11, 27)) == "临时调整"


def test_a_broken_city_file_is_a_clear_error(tmp_path):
    data = tmp_path / "calendar.toml"
    data.write_text("[[years]]\nyear = 2027\nholidays = [{ name = 'x', from = 'soon' }]\n", encoding="utf-8")
    with pytest.raises(RulesFileError, match="from/to"):
        load_calendar(data)


@pytest.mark.parametrize("days", [-1, 367, 1.5, True, "3"])
def test_nonsense_day_counts_are_refused(calendar, days):
    with pytest.raises(InvalidInput):
        calendar.add_working_days(at("2025-11-04 10:00"), days)


def test_a_date_cannot_be_both_holiday_and_workday():
    with pytest.raises(InvalidInput, match="2025-10-01"):
        WorkingDayCalendar({date(2025, 10, 1): "国庆"}, {date(2025, 10, 1): "调休"}, [2025])


def test_last_working_day_of_the_month(calendar):
    assert calendar.last_working_day_of_month(2025, 5) == date(2025, 5, 30)  # 5-31 is the Dragon Boat holiday
    assert calendar.last_working_day_of_month(2026, 1) == date(2026, 1, 30)


starts = st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2028, 12, 1)).map(
    lambda d: d.replace(tzinfo=CHINA_TZ)
)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=st.integers(min_value=1, max_value=40))
def test_counting_back_gives_the_same_number_of_working_days(calendar, start, days):
    due = calendar.add_working_days(start, days)
    assert calendar.is_workday(due.at.date())
    assert calendar.working_days_between(start.date(), due.at.date()) == days
    assert calendar.working_days_between(start.date(), due.at.date() - timedelta(days=1)) == days - 1


@settings(max_examples=200, deadline=None)
@given(start=starts, hours=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_working_hours_never_end_on_a_rest_day_and_never_come_early(calendar, start, hours):
    due = calendar.add_hours(start, hours, WORKING).at
    assert due >= start + timedelta(hours=hours) - timedelta(microseconds=1)
    if hours > 0 and due.time() != datetime.min.time():
        assert calendar.is_workday(due.date())
