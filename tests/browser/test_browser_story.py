"""One whole story in a real browser (Debian's chromium, headless), and the department-scope denial."""

import re

import pytest

from hotline.infra.demo import DEMO_USERS
from tests.support.live import chromium, hotline, live_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = {username: password for username, password, *_ in DEMO_USERS}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser")
    hotline(data_dir, "demo", "--cases", "30")
    with live_server(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def login(browser, server, username):
    return sign_in(browser, server, username, PASSWORD[username])


def test_call_to_closure_and_the_supervisor_sees_the_timeline(browser, server):
    operator = login(browser, server, "operator")
    operator.goto(server + "/calls/new")
    operator.fill("input[name=caller_phone]", "13912340000")
    operator.fill("input[name=caller_name]", "周女士")
    operator.select_option("select[name=category]", "complaint")
    operator.fill("#service-filter", "噪音")
    operator.select_option("select[name=service_code]", "noise")
    operator.fill("input[name=address]", "城西区建设路 8 号")
    operator.fill("textarea[name=description]", "小区门口烧烤店每晚营业到凌晨，油烟和噪音扰民")
    operator.keyboard.press("Control+Enter")
    operator.wait_for_url(re.compile(r"/cases/\d{8}-\d{6}$"))
    ticket = operator.url.rsplit("/", 1)[1]
    assert "派单规则建议：市生态环境局" in operator.content()
    operator.click("form.action-dispatch button[type=submit]")
    operator.wait_for_selector("text=已派单")

    department = login(browser, server, "hbj")
    department.goto(server + "/department")
    row = department.locator("tr", has_text=ticket)
    row.locator("button", has_text="签收").click()
    department.wait_for_selector("text=已签收")
    department.fill("form.action-reply textarea[name=reply-result]", "已责令烧烤店安装油烟净化器并在22点前停止营业")
    department.check("form.action-reply input[value=yes]")
    department.click("form.action-reply button[type=submit]")
    department.wait_for_selector("text=已答复")

    operator.goto(f"{server}/cases/{ticket}")
    callback = operator.locator("form.action-callback")
    assert callback.locator("input:checked").count() == 0  # no preset answer: the form records what the caller said
    callback.locator("input[name=callback-reached][value=yes]").check()
    callback.locator("input[name=callback-contacted_first][value=yes]").check()
    callback.locator("input[name=callback-resolved][value=yes]").check()
    callback.locator("input[name=callback-satisfaction][value=satisfied]").check()
    operator.click("form.action-callback button[type=submit]")
    operator.wait_for_selector("text=已记录回访")
    operator.click("form.action-close button[type=submit]")
    operator.wait_for_selector("text=工单已办结")

    supervisor = login(browser, server, "supervisor")
    supervisor.goto(f"{server}/audit/cases/{ticket}")
    steps = supervisor.locator("ol.timeline strong").all_inner_texts()
    assert steps == ["受理", "派单", "签收", "答复", "回访", "办结"]
    actors = supervisor.locator("ol.timeline .what .muted").all_inner_texts()
    assert actors[2] == "承办单位 hbj" and actors[0] == "话务员 operator"


def test_a_department_cannot_open_another_departments_case(browser, server):
    operator = login(browser, server, "operator")
    operator.goto(server + "/calls/new")
    operator.fill("input[name=caller_phone]", "13700002222")
    operator.select_option("select[name=service_code]", "noise")
    operator.fill("textarea[name=description]", "广场舞音响声音过大")
    operator.click("#call-form button[type=submit]")
    operator.wait_for_url(re.compile(r"/cases/\d{8}-\d{6}$"))
    ticket = operator.url.rsplit("/", 1)[1]
    operator.click("form.action-dispatch button[type=submit]")
    operator.wait_for_selector("text=已派单")

    other = login(browser, server, "cgj")
    response = other.goto(f"{server}/cases/{ticket}")
    assert response.status == 404
    assert "页面不存在" in other.content() and "广场舞" not in other.content()


def test_a_consultation_typed_by_the_operator_is_answered_from_the_suggested_article(browser, server):
    operator = login(browser, server, "operator")
    operator.goto(server + "/operator")
    operator.fill("input[name=caller_phone]", "13912348888")
    operator.select_option("select[name=category]", "consult")
    operator.select_option("select[name=service_code]", "housing_fund")
    operator.locator("textarea[name=description]").press_sequentially("来电人咨询公积金怎么提", delay=40)
    suggestion = operator.locator("#kb-panel .kb-article").first
    suggestion.wait_for()
    assert suggestion.locator(".kb-title").inner_text() == "住房公积金提取"
    assert operator.url.endswith("/operator")  # no page reload while typing
    suggestion.locator("button.kb-use").click()
    operator.wait_for_url(re.compile(r"/cases/\d{8}-\d{6}$"))
    page = operator.content()
    assert "已直接答复" in page and "引用知识库条目" in page and "第 1 版" in page
