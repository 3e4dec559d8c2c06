"""Steps for features/cooperation.feature, on both stores, on a simulated clock."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import SimulatedClock
from hotline.domain.case import Call
from hotline.infra.bootstrap import bootstrap
from hotline.web.filters import percent
from tests.conftest import OPERATOR_ACTOR, department_code, department_named, make_config
from tests.features.story import ClockedStory, moment, rates_of

scenarios("cooperation.feature")


class Story(ClockedStory):
    def __init__(self, services, clock: SimulatedClock):
        super().__init__(services, clock)
        self.models = services.read_models
        self.tickets: list[str] = []
        self.metrics: dict = {}

    @property
    def ticket(self) -> str:
        return self.tickets[0]

    def parts(self, rules, name: str) -> dict:
        self.models.catch_up()
        rows, total = self.models.cooperation_inbox(department_code(rules, name))
        assert total == len(rows)
        return {row.ticket_no: row for row in rows}


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(store, tmp_path, request):
    clock = SimulatedClock(moment("2025-10-09 09:00"))
    services = bootstrap(make_config(store, tmp_path, request), clock)
    yield Story(services, clock)
    services.close()


def dispatched_and_signed(story, rules, service: str, lead: str) -> str:
    code = next(c for c, s in rules.services.items() if s.name == service)
    call = Call(channel="phone", category="complaint", service_code=code, description="商铺门前占道经营，夜间音响扰民")
    ticket = story.hotline.open_case(call, OPERATOR_ACTOR).ticket_no
    story.hotline.dispatch(ticket, OPERATOR_ACTOR, department=department_code(rules, lead))
    story.hotline.sign(ticket, department_named(rules, lead))
    return ticket


@given(parsers.parse('"{when}"话务员受理了一个关于"{service}"的投诉来电，派给"{lead}"，当日签收'))
def opened(story, rules, when, service, lead):
    story.at(when)
    story.lead, story.service = lead, service
    story.tickets.append(dispatched_and_signed(story, rules, service, lead))


@when(parsers.parse('"{when}"派单中心指定"{name}"为协办单位'))
def assign(story, rules, when, name):
    story.at(when)
    story.hotline.assign_cooperation(story.ticket, OPERATOR_ACTOR, [department_code(rules, name)], "门前占道经营")


@then(parsers.parse('"{name}"的协办工单中有这件工单，主办单位是"{lead}"，协办状态是"{state}"，答复期限是"{due}"'))
def listed(story, rules, name, lead, state, due):
    part = story.parts(rules, name)[story.ticket]
    assert rules.department_name(part.lead_department) == lead
    assert part.state_name == state
    assert part.reply_by is not None and part.reply_by.strftime("%Y-%m-%d %H:%M") == due


@then(parsers.parse('"{name}"的待办中这件工单显示"{shown}"'))
def lead_sees(story, rules, name, shown):
    story.models.catch_up()
    rows, _ = story.models.inbox(department_code(rules, name))
    row = next(row for row in rows if row.ticket_no == story.ticket)
    outstanding = f"待报送 {row.parts_outstanding} 家" if row.parts_outstanding else "均已报送"
    assert f"协办 {row.cooperating} 家，{outstanding}" == shown


@then(parsers.parse('"{name}"的协办工单中没有这件工单'))
def not_listed(story, rules, name):
    assert story.ticket not in story.parts(rules, name)


@when(parsers.parse('"{when}""{name}"签收协办'))
def sign_part(story, rules, when, name):
    story.at(when)
    story.hotline.sign_part(story.ticket, department_named(rules, name))


@when(parsers.parse('"{when}""{name}"报送协办情况"{content}"'))
def report_part(story, rules, when, name, content):
    story.at(when)
    story.hotline.report_part(story.ticket, department_named(rules, name), content)


@then(parsers.parse('"{name}"的协办工单中这件工单的协办状态是"{state}"'))
def part_state(story, rules, name, state):
    assert story.parts(rules, name)[story.ticket].state_name == state


@when(parsers.parse('"{when}""{name}"以主办单位答复"{result}"'))
def lead_replies(story, rules, when, name, result):
    story.at(when)
    story.hotline.reply(story.ticket, department_named(rules, name), result, True)


@given(parsers.parse('这件工单和"{when}"受理的另外两件都指定"{name}"为协办单位，并已签收协办'))
def three_parts(story, rules, when, name):
    story.at(when)
    story.tickets += [dispatched_and_signed(story, rules, story.service, story.lead) for _ in range(2)]
    partner = department_named(rules, name)
    for ticket in story.tickets:
        story.hotline.assign_cooperation(ticket, OPERATOR_ACTOR, [partner.department], "门前占道经营")
        story.hotline.sign_part(ticket, partner)


@when(parsers.parse('"{when}""{name}"报送第 {number:d} 件的协办情况'))
def report_nth(story, rules, when, name, number):
    story.at(when)
    ticket = story.tickets[number - 1]
    assert story.hotline.get_case(ticket).reply_by.strftime("%Y-%m-%d %H:%M") == "2025-10-29 23:59"
    story.hotline.report_part(ticket, department_named(rules, name), "已查处门前占道经营")


@when(parsers.parse('"{when}"计算"{month}"的三率'))
def compute(story, when, month):
    story.at(when)
    story.models.catch_up()
    story.metrics = {row.department: row for row in story.models.metrics(month)}


@then(parsers.parse('"{name}"协办应报送 {due:d} 件，按时报送 {on_time:d} 件，协办按时报送率是 {rate}%'))
def part_figures(story, rules, name, due, on_time, rate):
    row = story.metrics[department_code(rules, name)]
    assert (row.parts_due, row.parts_on_time) == (due, on_time)
    assert f"{row.part_on_time_rate:.2f}" == rate


@then(parsers.parse('"{name}"没有协办任务，协办按时报送率显示为"{shown}"'))
def lead_has_none(story, rules, name, shown):
    row = story.metrics[department_code(rules, name)]
    assert (row.parts_due, row.part_on_time_rate) == (0, None)
    assert percent(row.part_on_time_rate) == shown  # what the ranking page shows, never None


@then("协办按时报送率不改变综合得分")
def not_in_the_score(story, rules):
    for row in story.metrics.values():
        assert row.score == rules.metrics.score(rates_of(row, {"part_on_time": None}))
        assert row.score == rules.metrics.score(rates_of(row, {"part_on_time": 100.0}))
