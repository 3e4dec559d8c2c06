"""The intake messages: topic names, the JSON schemas, and their validation (docs/messages.md).

Parsing turns raw bytes into domain values (``Call``, ``DepartmentAction``) or raises
``InvalidMessage`` with a Chinese reason a person can act on. Unknown extra fields are ignored;
a missing or invalid required field makes the whole message invalid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.case import Call
from hotline.domain.catalogue import CHANNELS, URGENCIES
from hotline.domain.errors import DomainError
from hotline.domain.workdays import as_china_time

CALLS = "hotline.calls"
CALLS_DLQ = "hotline.calls.dlq"
DISPATCH = "hotline.dispatch"
REPLIES = "hotline.replies"
REPLIES_DLQ = "hotline.replies.dlq"
TELEPHONY = "hotline.telephony"  # the call centre's switch (intake/telephony.py)

CALL_SCHEMA = "hotline.call/1"
REPLY_SCHEMA = "hotline.reply/1"
DISPATCH_SCHEMA = "hotline.dispatch/2"  # /2: the caller masked, and the case's 保密 flag (docs/messages.md)

ACTIONS = {"sign": "签收", "return": "退单", "request_extension": "申请延期", "reply": "答复"}
MAX_MESSAGE_BYTES = 64 * 1024
# Receipt times outside these years are typing or clock errors, not calls.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class InvalidMessage(Exception):
    """A message that can never be processed; ``code`` is stable, the text is for people."""

    def __init__(self, reason: str, code: str = "invalid_field"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


# Headers of a dead letter; its key and value are the original message's, byte for byte.
DLQ_REASON = "hotline-dlq-reason"
DLQ_CODE = "hotline-dlq-code"
DLQ_SOURCE = "hotline-dlq-source"  # topic/partition/offset of the original
DLQ_FAILED_AT = "hotline-dlq-failed-at"

# The header a department system's message on hotline.replies carries its key in (never the body:
# a dead letter keeps the original body, and only its own headers). docs/messages.md.
API_KEY_HEADER = "hotline-api-key"


def header(record: Any, name: str) -> str | None:
    """One header's value of a consumed record (Kafka or the in-process bus), as text."""
    for key, value in getattr(record, "headers", None) or ():
        if key == name and value is not None:
            return bytes(value).decode("utf-8", errors="replace")
    return None


@dataclass(frozen=True)
class Outgoing:
    """A message to publish: on Kafka, or on the in-process bus."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class CallMessage:
    call: Call
    received_at: datetime


@dataclass(frozen=True)
class DepartmentAction:
    """A department's action on a case, as sent by its own system on ``hotline.replies``."""

    action_id: str
    ticket_no: str
    action: str
    department: str
    actor_id: str
    at: datetime
    reason: str = ""
    basis: str = ""  # 退单依据 (the duty list, the regulation)
    working_days: int = 0
    result: str = ""
    resolved: bool = False


def decode_object(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise InvalidMessage("消息为空", "empty")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"消息过大：{len(raw)} 字节，上限 {MAX_MESSAGE_BYTES} 字节", "too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage("消息不是 UTF-8 编码的文本", "bad_encoding") from None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise InvalidMessage(f"消息不是合法的 JSON：{error}", "bad_json") from None
    if not isinstance(value, dict):
        raise InvalidMessage("消息必须是 JSON 对象", "bad_json")
    return value


def _required(message: dict[str, Any], name: str, kind: type | tuple[type, ...], label: str) -> Any:
    if name not in message or message[name] is None:
        raise InvalidMessage(f"缺少必填字段 {name}（{label}）", "missing_field")
    value = message[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise InvalidMessage(f"字段 {name}（{label}）类型错误：应为{_kind_name(kind)}，收到 {_json_type(value)}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "字符串", dict: "对象", int: "整数", float: "数字", bool: "true/false"}
    return "或".join(dict.fromkeys(names[k] for k in _kinds(kind)))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {str: "字符串", dict: "对象", list: "数组", int: "整数", float: "数字"}.get(
        type(value), type(value).__name__
    )


def _choice(message: dict[str, Any], name: str, label: str, choices: dict[str, str]) -> str:
    value = _required(message, name, str, label)
    if value not in choices:
        raise InvalidMessage(
            f"字段 {name}（{label}）的值 {value!r} 无效，应为 {'、'.join(choices)} 之一", "unknown_code"
        )
    return value


def _moment(message: dict[str, Any], name: str, label: str) -> datetime:
    text = _required(message, name, str, label)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidMessage(f"字段 {name}（{label}）不是 ISO 8601 时间：{text!r}") from None
    if moment.tzinfo is None:
        raise InvalidMessage(f"字段 {name}（{label}）须带时区偏移，例如 2025-10-09T09:30:00+08:00：{text!r}")
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise InvalidMessage(f"字段 {name}（{label}）超出合理范围：{text!r}")
    return as_china_time(moment)


def _schema(message: dict[str, Any], expected: str) -> None:
    schema = message.get("schema")
    if schema != expected:
        raise InvalidMessage(f"schema 应为 {expected!r}，收到 {schema!r}", "unknown_schema")


def _coordinate(message: dict[str, Any], name: str, label: str) -> float | None:
    if message.get(name) is None:
        return None
    return float(_required(message, name, (int, float), label))


def _optional_flag(message: dict[str, Any], name: str, label: str) -> bool | None:
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidMessage(f"字段 {name}（{label}）须为 true 或 false")
    return value


def parse_call(raw: bytes | None, districts: tuple[str, ...] = ()) -> CallMessage:
    """A ``hotline.call/1`` message as a domain ``Call``.

    A service code the dispatch catalogue lacks, or an unknown category, is kept as sent (the case
    opens 待分类); ``districts`` the
    city's districts (rules/districts.csv): an address that starts with one gives the case its district.
    """
    message = decode_object(raw)
    _schema(message, CALL_SCHEMA)
    call_id = _required(message, "call_id", str, "来电编号").strip()
    if not call_id:
        raise InvalidMessage("字段 call_id（来电编号）不能为空")
    received_at = _moment(message, "received_at", "受理时间")
    caller = _required(message, "caller", dict, "来电人")
    name = _required(caller, "name", str, "来电人姓名")
    phone = _required(caller, "phone", str, "来电人电话")
    # A service code or category the catalogue does not know (or none at all) is no reason to lose
    # the call: it opens as 待分类 with what was sent, and the dispatch centre classifies it.
    service_code = _sent(message, "service_code", "服务事项代码")
    category = _sent(message, "category", "诉求类别")
    address = _required(message, "address", str, "地址").strip()
    try:
        call = Call(
            channel=_choice(message, "channel", "渠道", CHANNELS),
            category=category,
            service_code=service_code,
            description=_required(message, "description", str, "诉求内容"),
            caller_name=name,
            caller_phone=phone,
            urgency=_choice(message, "urgency", "紧急程度", URGENCIES),
            address=address,
            district=district_of(address, districts),
            lat=_coordinate(message, "lat", "纬度"),
            long=_coordinate(message, "long", "经度"),
            call_id=call_id,
            confidential=_optional_flag(message, "confidential", "是否保密"),
        )
    except DomainError as error:  # the Call's own checks: lengths, phone format, coordinates
        raise InvalidMessage(str(error)) from None
    return CallMessage(call=call, received_at=received_at)


def _sent(message: dict[str, Any], name: str, label: str) -> str:
    """A code as the channel sent it, known or not; absent: empty (待分类 says so)."""
    value = message.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidMessage(f"字段 {name}（{label}）类型错误：应为字符串，收到 {_json_type(value)}")
    return value.strip()


def district_of(address: str, districts: tuple[str, ...]) -> str:
    # Longest first, so that a district whose name extends another's is not mistaken for it.
    for district in sorted(districts, key=len, reverse=True):
        if address.startswith(district):
            return district
    return ""


def parse_reply(raw: bytes | None) -> DepartmentAction:
    """A ``hotline.reply/1`` message. Whether the case allows the action is the domain's call."""
    message = decode_object(raw)
    _schema(message, REPLY_SCHEMA)
    fields: dict[str, Any] = {}
    for name, label in (("action_id", "动作编号"), ("ticket_no", "工单编号"), ("department", "承办单位代码")):
        fields[name] = _required(message, name, str, label).strip()
        if not fields[name]:
            raise InvalidMessage(f"字段 {name}（{label}）不能为空")
    action = _choice(message, "action", "动作", ACTIONS)
    actor_id = message.get("actor_id")
    if actor_id is not None and not isinstance(actor_id, str):
        raise InvalidMessage("字段 actor_id（经办人）类型错误：应为字符串")
    fields["actor_id"] = (actor_id or "").strip() or f"{fields['department']}-system"
    fields["at"] = _moment(message, "at", "办理时间")
    if action == "return":
        fields["reason"] = _required(message, "reason", str, "退单理由")
        fields["basis"] = _required(message, "basis", str, "退单依据")
    elif action == "request_extension":
        fields["reason"] = _required(message, "reason", str, "延期理由")
        fields["working_days"] = _required(message, "working_days", int, "延期工作日数")
    elif action == "reply":
        fields["result"] = _required(message, "result", str, "办理结果")
        fields["resolved"] = _required(message, "resolved", bool, "是否解决")
    return DepartmentAction(action=action, **fields)


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Topics:
    """The topic names, optionally prefixed (a shared test broker, a staging cluster)."""

    prefix: str = ""

    @property
    def calls(self) -> str:
        return self.prefix + CALLS

    @property
    def calls_dlq(self) -> str:
        return self.prefix + CALLS_DLQ

    @property
    def dispatch(self) -> str:
        return self.prefix + DISPATCH

    @property
    def replies(self) -> str:
        return self.prefix + REPLIES

    @property
    def replies_dlq(self) -> str:
        return self.prefix + REPLIES_DLQ

    @property
    def telephony(self) -> str:
        return self.prefix + TELEPHONY

    def dead_letter_topic(self, topic: str) -> str:
        return {self.calls: self.calls_dlq, self.replies: self.replies_dlq}[topic]

    def partitions(self, partitions: int) -> dict[str, int]:
        """Every topic with its partition count, for ``ensure_topics``; dead letters need no spread."""
        return {
            self.calls: partitions,
            self.replies: partitions,
            self.dispatch: partitions,
            self.telephony: partitions,
            self.calls_dlq: 1,
            self.replies_dlq: 1,
        }
