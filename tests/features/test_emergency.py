"""Steps for features/emergency.feature, on both stores, through the in-process bus (a channel
without a person routes by the rules in the same save)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pytest_bdd import parsers, scenarios, then, when

from hotline.application import clocked
from hotline.domain.emergency import HANDOFF_OUTCOMES
from hotline.domain.workdays import CHINA_TZ
from hotline.intake.messages import CALL_SCHEMA, Topics
from hotline.projections.read_models import DEADLINE_KINDS
from tests.conftest import OPERATOR_ACTOR, department_named

scenarios("emergency.feature")
DAY = "2026-03-10"


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"{DAY}T{clock}:00").replace(tzinfo=CHINA_TZ)


class Story:
    def __init__(self, services):
        self.services = services
        self.ticket = ""


@pytest.fixture(autouse=True)
def story(services):
    return Story(services)


def _call(story, rules, clock: str, district: str, service: str, urgency: str) -> None:
    code = next(c for c, s in rules.services.items() if s.name == service)
    message = {
        "schema": CALL_SCHEMA,
        "call_id": f"emergency-{clock}-{code}",
        "received_at": at(clock).isoformat(),
        "channel": "phone",
        "caller": {"name": "李四", "phone": "13700001111"},
        "category": "help",
        "service_code": code,
        "address": f"{district}人民路1号",
        "description": f"{service}，请尽快处理",
        "urgency": urgency,
    }
    clocked(story.services.app, at(clock))  # the call arrives as it is made
    outcome = story.services.bus.send(Topics().calls, json.dumps(message, ensure_ascii=False).encode())
    assert outcome.created == 1, outcome.dead_letters
    story.ticket = story.services.app.ticket_for_call(message["call_id"])


@when(parsers.parse('{clock} "{district}"的来电人反映"{service}"'))
def emergency_call(story, rules, clock, district, service):
    _call(story, rules, clock, district, service, "normal")


@when(parsers.parse('{clock} "{district}"的来电人反映"{service}"，紧急程度为紧急'))
def urgent_call(story, rules, clock, district, service):
    _call(story, rules, clock, district, service, "urgent")


@then(parsers.parse("这件工单进入紧急队列，须在 {clock} 前转警"))
def in_the_emergency_queue(story, clock):
    story.services.read_models.catch_up()
    rows, _ = story.services.read_models.emergencies()
    assert [row.ticket_no for row in rows] == [story.ticket]
    assert rows[0].handoff_by == at(clock)


@when(parsers.parse('{clock} 话务员转"{desk}"，结果是"{outcome}"'))
def hand_off(story, clock, desk, outcome):
    code = next(c for c, name in HANDOFF_OUTCOMES.items() if name == outcome)
    clocked(story.services.app, at(clock)).hand_off(story.ticket, OPERATOR_ACTOR, desk, f"{desk} 指挥中心", code)


def _queue(story, clock: str, kind_name: str):
    kind = next(k for k, name in DEADLINE_KINDS.items() if name == kind_name)
    story.services.read_models.catch_up()
    rows, _ = story.services.read_models.deadline_queue(at(clock), kinds=[kind])
    return {row.reference: row.overdue for row in rows}


@then(parsers.parse('{clock} 期限预警中有这件工单的"{kind}"，尚未超期'))
def queued_in_time(story, clock, kind):
    assert _queue(story, clock, kind) == {story.ticket: False}


@then(parsers.parse('{clock} 期限预警中有这件工单的"{kind}"，已经超期'))
def queued_overdue(story, clock, kind):
    assert _queue(story, clock, kind) == {story.ticket: True}


@then(parsers.parse('{clock} 期限预警中没有这件工单的"{kind}"'))
def not_queued(story, clock, kind):
    assert story.ticket not in _queue(story, clock, kind)


@then(parsers.parse('工单派给了"{name}"，须在 {clock} 前阶段性反馈'))
def routed_with_interim(story, rules, name, clock):
    case = story.services.app.get_case(story.ticket)
    assert rules.department_name(case.department) == name and case.interim_by == at(clock)


@when(parsers.parse('{clock} "{name}"签收并阶段性反馈"{content}"'))
def interim_feedback(story, rules, clock, name, content):
    actor = department_named(rules, name)
    clocked(story.services.app, at(clock)).sign(story.ticket, actor)
    clocked(story.services.app, at(clock)).give_interim_feedback(story.ticket, actor, content)
