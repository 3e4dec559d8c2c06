"""Filing requests with a plain HTTP POST, as any Open311 client does."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from hotline.domain.actors import SYSTEM_ACTOR
from tests.store.open311.conftest import http

NOISE = {
    "service_code": "noise",
    "description": "小区广场舞音响每晚十点后仍很响",
    "lat": "30.2741",
    "long": "120.1551",
    "attribute[noise_source]": "square_dance",
    "first_name": "小明",
    "last_name": "王",
    "phone": "13912345678",
    "email": "wang.xiaoming@example.cn",
    "device_id": "device-1",
    "account_id": "acct-9",
}
PRIVATE = ("王小明", "小明", "13912345678", "wang.xiaoming@example.cn")


def post(root, fmt="json", **form):
    return http("POST", f"{root}/requests.{fmt}", form)


def test_a_post_creates_a_routed_case_and_never_echoes_the_caller(live_root, api_key, services):
    status, content_type, body = post(live_root, api_key=api_key, **NOISE)
    assert status == 200 and content_type.startswith("application/json")
    [answer] = json.loads(body)
    ticket = answer["service_request_id"]
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert "市生态环境局" in answer["service_notice"]

    case = services.app.get_case(ticket)
    assert (case.channel, case.category, case.service_code) == ("open311", "complaint", "noise")
    assert (case.caller_name, case.caller_phone) == ("王小明", "13912345678")
    assert case.opened_by == "open311:市民通 App"
    assert case.status == "dispatched" and case.department == "HBJ"
    assert "噪声来源：广场舞" in case.description and (case.lat, case.long) == (30.2741, 120.1551)

    for fmt in ("json", "xml"):
        status, _, single = http("GET", f"{live_root}/requests/{ticket}.{fmt}")
        assert status == 200
        assert not [word for word in PRIVATE if word in single + body]


def test_xml_answer_and_a_case_left_for_the_dispatch_centre(live_root, api_key, services):
    status, content_type, body = post(
        live_root, "xml", api_key=api_key, service_code="other", address_string="解放路 12 号", description="咨询"
    )
    assert status == 200 and content_type.startswith("text/xml")
    root = ElementTree.fromstring(body.encode())
    assert root.tag == "service_requests" and root[0].tag == "request"
    ticket = root.find("request/service_request_id").text
    case = services.app.get_case(ticket)
    assert case.status == "opened" and case.department is None  # no routing rule: a person decides
    assert "派单中心" in root.find("request/service_notice").text


def test_category_comes_from_the_data_file_or_the_request(live_root, api_key, services):
    _, _, body = post(live_root, api_key=api_key, service_code="social_security", address_id="A-17")
    case = services.app.get_case(json.loads(body)[0]["service_request_id"])
    assert case.category == "consult" and case.address == "地址编号 A-17"
    assert "未填写描述" in case.description
    _, _, body = post(
        live_root, api_key=api_key, service_code="social_security", address_id="A-17", **{"attribute[category]": "投诉"}
    )
    assert services.app.get_case(json.loads(body)[0]["service_request_id"]).category == "complaint"


def test_the_same_idempotency_key_gives_the_same_case(live_root, api_key):
    form = {"api_key": api_key, "service_code": "garbage", "address_string": "东门"}
    once = http("POST", f"{live_root}/requests.json", form, {"Idempotency-Key": "retry-1"})
    again = http("POST", f"{live_root}/requests.json", form, {"Idempotency-Key": "retry-1"})
    assert json.loads(once[2])[0]["service_request_id"] == json.loads(again[2])[0]["service_request_id"]


@pytest.mark.parametrize(
    ("changes", "sent"),
    [
        ({"service_code": "pothole"}, ("pothole", "complaint")),
        ({"attribute[category]": "gossip"}, ("noise", "gossip")),
    ],
)
def test_a_service_or_category_the_catalogue_lacks_creates_a_request_to_classify(
    live_root, api_key, services, changes, sent
):
    """Not a 400: the request is created, 待分类 in the dispatch centre's queue, with what was sent."""
    status, _, body = post(live_root, api_key=api_key, **{**NOISE, **changes})
    assert status == 200
    [answer] = json.loads(body)
    assert "待分类" in answer["service_notice"]
    case = services.app.get_case(answer["service_request_id"])
    assert case.status == "unclassified" and case.department is None
    assert (case.service_code, case.category) == sent
    assert case.description.startswith(NOISE["description"]) and case.caller_phone == "13912345678"
    assert [ticket for ticket, _ in _dispatch_queue(services)] == [case.ticket_no]


def _dispatch_queue(services):
    services.read_models.catch_up()
    rows, total = services.read_models.cases.dispatch_queue(50)
    assert total == len(rows)
    return [(row.ticket_no, row.status) for row in rows]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"service_code": ""}, "缺少 service_code"),
        ({"lat": "", "long": ""}, "须提供位置"),
        ({"long": ""}, "lat 和 long 必须同时提供"),
        ({"lat": "91"}, "lat 必须是"),
        ({"lat": "nan"}, "lat 必须是"),
        ({"description": "长" * 4001}, "description 不能超过 4000"),
        ({"attribute[noise_source]": ""}, "attribute[noise_source]（噪声来源）为必填项"),
        ({"attribute[noise_source]": "rocket"}, "不在可选项中"),
        ({"phone": "call me"}, "联系电话格式不正确"),
    ],
)
def test_bad_requests_get_the_spec_error_list(live_root, api_key, changes, message):
    status, _, body = post(live_root, api_key=api_key, **{**NOISE, **changes})
    assert status == 400
    [error] = json.loads(body)
    assert error["code"] == 400 and message in error["description"]


def test_missing_unknown_and_revoked_keys_are_refused(live_root, services):
    app = services.app
    issued = app.issue_api_key("旧客户端", SYSTEM_ACTOR)
    assert post(live_root, api_key=issued.key, **NOISE)[0] == 200
    app.revoke_api_key(str(issued.id), SYSTEM_ACTOR)
    for form in ({}, {"api_key": "not-a-key"}, {"api_key": issued.key}):
        status, content_type, body = post(live_root, "xml", **{**NOISE, **form})
        assert status == 403 and content_type.startswith("text/xml")
        error = ElementTree.fromstring(body.encode())
        assert error.tag == "errors" and error.find("error/code").text == "403"


def test_posts_beyond_the_bucket_get_429(open311_app, api_key):
    from hotline.web.open311.ratelimit import TokenBucketLimiter

    open311_app.extensions["open311"].limiter = TokenBucketLimiter(capacity=2, per_minute=1)
    client = open311_app.test_client()
    form = {"api_key": api_key, "service_code": "other", "address_string": "西门"}
    statuses = [client.post("/open311/v2/requests.json", data=form).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    answer = client.post("/open311/v2/requests.json", data=form)
    assert answer.json[0]["code"] == 429 and int(answer.headers["Retry-After"]) > 0
