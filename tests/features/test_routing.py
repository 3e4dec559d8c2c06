"""Steps for features/routing.feature, run on both stores through the in-process bus."""

from __future__ import annotations

import json

import pytest
from pytest_bdd import parsers, scenarios, then, when

from hotline.domain.case import Call
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


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(services):
    return Story(services)


def _service_code(rules, name: str) -> str:
    return next(code for code, service in rules.services.items() if service.name == name)


@when(parsers.parse('"{district}"的来电人反映"{service}"，来电从消息接口接入'))
def through_intake(story, rules, district, service):
    story.count += 1
    message = {
        "schema": CALL_SCHEMA,
        "call_id": f"routing-{story.count}",
        "received_at": story.services.clock.now().isoformat(),
        "channel": "wechat",
        "caller": {"name": "王五", "phone": "13700001111"},
        "category": "complaint",
        "service_code": _service_code(rules, service),
        "address": f"{district}人民路{story.count}号",
        "description": "反映的问题",
        "urgency": "normal",
    }
    outcome = story.services.bus.send(Topics().calls, json.dumps(message, ensure_ascii=False).encode())
    assert outcome.created == 1, outcome.dead_letters
    story.ticket = story.services.app.ticket_for_call(message["call_id"])


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
