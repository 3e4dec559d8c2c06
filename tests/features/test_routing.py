"""Steps for features/routing.feature, run on both stores through the in-process bus."""

from __future__ import annotations

import json

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.domain.case import Call, Case
from hotline.domain.catalogue import CATEGORIES
from hotline.domain.errors import DomainError
from hotline.intake.messages import CALL_SCHEMA, Topics
from tests.conftest import OPERATOR_ACTOR

scenarios("routing.feature")


class Story:
    def __init__(self, services):
        self.services = services
        self.ticket = ""
        self.refusal: DomainError | None = None
        self.count = 0
        self.outcome = None


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(services):
    return Story(services)


def _service_code(rules, name: str) -> str:
    return next(code for code, service in rules.services.items() if service.name == name)


@given(parsers.parse('派单目录中"{name}"的位置是"{path}"'))
def catalogue_path(rules, name, path):
    assert rules.services[_service_code(rules, name)].path == path


def _message(story, district: str, **changes) -> dict:
    story.count += 1
    message = {
        "schema": CALL_SCHEMA,
        "call_id": f"routing-{story.count}",
        "received_at": story.services.clock.now().isoformat(),
        "channel": "wechat",
        "caller": {"name": "王五", "phone": "13700001111"},
        "category": "complaint",
        "address": f"{district}人民路{story.count}号",
        "description": "反映的问题",
        "urgency": "normal",
        **changes,
    }
    return {name: value for name, value in message.items() if value is not None}


def _send(story, message: dict):
    return story.services.bus.send(Topics().calls, json.dumps(message, ensure_ascii=False).encode())


def _through_intake(story, message: dict) -> None:
    outcome = _send(story, message)
    assert outcome.created == 1 and not outcome.dead_letters, outcome.dead_letters
    story.ticket = story.services.app.ticket_for_call(message["call_id"])


@when(parsers.parse('"{district}"的来电人反映"{service}"，来电从消息接口接入'))
def through_intake(story, rules, district, service):
    _through_intake(story, _message(story, district, service_code=_service_code(rules, service)))


@when(parsers.parse('"{district}"的来电人反映服务事项代码为"{code}"的问题，来电从消息接口接入'))
def unknown_service_through_intake(story, district, code):
    _through_intake(story, _message(story, district, service_code=code))


@when(parsers.parse('"{district}"的来电人反映"{service}"，诉求类别为"{category}"，来电从消息接口接入'))
def unknown_category_through_intake(story, rules, district, service, category):
    _through_intake(story, _message(story, district, service_code=_service_code(rules, service), category=category))


@when("一条没有诉求内容的来电消息从消息接口接入")
def without_description(story):
    story.outcome = _send(story, _message(story, "城西区", service_code="noise", description=None))


@then(parsers.parse('消息进入死信，代码为"{code}"'))
def dead_lettered(story, code):
    assert story.outcome.created == 0
    assert [letter.code for letter in story.outcome.dead_letters] == [code]


@then(parsers.parse('派单中心的待派单队列中有这件工单，渠道所报的服务事项代码"{code}"和诉求内容都在'))
def in_the_dispatch_queue(story, code):
    models = story.services.read_models
    models.catch_up()
    rows, total = models.dispatch_queue(50)
    assert total == len(rows) and [row.ticket_no for row in rows] == [story.ticket]
    assert (rows[0].status_name, rows[0].service_code, rows[0].description) == ("待分类", code, "反映的问题")
    case = story.services.app.get_case(story.ticket)
    assert (case.caller_name, case.caller_phone, case.address) == ("王五", "13700001111", "城西区人民路1号")


@when(parsers.parse('话务员把这件工单分类为"{service}"，诉求类别为"{category}"'))
def classify(story, rules, service, category):
    code = next(code for code, name in CATEGORIES.items() if name == category)
    story.services.app.classify(
        story.ticket, OPERATOR_ACTOR, _service_code(rules, service), code, note="来电人反映夜间噪声"
    )


@then(parsers.parse('工单记录了话务员的分类和渠道所报的"{code}"'))
def classification_recorded(story, code):
    events = story.services.app.case_events(story.ticket)
    [classified] = [event for event in events if isinstance(event, Case.Classified)]
    assert (classified.actor_id, classified.actor_role) == (OPERATOR_ACTOR.id, OPERATOR_ACTOR.role)
    assert classified.sent_service_code == code and events[0].service_code == code  # as the channel sent it
    models = story.services.read_models
    models.catch_up()
    assert models.cases.get(story.ticket).service_code == classified.service_code


@then(parsers.parse('这件工单还不能派单，提示"{text}"'))
def not_yet_dispatchable(story, text):
    with pytest.raises(DomainError, match=text):
        story.services.app.dispatch(story.ticket, OPERATOR_ACTOR, department="HBJ")


def _by_operator(story, district: str, service_code: str) -> None:
    call = Call(
        channel="phone",
        category="complaint",
        service_code=service_code,
        description="反映的问题",
        caller_name="王五",
        caller_phone="13700001111",
        district=district,
    )
    try:
        story.ticket = story.services.app.open_case(call, OPERATOR_ACTOR).ticket_no
    except DomainError as error:
        story.refusal = error


@when(parsers.parse('"{district}"的来电人反映"{service}"，由话务员受理'))
def by_operator(story, rules, district, service):
    _by_operator(story, district, _service_code(rules, service))


@when(parsers.parse('"{district}"的来电人反映服务事项代码为"{code}"的问题，由话务员受理'))
def unknown_service(story, district, code):
    _by_operator(story, district, code)


@then(parsers.parse('工单派给了"{name}"'))
def assigned_to(story, rules, name):
    assert rules.department_name(story.services.app.get_case(story.ticket).department) == name


@then("受理和派单在同一次保存中完成")
def one_save(story):
    opened, dispatched = story.services.app.case_events(story.ticket)
    assert opened.timestamp == dispatched.timestamp
    notifications = story.services.app.recorder.select_notifications(0, 10_000)
    ids = [n.id for n in notifications if n.originator_id == opened.originator_id]
    assert ids[1] == ids[0] + 1  # stored together: nothing of another case between them


@then(parsers.parse('工单状态是"{status}"'))
def status_is(story, status):
    assert story.services.app.get_case(story.ticket).status_name == status


@then(parsers.parse('派单建议是"{name}"'))
def suggestion(story, rules, name):
    case = story.services.app.get_case(story.ticket)
    assert rules.department_name(story.services.app.suggested_department(case)) == name


@then(parsers.parse('受理被拒绝，提示"{text}"'))
def refused(story, text):
    assert story.refusal is not None and text in str(story.refusal)
