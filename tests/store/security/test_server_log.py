"""A real ``hotline serve`` process, used as the hotline uses it: nothing personal or secret may
reach its log (the access log prints every URL, so nothing personal or secret may be in a URL)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DEMO_USERS, ensure_demo_users
from tests.support.servers import HttpSession, live_server  # noqa: F401 - fixture

PHONE, OTHER_PHONE, NAME = "13912345678", "13698765432", "欧阳晓明"
PASSWORDS = {username: password for username, password, *_ in DEMO_USERS}
WRONG_PASSWORD = "not-the-operators-password"


def test_no_phone_name_key_or_password_in_the_server_log(tmp_path, live_server):  # noqa: F811
    config = Config(data_dir=tmp_path / "data")
    built = bootstrap(config)
    ensure_demo_users(built.app, built.passwords)
    api_key = built.app.issue_api_key("日志测试", SYSTEM_ACTOR).key
    built.close()
    server = live_server(config)

    HttpSession(server.url).post("/login", {"username": "operator", "password": WRONG_PASSWORD})
    operator = HttpSession(server.url).login("operator", PASSWORDS["operator"])
    call = {
        "channel": "phone",
        "caller_phone": PHONE,
        "caller_name": NAME,
        "category": "complaint",
        "urgency": "normal",
        "service_code": "noise",
        "district": "城东区",
        "address": "解放路 1 号",
        "description": f"我叫{NAME}，晚上噪音太大，回电 {OTHER_PHONE}",
    }
    assert operator.post("/calls/new", call, token_from="/operator").status == 302
    history = operator.post(
        "/operator/caller-history", {"phone": PHONE, "service_code": "noise"}, token_from="/operator"
    )
    assert history.status == 200 and "来电历史" in history.text
    assert operator.post("/cases", {"phone": PHONE}, token_from="/cases").status == 200
    assert operator.post("/operator/kb-suggestions", {"q": call["description"]}, token_from="/operator").status == 200
    body = urllib.parse.urlencode(
        {"service_code": "garbage", "address_string": "解放路 2 号", "phone": OTHER_PHONE, "first_name": "晓明"}
    ).encode()
    request = urllib.request.Request(
        server.url + "/open311/v2/requests.json", data=body, headers={"X-API-Key": api_key}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200 and json.loads(answer.read())[0]["service_request_id"]
    server.stop()

    log = server.log()
    assert "POST /calls/new" in log and "POST /open311/v2/requests.json" in log  # the access log is on
    for secret in (PHONE, OTHER_PHONE, NAME, api_key, PASSWORDS["operator"], WRONG_PASSWORD):
        assert secret not in log, secret
