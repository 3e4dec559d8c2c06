"""The dispatch form and the service picker in a real browser: nothing is dispatched by a stale or
a default choice."""

import json
import re
import urllib.parse
import urllib.request

import pytest

from hotline.infra.demo import DEMO_USERS
from tests.support.live import chromium, hotline, live_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = {username: password for username, password, *_ in DEMO_USERS}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-dispatch")
    hotline(data_dir, "demo", "--cases", "10")
    return data_dir


@pytest.fixture(scope="module")
def api_key(data_dir):
    """An Open311 client's key, issued before the server starts."""
    return hotline(data_dir, "apikey", "create", "--name", "浏览器测试").stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(data_dir, api_key):
    with live_server(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def operator(server):
    with chromium() as browser:
        yield sign_in(browser, server, "operator", PASSWORD["operator"])


def picked(page) -> str:
    return page.eval_on_selector("select[name=service_code]", "select => select.value")


def shown(page) -> list[str]:
    """The services the picker still lists (their values), the blank choice left out."""
    return page.eval_on_selector_all(
        "select[name=service_code] option", "options => options.filter(o => o.value && !o.hidden).map(o => o.value)"
    )


def test_the_service_picker_searches_names_and_keywords_and_keeps_no_stale_choice(operator, server):
    operator.goto(server + "/calls/new")
    assert picked(operator) == ""  # nothing is chosen before the operator searches or picks
    operator.fill("#service-filter", "停电")
    assert picked(operator) == "power_outage"
    operator.fill("#service-filter", "外星人")  # nothing in the catalogue: the earlier choice must go
    assert picked(operator) == ""
    assert operator.is_visible("#service-no-match") and shown(operator) == []
    operator.fill("#service-filter", "油烟")
    assert picked(operator) == "cooking_fumes"
    assert (
        operator.eval_on_selector("select[name=service_code]", "s => s.selectedOptions[0].textContent")
        == "生态环境 › 大气污染 › 餐饮油烟"
    )  # the 细项 with its path
    operator.fill("#service-filter", "社保")
    assert picked(operator) == "social_security"  # by its name, not 欠薪讨薪 of the same 大类
    operator.fill("#service-filter", "医疗")
    assert picked(operator) == "medical_service"  # 医疗服务, not 医保报销 of the 小类 医疗保障
    assert not operator.is_visible("#service-no-match")
    operator.fill("#service-filter", "供暖")  # two 细项 name it alike: the operator chooses, not the picker
    assert picked(operator) == "" and shown(operator) == ["heating_cold", "heating_fee"]
    assert "有 2 项匹配" in operator.inner_text("#service-ambiguous")


def test_the_service_picker_finds_the_services_of_a_minor_category_by_its_name(operator, server):
    operator.goto(server + "/calls/new")
    operator.fill("#service-filter", "停电")
    assert picked(operator) == "power_outage"
    operator.fill("#service-filter", "环卫")  # the 小类 市容环卫: no 细项 is named so
    assert picked(operator) == ""  # three of them: nothing chosen, the stale 供电故障 gone
    assert shown(operator) == ["garbage", "public_toilet", "construction_waste"]
    texts = operator.eval_on_selector_all(
        "select[name=service_code] option",
        "options => options.filter(o => o.value && !o.hidden).map(o => o.textContent)",
    )
    assert texts == [
        "城市管理 › 市容环卫 › 垃圾清运",
        "城市管理 › 市容环卫 › 公共厕所",
        "城市管理 › 市容环卫 › 渣土撒漏",
    ]
    assert operator.is_visible("#service-ambiguous") and not operator.is_visible("#service-no-match")
    operator.fill("#service-filter", "特种设备")  # a 小类 with one 细项 selects it
    assert picked(operator) == "elevator_safety"
    assert not operator.is_visible("#service-ambiguous")


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


def test_a_case_held_for_classification_is_classified_with_the_same_picker(operator, server, api_key):
    """An Open311 request with a code the catalogue lacks opens 待分类; the operator finds the service
    by typing, and the case goes where the routing rules send that 细项."""
    form = {
        "api_key": api_key,
        "service_code": "fumes_from_restaurant",  # not a code of rules/services.csv
        "address_string": "城西区解放路 12 号",
        "description": "楼下烧烤店油烟直排，窗户都不能开",
    }
    request = urllib.request.Request(
        server + "/open311/v2/requests.json", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        ticket = json.loads(response.read().decode("utf-8"))[0]["service_request_id"]
    operator.goto(f"{server}/cases/{ticket}")
    select = "form.action-classify select[name=classify-service_code]"
    box = "form.action-classify input.service-filter"
    assert operator.eval_on_selector(select, "s => s.value") == ""  # what the channel sent is not in the catalogue
    operator.fill(box, "供暖")  # two alike: nothing chosen
    assert operator.eval_on_selector(select, "s => s.value") == ""
    assert operator.is_visible("form.action-classify .service-ambiguous")
    operator.fill(box, "外星人")
    assert operator.is_visible("form.action-classify .service-no-match")
    operator.fill(box, "油烟")
    assert operator.eval_on_selector(select, "s => s.value") == "cooking_fumes"
    operator.select_option("form.action-classify select[name=classify-category]", "complaint")
    operator.click("form.action-classify button[type=submit]")
    operator.wait_for_selector("text=已分类")
    assert "市城市管理综合执法局" in operator.inner_text("dl")  # 城西区: the city-wide rule of 餐饮油烟
