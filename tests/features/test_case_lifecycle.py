"""Steps for features/case_lifecycle.feature, run on both stores."""

from datetime import datetime, timedelta

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import clocked
from hotline.domain.case import EVENT_NAMES, Call
from hotline.domain.catalogue import SATISFACTION, code_for
from hotline.domain.errors import DomainError
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department_code, department_named

scenarios("case_lifecycle.feature")


class Story:
    """What the scenario has done so far: the ticket, the clock, the last refusal."""

    def __init__(self, hotline):
        self.hotline = hotline
        self.ticket = ""
        self.clock = datetime(2025, 9, 30, 16, 0, tzinfo=CHINA_TZ)
        self.refusal: DomainError | None = None

    def tick(self) -> datetime:
        self.clock += timedelta(minutes=30)
        return self.clock

    def attempt(self, command):
        try:
            command()
        except DomainError as error:
            self.refusal = error


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(hotline):
    return Story(hotline)


@given(parsers.parse('话务员在"{start}"受理了一个关于"{service}"的投诉来电'))
def opened(story, rules, start, service):
    code = next(c for c, s in rules.services.items() if s.name == service)
    story.clock = datetime.fromisoformat(start).replace(tzinfo=CHINA_TZ)
    call = Call(
        channel="phone",
        category="complaint",
        service_code=code,
        description="晚上十点后商铺喇叭噪音扰民",
        caller_name="王五",
        caller_phone="13700001111",
        district="城西区",
    )
    story.ticket = clocked(story.hotline, story.clock).open_case(call, OPERATOR_ACTOR).ticket_no


@given("话务员按派单规则派单")
@when("话务员按派单规则派单")
def dispatch(story):
    clocked(story.hotline, story.clock).dispatch(story.ticket, OPERATOR_ACTOR)


@when(parsers.parse('话务员改派给"{name}"'))
def redispatch(story, rules, name):
    clocked(story.hotline, story.tick()).dispatch(
        story.ticket, OPERATOR_ACTOR, department=department_code(rules, name), note="经审核属该单位职责"
    )


@given(parsers.parse('"{name}"签收工单'))
@when(parsers.parse('"{name}"签收工单'))
def sign(story, rules, name):
    story.attempt(lambda: clocked(story.hotline, story.tick()).sign(story.ticket, department_named(rules, name)))


@given(parsers.parse('"{name}"答复"{result}"，问题已解决'))
@when(parsers.parse('"{name}"答复"{result}"，问题已解决'))
def reply(story, rules, name, result):
    clocked(story.hotline, story.tick()).reply(story.ticket, department_named(rules, name), result, True)


@when(parsers.parse('"{name}"未签收就答复"{result}"'))
def reply_unsigned(story, rules, name, result):
    story.attempt(
        lambda: clocked(story.hotline, story.tick()).reply(story.ticket, department_named(rules, name), result, True)
    )


@when(parsers.parse('"{name}"退单，理由是"{reason}"'))
def return_case(story, rules, name, reason):
    clocked(story.hotline, story.tick()).return_case(story.ticket, department_named(rules, name), reason, "权责清单")


@when("派单中心同意退单")
def approve_return(story):
    clocked(story.hotline, story.tick()).approve_return(story.ticket, OPERATOR_ACTOR)


@when(parsers.parse('"{name}"申请延期 {days:d} 个工作日，理由是"{reason}"'))
def request_extension(story, rules, name, days, reason):
    story.attempt(
        lambda: clocked(story.hotline, story.tick()).request_extension(
            story.ticket, department_named(rules, name), days, reason
        )
    )


@when("督办员同意延期")
def approve(story):
    clocked(story.hotline, story.tick()).approve_extension(story.ticket, SUPERVISOR_ACTOR)


@given(parsers.parse('话务员回访，来电人"{satisfaction}"'))
@when(parsers.parse('话务员回访，来电人"{satisfaction}"'))
def callback(story, satisfaction):
    code = code_for(SATISFACTION, satisfaction)
    clocked(story.hotline, story.tick()).record_callback(
        story.ticket, OPERATOR_ACTOR, True, code, code != "dissatisfied", contacted_first=True
    )


@given("话务员办结工单")
@when("话务员办结工单")
def close(story):
    story.attempt(lambda: clocked(story.hotline, story.tick()).close_case(story.ticket, OPERATOR_ACTOR))


@when(parsers.parse('话务员重启工单，理由是"{reason}"'))
def reopen(story, reason):
    clocked(story.hotline, story.tick()).reopen(story.ticket, OPERATOR_ACTOR, reason)


@then(parsers.parse('工单派给了"{name}"'))
def assigned_to(story, rules, name):
    assert rules.department_name(story.hotline.get_case(story.ticket).department) == name


@then(parsers.parse('签收期限是"{sign_by}"，办理期限是"{reply_by}"'))
def deadlines(story, sign_by, reply_by):
    case = story.hotline.get_case(story.ticket)
    assert case.sign_by.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") == sign_by
    assert case.reply_by.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") == reply_by


@then(parsers.parse('办理期限是"{reply_by}"'))
def reply_deadline(story, reply_by):
    assert story.hotline.get_case(story.ticket).reply_by.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") == reply_by


@then(parsers.parse('工单状态是"{status}"'))
def status_is(story, status):
    assert story.hotline.get_case(story.ticket).status_name == status


@then(parsers.parse('办理过程依次是"{steps}"'))
def history(story, steps):
    events = story.hotline.case_events(story.ticket)
    assert "、".join(EVENT_NAMES[type(e)] for e in events) == steps


@then("每一步都记录了操作人和时间")
def recorded_actor_and_time(story):
    for event in story.hotline.case_events(story.ticket):
        assert event.actor_id and event.actor_role and event.timestamp.tzinfo is not None


@then(parsers.parse('操作被拒绝，提示"{text}"'))
def refused(story, text):
    assert story.refusal is not None and text in str(story.refusal)
