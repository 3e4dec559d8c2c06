"""Steps for features/deadlines.feature."""

from pytest_bdd import given, parsers, scenarios, then, when

from hotline.domain.workdays import WORKING
from tests.features.story import moment

scenarios("deadlines.feature")


@given(parsers.re(r'派单时间是"(?P<start>[^"]+)"（星期.）'), target_fixture="start")
def start_at(start):
    return moment(start)


@when(parsers.parse("办理时限为 {days:d} 个工作日"), target_fixture="due")
def working_days(calendar, start, days):
    return calendar.add_working_days(start, days)


@when(parsers.parse("签收时限为 {hours:g} 小时，按{clock}计时"), target_fixture="due")
def hours_limit(calendar, start, hours, clock):
    return calendar.add_hours(start, hours, WORKING if clock == "工作时间" else "natural")


@when("按时限表派出一件一般投诉", target_fixture="due")
def table_sign_limit(rules, calendar, start):
    return rules.time_limits.deadlines(calendar, "complaint", "normal", start).sign_by


@then(parsers.re(r'(办理|签收)期限是"(?P<expected>[^"]+)"'))
def due_is(due, expected):
    assert due.at == moment(expected)


@then("期限不是暂定的")
def not_provisional(due):
    assert not due.provisional


@then("期限是暂定的")
def provisional(due):
    assert due.provisional
