"""The knowledge base on both stores: Chinese search over the demo articles, validity, direct
answers citing an article, and the figures the article shows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.actors import EDITOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import DomainError
from hotline.domain.knowledge import ArticleContent
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo.knowledge import ARTICLES, load_knowledge_demo
from tests.conftest import OPERATOR_ACTOR, department

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=CHINA_TZ)
EDITOR_ACTOR = Actor("kb-01", EDITOR)


@pytest.fixture
def knowledge(services):
    demo = load_knowledge_demo(services.app, NOW)
    services.read_models.catch_up()
    return demo


def titles(rows):
    return [row.title for row in rows]


def test_a_caller_asking_how_to_take_out_the_housing_fund_finds_the_withdrawal_article_first(services, knowledge):
    hits = services.read_models.search_articles("公积金怎么提取", now=NOW)
    assert hits[0].title == "住房公积金提取"
    assert all("公积金" in title for title in titles(hits[:3])), titles(hits)
    assert hits[0].score > hits[-1].score or len(hits) == 1


def test_synonyms_and_an_unfinished_word_still_find_the_article(services, knowledge):
    models = services.read_models
    # 社保 is written 社会保险 in the article's title: the synonym rule joins them.
    assert models.search_articles("社保转到外地怎么办", now=NOW)[0].title == "社会保险关系转移（跨省）"
    # As the operator types: the last word is still unfinished.
    assert models.suggest_articles("居住证怎么办", now=NOW)[0].title == "居住证办理"
    assert models.suggest_articles("异地就医备", now=NOW)[0].title == "异地就医备案"
    assert models.search_articles("的 了 吗", now=NOW) == []  # stop words only: nothing to look for


def test_an_article_past_its_valid_until_date_leaves_search_and_waits_for_an_update(services, knowledge):
    models = services.read_models
    expired_title = ARTICLES[11].title  # 社保缴费记录查询, valid until the day before NOW
    assert expired_title not in titles(models.search_articles("社保缴费记录查询", now=NOW))
    the_day_before = NOW - timedelta(days=1)
    assert expired_title in titles(models.search_articles("社保缴费记录查询", now=the_day_before))
    assert [row.title for row in models.knowledge.expired("RSJ", NOW.date())] == [expired_title]


def test_drafts_reviews_and_withdrawn_articles_are_not_found(services, knowledge):
    models = services.read_models
    assert "停电报修和停电查询" not in titles(models.search_articles("停电报修", now=NOW))  # a draft
    assert "社会保障卡办理和补换" not in titles(models.search_articles("社保卡丢了怎么补", now=NOW))  # withdrawn


def test_a_direct_answer_citing_an_article_records_it_and_counts_a_use(services, knowledge):
    app, models = services.app, services.read_models
    article = models.search_articles("公积金怎么提取", now=NOW)[0]
    call = Call(channel="phone", category="consult", service_code="housing_fund", description="咨询公积金怎么提取")
    ticket = clocked(app, NOW).open_case(call, OPERATOR_ACTOR).ticket_no
    case = clocked(app, NOW + timedelta(minutes=3)).answer_from_article(ticket, OPERATOR_ACTOR, article.number)
    assert case.status == "answered"
    assert case.article == {"id": str(app.get_article(article.number).id), "number": article.number, "revision": 1}
    assert case.answer == article.answer

    second = clocked(app, NOW).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(app, NOW + timedelta(minutes=5)).answer_from_article(second, OPERATOR_ACTOR, article.number)
    clocked(app, NOW + timedelta(days=1)).reopen(second, OPERATOR_ACTOR, "来电人按口径办理被窗口退回")
    models.catch_up()
    shown = models.knowledge.get(article.number)
    assert (shown.uses, shown.reopened, shown.reopened_share) == (2, 1, 50.0)
    assert models.cases.get(ticket).article_no == article.number


def test_a_revision_is_cited_by_its_new_number_once_published(services, knowledge):
    app, models = services.app, services.read_models
    number = models.search_articles("居住证办理", now=NOW)[0].number
    gaj = department("GAJ")
    article = app.get_article(number)
    revised = ArticleContent(
        **{**article.live.__dict__, "answer": "居住证可在“江州公安”手机应用在线申领，15 日内发证。"}
    )
    clocked(app, NOW).revise_article(number, gaj, revised, "开通线上申领")
    clocked(app, NOW).submit_article(number, gaj)
    call = Call(channel="phone", category="consult", service_code="household_registration", description="居住证")
    before = clocked(app, NOW).open_case(call, OPERATOR_ACTOR).ticket_no
    assert clocked(app, NOW).answer_from_article(before, OPERATOR_ACTOR, number).article["revision"] == 1
    clocked(app, NOW).publish_article(number, EDITOR_ACTOR)
    after = clocked(app, NOW).open_case(call, OPERATOR_ACTOR).ticket_no
    case = clocked(app, NOW).answer_from_article(after, OPERATOR_ACTOR, number)
    assert case.article["revision"] == 2 and case.answer.startswith("居住证可在")
    models.catch_up()
    assert models.search_articles("居住证办理", now=NOW)[0].answer.startswith("居住证可在")


def test_a_department_writes_only_for_its_own_services_and_an_expired_article_cannot_be_cited(services):
    app = services.app
    content = ArticleContent(
        title="噪声投诉",
        question="噪声扰民找谁",
        answer="转生态环境部门",
        basis="《中华人民共和国噪声污染防治法》",
        basis_no="主席令第104号",
        services=("noise",),
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 3, 1),
    )
    with pytest.raises(DomainError, match="不属于本单位"):
        clocked(app, NOW).draft_article(department("CGJ"), "CGJ", content)
    article = clocked(app, NOW).draft_article(department("HBJ"), "HBJ", content)
    clocked(app, NOW).submit_article(article.number, department("HBJ"))
    with pytest.raises(DomainError, match="不能审核发布"):
        clocked(app, NOW).publish_article(article.number, department("HBJ"))
    clocked(app, NOW).publish_article(article.number, EDITOR_ACTOR)
    call = Call(channel="phone", category="consult", service_code="noise", description="噪声")
    ticket = clocked(app, NOW).open_case(call, OPERATOR_ACTOR).ticket_no
    with pytest.raises(DomainError, match="不在有效期内"):
        clocked(app, NOW).answer_from_article(ticket, OPERATOR_ACTOR, article.number)
