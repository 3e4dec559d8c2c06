"""Validation of intake messages: valid ones become domain values, anything else a clear reason."""

import json
from datetime import datetime

import pytest

from hotline.domain.workdays import CHINA_TZ
from hotline.intake.messages import InvalidMessage, Topics, district_of, parse_call, parse_reply

DISTRICTS = ("城东区", "城西区")


def call_message(**changes):
    message = {
        "schema": "hotline.call/1",
        "call_id": "phone-1",
        "received_at": "2025-10-09T09:30:00+08:00",
        "channel": "phone",
        "caller": {"name": "王芳", "phone": "13912345678"},
        "category": "complaint",
        "service_code": "street_vending",
        "address": "城东区解放路12号",
        "description": "学校门口流动摊贩占道经营",
        "urgency": "normal",
    }
    message.update(changes)
    return {k: v for k, v in message.items() if v is not ...}


def raw(message) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


def reason_for(value: bytes) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as info:
        parse_call(value, DISTRICTS)
    return info.value


def test_a_valid_call_becomes_a_call_with_its_district_and_time():
    parsed = parse_call(raw(call_message(extra_field="ignored", lat=30.2, long=120.1)), DISTRICTS)
    assert parsed.call.call_id == "phone-1" and parsed.call.district == "城东区"
    assert parsed.call.caller_name == "王芳" and (parsed.call.lat, parsed.call.long) == (30.2, 120.1)
    assert parsed.received_at == datetime(2025, 10, 9, 9, 30, tzinfo=CHINA_TZ) and parsed.received_at.tzinfo == CHINA_TZ


def test_received_at_in_another_offset_is_the_same_moment_in_china_time():
    parsed = parse_call(raw(call_message(received_at="2025-10-09T01:30:00+00:00")), DISTRICTS)
    assert parsed.received_at.hour == 9


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        (b"", "bad_json", "JSON"),
        (b"{not json", "bad_json", "JSON"),
        (b"\xff\xfe{}", "bad_encoding", "UTF-8"),
        (b"[1, 2]", "bad_json", "JSON 对象"),
        (raw(call_message(schema="hotline.call/2")), "unknown_schema", "schema"),
        (raw(call_message(channel="fax")), "unknown_code", "channel"),
        (raw(call_message(urgency="asap")), "unknown_code", "urgency"),
        (raw(call_message(service_code=42)), "invalid_field", "service_code"),
        (raw(call_message(category=["complaint"])), "invalid_field", "category"),
        (raw(call_message(description=...)), "missing_field", "description"),
        (raw(call_message(call_id=None)), "missing_field", "call_id"),
        (raw(call_message(call_id=42)), "invalid_field", "call_id"),
        (raw(call_message(caller="王芳")), "invalid_field", "caller"),
        (raw(call_message(caller={"name": "王芳"})), "missing_field", "phone"),
        (raw(call_message(lat="北纬30度", long=120.0)), "invalid_field", "lat"),
        (raw(call_message(lat=True, long=120.0)), "invalid_field", "lat"),
        (raw(call_message(lat=30.0)), "invalid_field", "经纬度"),
        (raw(call_message(received_at="2025-10-09T09:30:00")), "invalid_field", "时区"),
        (raw(call_message(received_at="yesterday")), "invalid_field", "ISO 8601"),
        (raw(call_message(description="   ")), "invalid_field", "诉求内容不能为空"),
        (raw(call_message(caller={"name": "王芳", "phone": "请回电"})), "invalid_field", "联系电话"),
        (b"{" + b" " * 70_000 + b"}", "too_large", "过大"),
    ],
)
def test_invalid_calls_are_refused_with_a_reason(value, code, words):
    error = reason_for(value)
    assert error.code == code
    assert words in error.reason


@pytest.mark.parametrize(
    ("changes", "service_code", "category"),
    [
        ({"service_code": "ufo"}, "ufo", "complaint"),
        ({"category": "praise"}, "street_vending", "praise"),
        ({"service_code": ..., "category": None}, "", ""),
    ],
)
def test_a_service_or_category_the_catalogue_lacks_is_kept_as_sent_for_classification(changes, service_code, category):
    """Not a dead letter: the call opens 待分类 with what the channel sent (application/cases.py)."""
    parsed = parse_call(raw(call_message(**changes)), DISTRICTS)
    assert (parsed.call.service_code, parsed.call.category) == (service_code, category)
    assert parsed.call.description == "学校门口流动摊贩占道经营" and parsed.call.caller_phone == "13912345678"
    assert len(parsed.call.unknown_to({"street_vending"})) == (service_code != "street_vending") + (
        category != "complaint"
    )


def test_district_comes_from_the_start_of_the_address_only():
    assert district_of("城西区建设路1号", DISTRICTS) == "城西区"
    assert district_of("解放路（靠近城东区）", DISTRICTS) == ""
    assert district_of("新城东区1号", ("城东区", "新城东区")) == "新城东区"


def reply_message(**changes):
    message = {
        "schema": "hotline.reply/1",
        "action_id": "a-1",
        "ticket_no": "20251009-000001",
        "action": "reply",
        "department": "CGJ",
        "at": "2025-10-10T10:00:00+08:00",
        "result": "已处理",
        "resolved": True,
    }
    message.update(changes)
    return raw({k: v for k, v in message.items() if v is not ...})


def test_a_reply_message_is_a_department_action():
    action = parse_reply(reply_message())
    assert (action.action, action.department, action.actor_id, action.resolved) == ("reply", "CGJ", "CGJ-system", True)
    extension = parse_reply(reply_message(action="request_extension", working_days=5, reason="需协调"))
    assert extension.working_days == 5 and extension.reason == "需协调"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"action": "close"}, "action"),
        ({"resolved": "yes"}, "resolved"),
        ({"result": ...}, "result"),
        ({"action": "return"}, "reason"),
        ({"action": "request_extension", "reason": "x", "working_days": 2.5}, "working_days"),
        ({"ticket_no": " "}, "ticket_no"),
        ({"at": ...}, "at"),
    ],
)
def test_invalid_reply_messages_are_refused(changes, words):
    with pytest.raises(InvalidMessage, match=words):
        parse_reply(reply_message(**changes))


def test_topic_names_can_carry_a_prefix():
    topics = Topics("t1.")
    assert topics.calls == "t1.hotline.calls"
    assert topics.dead_letter_topic("t1.hotline.replies") == "t1.hotline.replies.dlq"
    assert topics.partitions(3)["t1.hotline.calls.dlq"] == 1
