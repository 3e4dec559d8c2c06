"""The case aggregate counts the callback and dispatch deadlines with the rules it is given, from the
event's own moment, and records them on the event; given none, it records none."""

from datetime import datetime, time, timedelta

from hotline.domain.case import Call, Case
from hotline.domain.follow_up import FollowUpRules
from hotline.domain.handling import DispatchRules
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, department

HBJ = department("HBJ")
DISPATCH = DispatchRules(2, time(8, 30), time(17, 30))
FOLLOW_UP = FollowUpRules(callback_days=1, progress_days=5, minutes_days=3)
CALL = Call(channel="phone", category="complaint", service_code="noise", description="楼下噪音扰民")


def replied(calendar, at: datetime | None) -> Case:
    case = Case.open("20261231-000001", CALL, OPERATOR_ACTOR, dispatch=DISPATCH)
    case.dispatch(OPERATOR_ACTOR, "HBJ", sign_by=datetime.now(CHINA_TZ), reply_by=datetime.now(CHINA_TZ))
    case.sign(HBJ)
    case.reply(HBJ, "已处理", True, at=at, follow_up=FOLLOW_UP, calendar=calendar)
    return case


def test_the_deadlines_are_counted_from_the_event_s_own_moment(calendar):
    case = replied(calendar, None)  # no time given: the library's moment, the one the event bears
    opened, *_, reply = case.collect_events()
    assert opened.dispatch_by == DISPATCH.dispatch_due(opened.timestamp)
    due = FOLLOW_UP.callback_due(calendar, reply.timestamp)
    assert (reply.callback_by, reply.callback_by_provisional) == (due.at, due.provisional)
    assert (case.callback_by, case.callback_by_provisional) == (due.at, due.provisional)


def test_a_reply_on_new_year_s_eve_is_called_back_after_new_year_s_day_provisionally(calendar):
    case = replied(calendar, datetime(2026, 12, 31, 16, 0, tzinfo=CHINA_TZ))
    reply = case.collect_events()[-1]
    assert reply.callback_by == datetime(2027, 1, 4, 23, 59, 59, tzinfo=CHINA_TZ)
    assert reply.callback_by_provisional is True


def test_without_the_rules_nothing_is_recorded():
    case = Case.open("20261231-000002", CALL, OPERATOR_ACTOR)
    case.dispatch(OPERATOR_ACTOR, "HBJ", sign_by=datetime.now(CHINA_TZ), reply_by=datetime.now(CHINA_TZ))
    case.sign(HBJ)
    case.reply(HBJ, "已处理", True)
    opened, *_, reply = case.collect_events()
    assert opened.dispatch_by is None
    assert (reply.callback_by, reply.callback_by_provisional) == (None, False)


def test_the_events_that_put_a_case_in_the_dispatch_queue_record_its_dispatch_deadline():
    evening = datetime(2026, 12, 29, 19, 0, tzinfo=CHINA_TZ)  # after the working hours: the same day
    case = Case.open("20261229-000001", CALL, OPERATOR_ACTOR, at=evening, dispatch=DISPATCH)
    case.answer_directly(OPERATOR_ACTOR, "已当场解答", at=evening + timedelta(minutes=1))
    case.reopen(OPERATOR_ACTOR, "来电人再次来电", 30, at=evening + timedelta(minutes=5), dispatch=DISPATCH)
    opened, _, reopened = case.collect_events()
    end_of_day = datetime(2026, 12, 29, 23, 59, 59, tzinfo=CHINA_TZ)
    assert opened.dispatch_by == reopened.dispatch_by == end_of_day
