"""The first pages: log a call, see the case and its timeline."""

import re

import pytest

from web import create_app


@pytest.fixture
def client(sqlite_services):
    app = create_app(sqlite_services, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def form(**changes):
    data = {"channel": "phone", "caller_phone": "13800138000", "caller_name": "赵六", "category": "complaint",
            "urgency": "normal", "service_code": "noise", "district": "城东区", "address": "解放路 12 号",
            "description": "楼下酒吧深夜音乐声音过大"}
    data.update(changes)
    return data


def test_log_a_call_and_see_its_case_and_timeline(client):
    page = client.get("/calls/new")
    assert page.status_code == 200 and "受理来电" in page.text
    response = client.post("/calls/new", data=form(), follow_redirects=True)
    assert response.status_code == 200
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", response.text).group(1)
    assert f"工单 {ticket}" in response.text and "待派单" in response.text
    assert "楼下酒吧深夜音乐声音过大" in response.text
    assert "受理" in response.text and "话务员 op-desk" in response.text
    assert ticket in client.get("/").text


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"description": ""}, "请填写诉求内容"),
        ({"caller_phone": "abc"}, "联系电话格式不正确"),
        ({"service_code": "nope"}, "不是有效的选项"),
        ({"channel": "pigeon"}, "不是有效的选项"),
        ({"description": "字" * 4001}, "不能超过 4000 个字"),
    ],
)
def test_bad_input_is_a_clear_400_and_stores_nothing(client, sqlite_services, changes, message):
    response = client.post("/calls/new", data=form(**changes))
    assert response.status_code == 400
    assert "请检查标红的内容" in response.text
    assert list(sqlite_services.app.case_ids()) == []


def test_unknown_ticket_is_404_in_chinese(client):
    response = client.get("/cases/20250101-000001")
    assert response.status_code == 404 and "不存在" in response.text
    assert client.get("/cases/../../etc/passwd").status_code == 404


def test_missing_csrf_token_is_refused(sqlite_services):
    app = create_app(sqlite_services, testing=True)
    response = app.test_client().post("/calls/new", data=form())
    assert response.status_code == 400 and "表单已过期" in response.text
    assert list(sqlite_services.app.case_ids()) == []
