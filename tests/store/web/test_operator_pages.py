"""The operator's desk: log a call, see the case and its timeline; bad input is a clear 400."""

import re

import pytest

CALL = {
    "channel": "phone",
    "caller_phone": "13800138000",
    "caller_name": "赵六",
    "category": "complaint",
    "urgency": "normal",
    "service_code": "noise",
    "district": "城东区",
    "address": "解放路 12 号",
    "description": "楼下酒吧深夜音乐声音过大",
}


def log_call(browser, **changes):
    return browser.post("/calls/new", {**CALL, **changes}, follow_redirects=True)


def test_log_a_call_and_see_its_case_and_timeline(signed_in):
    operator = signed_in("operator")
    assert "受理来电" in operator.get("/operator").text
    response = log_call(operator)
    assert response.status_code == 200
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", response.text).group(1)
    assert f"工单 {ticket}" in response.text and "待派单" in response.text
    assert "楼下酒吧深夜音乐声音过大" in response.text
    assert "话务员 operator" in response.text
    assert "派单规则建议：市生态环境局" in response.text


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"description": ""}, "请填写诉求内容"),
        ({"caller_phone": "abc"}, "联系电话格式不正确"),
        ({"service_code": "nope"}, "不是有效的选"),
        ({"channel": "pigeon"}, "不是有效的选"),
        ({"description": "字" * 4001}, "不能超过 4000 个字"),
    ],
)
def test_bad_input_is_a_clear_400_and_stores_nothing(signed_in, web_services, changes, message):
    response = log_call(signed_in("operator"), **changes)
    assert response.status_code == 400
    assert "请检查标红的内容" in response.text and message in response.text
    assert list(web_services.app.case_ids()) == []


def test_unknown_ticket_is_404_in_chinese(signed_in):
    operator = signed_in("operator")
    response = operator.get("/cases/20250101-000001")
    assert response.status_code == 404 and "不存在" in response.text
    assert operator.get("/cases/../../etc/passwd").status_code == 404


def test_missing_csrf_token_is_refused(signed_in, web_services):
    operator = signed_in("operator")
    response = operator.client.post("/calls/new", data=CALL)
    assert response.status_code == 400 and "表单已过期" in response.text
    assert list(web_services.app.case_ids()) == []
