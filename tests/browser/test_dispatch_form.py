"""The dispatch form and the service picker in a real browser: nothing is dispatched by a stale or
a default choice."""

import re

import pytest

from hotline.infra.demo import DEMO_USERS
from tests.support.live import chromium, hotline, live_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = {username: password for username, password, *_ in DEMO_USERS}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-dispatch")
    hotline(data_dir, "demo", "--cases", "10")
    with live_server(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def operator(server):
    with chromium() as browser:
        yield sign_in(browser, server, "operator", PASSWORD["operator"])


def picked(page) -> str:
    return page.eval_on_selector("select[name=service_code]", "select => select.value")


def test_the_service_picker_searches_names_and_keywords_and_keeps_no_stale_choice(operator, server):
    operator.goto(server + "/calls/new")
    assert picked(operator) == ""  # nothing is chosen before the operator searches or picks
    operator.fill("#service-filter", "停电")
    assert picked(operator) == "power_outage"
    operator.fill("#service-filter", "油烟")  # not in the catalogue: the earlier choice must go
    assert picked(operator) == ""
    assert operator.is_visible("#service-no-match")
    operator.fill("#service-filter", "社保")
    assert picked(operator) == "social_security"  # by its name, not 欠薪讨薪 of the group 人力社保
    operator.fill("#service-filter", "医疗")
    assert picked(operator) == "medical_service"  # 医疗服务, not 医保报销 of the group 医疗保障
    assert not operator.is_visible("#service-no-match")


def test_the_dispatch_form_preselects_the_suggestion_or_nothing_and_a_redispatch_needs_a_reason(operator, server):
    operator.goto(server + "/calls/new")
    operator.fill("input[name=caller_phone]", "13912345678")
    operator.fill("#service-filter", "噪音")
    operator.fill("textarea[name=description]", "楼下商铺夜间播放音乐扰民")
    operator.click("#call-form button[type=submit]")
    operator.wait_for_url(re.compile(r"/cases/\d{8}-\d{6}$"))
    dispatch = "form.action-dispatch select[name=dispatch-department]"
    assert operator.eval_on_selector(dispatch, "s => s.value") == "HBJ"  # the routing suggestion
    operator.click("form.action-dispatch button[type=submit]")
    operator.wait_for_selector("text=已派单")
    # 待签收: the redispatch form chooses nothing, is not the highlighted step, and wants a reason.
    redispatch = "form.action-redispatch select[name=redispatch-department]"
    assert operator.eval_on_selector(redispatch, "s => s.value") == ""
    assert "primary" not in (operator.get_attribute("form.action-redispatch button[type=submit]", "class") or "")
    operator.select_option(redispatch, "CGJ")
    operator.click("form.action-redispatch button[type=submit]")
    operator.wait_for_selector("text=请填写改派理由")
    assert operator.eval_on_selector(redispatch, "s => s.value") == "CGJ"  # what was chosen is kept
    assert "市生态环境局" in operator.inner_text("dl")  # still with the department it was dispatched to
