"""Steps for features/privacy.feature, run on both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import clocked
from hotline.domain.actors import ADMIN, Actor
from hotline.domain.case import EVENT_NAMES, Call
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.store.audit_chain import verify
from tests.conftest import OPERATOR_ACTOR, department_code, department_named

scenarios("privacy.feature")
ADMIN_ACTOR = Actor("admin-li", ADMIN)


class Story:
    def __init__(self, services):
        self.services = services
        self.tickets: dict[str, str] = {}  # caller's name -> ticket
        self.ticket = ""
        self.reply_by: datetime | None = None
        self.figures: list = []


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(services):
    return Story(services)


def _handle(story, rules, at, district, name, phone, service, department, close):
    app = story.services.app
    code = next(c for c, s in rules.services.items() if s.name == service)
    handler = department_named(rules, department)
    call = Call(
        channel="phone",
        category="complaint",
        service_code=code,
        description=f"我是{name}，住{district}解放路12号，楼下噪声扰民，电话 {phone}",
        caller_name=name,
        caller_phone=phone,
        address=f"{district}解放路12号3单元501室",
        district=district,
    )
    ticket = clocked(app, at).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(app, at + timedelta(minutes=5)).dispatch(ticket, OPERATOR_ACTOR, department_code(rules, department))
    clocked(app, at + timedelta(minutes=30)).sign(ticket, handler)
    clocked(app, at + timedelta(hours=3)).reply(ticket, handler, "已责令整改", True)
    if close:
        clocked(app, at + timedelta(hours=5)).record_callback(
            ticket, OPERATOR_ACTOR, True, "satisfied", True, contacted_first=True
        )
        clocked(app, at + timedelta(hours=6)).close_case(ticket, OPERATOR_ACTOR)
    story.tickets[name], story.ticket = ticket, ticket
    story.reply_by = app.get_case(ticket).reply_by
    story.services.read_models.catch_up()


CALLER = '"{district}"的来电人"{name}"（{phone}）反映"{service}"，已派给"{department}"'


@given(parsers.parse("{day} " + CALLER + "并答复"))
def replied(story, rules, day, district, name, phone, service, department):
    at = datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=CHINA_TZ)
    _handle(story, rules, at, district, name, phone, service, department, close=False)
    story.figures = story.services.read_models.metrics(day[:7])


@given(parsers.parse("{day} " + CALLER + "并办结"))
def closed_long_ago(story, rules, day, district, name, phone, service, department):
    at = datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=CHINA_TZ)
    _handle(story, rules, at, district, name, phone, service, department, close=True)


@given(parsers.parse("办结还不满 3 年的" + CALLER.replace("的来电人", "来电人") + "并办结"))
def closed_lately(story, rules, district, name, phone, service, department):
    at = datetime.now(CHINA_TZ) - timedelta(days=400)
    _handle(story, rules, at, district, name, phone, service, department, close=True)


@when(parsers.parse('管理员以"{reason}"为由删除号码 {phone} 的个人信息'))
def erase_by_phone(story, reason, phone):
    models = story.services.read_models
    for row in models.caller_history(phone, limit=100):
        story.services.app.erase_personal_data(row.ticket_no, ADMIN_ACTOR, reason)
    models.catch_up()


@when("运行保存期限任务")
def retention(story):
    app, models = story.services.app, story.services.read_models
    for ticket in models.retention_due(app.rules.privacy.retention_cutoff(app.now())):
        app.erase_if_retention_over(ticket)
    models.catch_up()


@then(parsers.parse('这件工单的来电人姓名、联系电话、诉求内容和地址都显示"{shown}"'))
def shown_erased(story, shown):
    case = story.services.app.get_case(story.ticket)
    assert (case.caller_name, case.caller_phone, case.description, case.address) == (shown,) * 4
    row = story.services.read_models.cases.get(story.ticket)
    assert (row.description, row.address) == (shown, shown)


@then(parsers.parse("按号码 {phone} 查不到来电记录"))
def not_found_by_phone(story, phone):
    assert story.services.read_models.caller_history(phone) == []


@then(parsers.parse('这件工单仍由"{department}"承办，办理期限不变'))
def still_handled(story, rules, department):
    case = story.services.app.get_case(story.ticket)
    assert case.department == department_code(rules, department) and case.reply_by == story.reply_by


@then(parsers.parse("{month} 的考评数字与删除前相同"))
def same_figures(story, month):
    assert story.services.read_models.metrics(month) == story.figures


@then(parsers.parse('审计链核验通过，工单记录中有"{what}"和删除理由'))
def audited(story, what):
    services = story.services
    assert verify(services.app.recorder, services.config.audit_key_bytes()).intact
    events = services.app.case_events(story.ticket)
    [erasure] = [e for e in events if EVENT_NAMES.get(type(e)) == what]
    assert erasure.actor_id == ADMIN_ACTOR.id and "个人信息保护法第四十七条" in erasure.reason


@then(parsers.parse('{year} 年办结的工单个人信息已删除，理由写明"{reason}"'))
def erased_by_retention(story, year, reason):
    app = story.services.app
    [ticket] = [t for t in story.tickets.values() if t.startswith(year)]
    assert app.get_case(ticket).personal_data_erased
    [erasure] = [e for e in app.case_events(ticket) if EVENT_NAMES.get(type(e)) == "删除个人信息"]
    assert reason in erasure.reason and erasure.actor_role == "system"


@then(parsers.parse('来电人"{name}"的工单个人信息仍在'))
def kept(story, name):
    case = story.services.app.get_case(story.tickets[name])
    assert case.caller_name == name and not case.personal_data_erased
