"""Messages of the call centre's switch on ``hotline.telephony`` (``hotline.telephony/1``,
docs/messages.md): one message per thing that happened to a call. The ``call_id`` is the id the
call's case carries (the ``call_id`` of its ``hotline.calls`` message), so a call links to the case
it became."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from hotline.domain.formats import PHONE

TELEPHONY_SCHEMA = "hotline.telephony/1"
KINDS = {
    "offered": "来电进入排队",
    "answered": "座席接听",
    "abandoned": "排队中挂机（放弃）",
    "transferred": "转接",
    "ended": "通话结束",
    "called_back": "漏接回拨",
}
NEEDS_SEAT = ("answered", "transferred", "called_back")


class TelephonyError(ValueError):
    """A message that cannot be taken; the text says why, in Chinese."""


@dataclass(frozen=True)
class TelephonyEvent:
    kind: str
    call_id: str
    at: datetime
    seat: str = ""
    caller_phone: str = ""
    transferred_to: str = ""


def parse_telephony(value: bytes) -> TelephonyEvent:
    try:
        data = json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TelephonyError(f"不是 UTF-8 JSON：{error}") from None
    if not isinstance(data, dict) or data.get("schema") != TELEPHONY_SCHEMA:
        raise TelephonyError(f"schema 须为 {TELEPHONY_SCHEMA}")
    kind = data.get("event")
    if kind not in KINDS:
        raise TelephonyError(f"event 须为 {'、'.join(KINDS)} 之一")
    call_id = data.get("call_id")
    if not isinstance(call_id, str) or not 1 <= len(call_id) <= 100:
        raise TelephonyError("call_id 须为 1 到 100 个字符")
    try:
        at = datetime.fromisoformat(str(data.get("at", "")))
    except ValueError:
        raise TelephonyError("at 须为带时区的 ISO 8601 时间") from None
    if at.tzinfo is None:
        raise TelephonyError("at 须带时区（如 +08:00）")
    seat = data.get("seat") or ""
    if kind in NEEDS_SEAT and (not isinstance(seat, str) or not seat.strip()):
        raise TelephonyError(f"{KINDS[kind]}须有 seat（座席工号）")
    phone = data.get("caller_phone") or ""
    if phone and (not isinstance(phone, str) or not PHONE.fullmatch(phone)):
        raise TelephonyError("caller_phone 格式不正确")
    target = data.get("transferred_to") or ""
    return TelephonyEvent(kind, call_id, at, str(seat).strip()[:20], phone, str(target)[:40])
