"""What the public sees (rules/privacy.toml): an anonymous Open311 list holds none of the callers'
phones, names, ID numbers or house numbers, and no 举报 case; a key's scope decides what more a
partner may read, and never a caller's name or phone."""

from __future__ import annotations

import json

import pytest

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.web import create_app
from tests.conftest import OPERATOR_ACTOR, department

NAME, PHONE, OTHER_PHONE, ID_NUMBER = "欧阳晓明", "13912345678", "13698765432", "33010219800101123X"
MAIL, INFORMANT = "oyxm@example.com", "钱多多"

SEEDED = [
    Call(
        channel="phone",
        category="complaint",
        service_code="noise",
        description=(
            f"我叫{NAME}，身份证{ID_NUMBER}，楼下酒吧夜里太吵，回电 {OTHER_PHONE} 或邮件 {MAIL}，王先生也被吵醒"
        ),
        caller_name=NAME,
        caller_phone=PHONE,
        address="城东区解放路12号3单元501室",
        district="城东区",
        lat=30.274567,
        long=120.155123,
    ),
    Call(
        channel="phone",
        category="report",
        service_code="street_vending",
        description="举报解放路夜市有人无证经营，举报人要求保密",
        caller_name=INFORMANT,
        caller_phone="13511112222",
        address="城西区文三路8号",
        district="城西区",
    ),
    Call(channel="web", category="consult", service_code="garbage", description="垃圾分类投放时间是几点？"),
]


@pytest.fixture
def world(sqlite_services):
    app = sqlite_services.app
    tickets = [app.open_case(call, OPERATOR_ACTOR).ticket_no for call in SEEDED]
    app.dispatch(tickets[0], OPERATOR_ACTOR, "HBJ")
    app.sign(tickets[0], department("HBJ"))
    app.reply(tickets[0], department("HBJ"), f"已联系{NAME}（{PHONE}），酒吧已整改", resolved=True)
    client = create_app(sqlite_services, testing=True).test_client()
    return sqlite_services, client, tickets


def test_an_anonymous_list_holds_no_personal_detail_and_no_report(world):
    _, client, (complaint, report, consult) = world
    listed = client.get("/open311/v2/requests.json")
    assert listed.status_code == 200
    body = json.dumps(listed.json, ensure_ascii=False)
    for secret in (NAME, PHONE, OTHER_PHONE, ID_NUMBER, MAIL, INFORMANT, "12号", "3单元", "501室", "王先生", "8号"):
        assert secret not in body, secret
    assert {r["service_request_id"] for r in listed.json} == {complaint, consult}  # 举报 never
    shown = next(r for r in listed.json if r["service_request_id"] == complaint)
    assert shown["address"] == "城东区解放路"  # coarsened to the street
    assert (shown["lat"], shown["long"]) == (30.27, 120.16)  # about a kilometre
    assert "楼下酒吧夜里太吵" in shown["description"] and "酒吧已整改" in shown["status_notes"]
    assert client.get(f"/open311/v2/requests/{report}.json").status_code == 404  # as if it did not exist
    single = client.get(f"/open311/v2/requests/{complaint}.json").json[0]
    assert single["description"] == shown["description"] and NAME not in json.dumps(single, ensure_ascii=False)
    by_id = client.get(f"/open311/v2/requests.json?service_request_id={report},{complaint}").json
    assert [r["service_request_id"] for r in by_id] == [complaint]


def test_a_key_reads_what_its_scope_allows_and_never_a_caller(world):
    services, client, (complaint, report, consult) = world
    app = services.app
    own = app.issue_api_key("市民通 App", SYSTEM_ACTOR)
    hbj = app.issue_api_key("生态环境局系统", SYSTEM_ACTOR, scope="department:HBJ")
    everything = app.issue_api_key("市大数据局", SYSTEM_ACTOR, scope="all")
    filed = client.post(
        "/open311/v2/requests.json",
        data={"service_code": "garbage", "address_string": "解放路 3 号", "description": "垃圾桶满了"},
        headers={"X-API-Key": own.key},
    ).json[0]["service_request_id"]

    def read(key):
        answer = client.get("/open311/v2/requests.json", headers={"X-API-Key": key.key})
        assert answer.status_code == 200
        return {r["service_request_id"]: r for r in answer.json}

    assert set(read(own)) == {filed}
    assert set(read(hbj)) == {complaint}
    assert read(hbj)[complaint]["address"] == "城东区解放路12号3单元501室"  # a partner handling it needs it
    assert set(read(everything)) == {complaint, report, consult, filed}
    for key in (own, hbj, everything):
        body = json.dumps(read(key), ensure_ascii=False)
        # The caller's own fields never; numbers are not even in the read model (scrubbed when written).
        assert PHONE not in body and OTHER_PHONE not in body and INFORMANT not in body
    assert client.get(f"/open311/v2/requests/{report}.json", headers={"X-API-Key": hbj.key}).status_code == 404
    assert client.get(f"/open311/v2/requests/{report}.json", headers={"X-API-Key": everything.key}).status_code == 200
    assert client.get("/open311/v2/requests.json", headers={"X-API-Key": "not-a-key"}).status_code == 403


def test_a_scope_must_name_a_known_department(sqlite_services):
    from hotline.domain.errors import InvalidInput

    with pytest.raises(InvalidInput, match="未知承办单位"):
        sqlite_services.app.issue_api_key("某系统", SYSTEM_ACTOR, scope="department:NOSUCH")
    with pytest.raises(InvalidInput, match="密钥范围只能是"):
        sqlite_services.app.issue_api_key("某系统", SYSTEM_ACTOR, scope="everything")
