"""Steps for features/knowledge_base.feature, on both stores."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import clocked
from hotline.domain.actors import EDITOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import DomainError
from hotline.domain.knowledge import ArticleContent
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, department_code, department_named

scenarios("knowledge_base.feature")
EDITOR_ACTOR = Actor("kb-01", EDITOR)


class Story:
    def __init__(self, services):
        self.services = services
        self.number = ""
        self.ticket = ""
        self.moment = datetime(2026, 3, 10, 10, 0, tzinfo=CHINA_TZ)
        self.hits: list = []
        self.refusal: DomainError | None = None


@pytest.fixture(autouse=True)
def story(services):
    return Story(services)


def _content(title: str, question: str, until: str, services=("housing_fund",)) -> ArticleContent:
    return ArticleContent(
        title=title,
        question=question,
        answer="购买本市自住住房的，凭购房合同和身份证到服务网点或手机应用申请提取。",
        basis="《住房公积金管理条例》第二十四条",
        basis_no="国务院令第710号",
        services=services,
        valid_from=date(2025, 1, 1),
        valid_until=date.fromisoformat(until),
    )


@given(parsers.parse('"{name}"起草了条目"{title}"，问题是"{question}"，有效期至"{until}"'))
def drafted(story, rules, name, title, question, until):
    actor = department_named(rules, name)
    article = story.services.app.draft_article(actor, actor.department, _content(title, question, until))
    story.services.app.submit_article(article.number, actor)
    story.number = article.number


@given("知识库编辑审核发布了这个条目")
def published(story):
    story.services.app.publish_article(story.number, EDITOR_ACTOR)


@when(parsers.parse('{day} 来电人咨询"{text}"'))
def consulted(story, day, text):
    story.moment = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=CHINA_TZ)
    call = Call(channel="phone", category="consult", service_code="housing_fund", description=text)
    story.ticket = clocked(story.services.app, story.moment).open_case(call, OPERATOR_ACTOR).ticket_no
    story.services.read_models.catch_up()
    story.hits = story.services.read_models.suggest_articles(text, now=story.moment)


@then(parsers.parse('推荐的第一个条目是"{title}"'))
def first_suggestion(story, title):
    assert story.hits[0].title == title


@then("没有推荐的条目")
def no_suggestion(story):
    assert story.hits == []


@when("话务员引用这个条目直接答复")
def answered(story):
    clocked(story.services.app, story.moment).answer_from_article(story.ticket, OPERATOR_ACTOR, story.number)


@when("来电人不认可答复，工单重启")
def reopened(story):
    clocked(story.services.app, story.moment).reopen(story.ticket, OPERATOR_ACTOR, "按口径办理被窗口退回")


@then("工单记下了引用的条目和第 1 版")
def recorded(story):
    assert story.services.app.get_case(story.ticket).article["number"] == story.number
    assert story.services.app.get_case(story.ticket).article["revision"] == 1


@then(parsers.parse("条目被引用 {uses:d} 次，重启占比为 {share:d}"))
def counted(story, uses, share):
    story.services.read_models.catch_up()
    row = story.services.read_models.knowledge.get(story.number)
    assert row.uses == uses and (row.reopened_share or 0) == share


@then(parsers.parse('"{name}"的待更新条目中有"{title}"'))
def stale(story, rules, name, title):
    rows = story.services.read_models.knowledge.expired(department_code(rules, name), story.moment.date())
    assert [row.title for row in rows] == [title]


@when(parsers.parse('"{name}"为"{service}"起草条目'))
def drafting_elsewhere(story, rules, name, service):
    actor = department_named(rules, name)
    code = next(c for c, s in rules.services.items() if s.name == service)
    try:
        story.services.app.draft_article(actor, actor.department, _content("条目", "问题", "2026-12-31", (code,)))
    except DomainError as error:
        story.refusal = error


@then(parsers.parse('起草被拒绝，提示"{text}"'))
def refused(story, text):
    assert story.refusal is not None and text in str(story.refusal)
