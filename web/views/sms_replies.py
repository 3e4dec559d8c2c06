"""Callers' SMS replies, as the SMS gateway passes them on (docs/notifications.md, 短信回复).

The gateway POSTs each incoming SMS as JSON to ``/sms/replies``::

    {"reply_id": "<the gateway's id of the incoming SMS>", "in_reply_to": "<the idempotency key of
     our satisfaction SMS, which the gateway was given with it>", "from": "<the caller's number>",
     "text": "<what the caller wrote>"}

signed with the shared key ``HOTLINE_SMS_CALLBACK_SECRET``: ``X-Hotline-Timestamp`` (Unix seconds)
and ``X-Hotline-Signature`` (hex HMAC-SHA256 of ``<timestamp>.<raw body>``). A signature that does
not verify, or a timestamp too far from our clock (rules/notifications.toml ``[sms_reply]``), is
refused before anything is read. The answer is JSON with a Chinese ``error`` when refused; a 4xx
tells the gateway not to deliver it again, a 503 to try again later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, jsonify, request

from hotline.application.failures import LostRace
from hotline.domain.catalogue import SATISFACTION
from hotline.domain.errors import CaseNotFound, ConcurrentUpdate, DomainError, NotPermitted
from hotline.web.services import clock, rules, services

bp = Blueprint("sms_replies", __name__)

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
MAX_BODY = 16 * 1024  # one SMS and its envelope; anything larger is not a reply


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What the gateway sends in ``X-Hotline-Signature`` for ``body`` signed at ``timestamp``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def refused(status: int, error: str):
    return jsonify({"recorded": False, "error": error}), status


def _signed_body() -> tuple[bytes | None, Any]:
    """The raw body if its signature verifies now, else (None, the refusal)."""
    secret = services().sms_callback_secret
    if not secret:
        return None, refused(404, "本系统未配置短信回复（HOTLINE_SMS_CALLBACK_SECRET）")
    if (request.content_length or 0) > MAX_BODY:
        return None, refused(413, "请求过大，不是一条短信回复")
    body = request.get_data(cache=False)
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not hmac.compare_digest(given.lower(), signature(secret, timestamp, body)):
        return None, refused(401, "签名无效：请用约定的密钥对“时间戳.请求体”做 HMAC-SHA256")
    tolerance = rules().notifications.sms_reply.signature_tolerance_seconds
    if abs(clock().now().timestamp() - int(timestamp)) > tolerance:
        return None, refused(401, f"签名时间与本机时间相差超过 {tolerance:g} 秒，已拒收（防重放）")
    return body, None


@bp.route("/sms/replies", methods=["POST"])
def receive():
    body, refusal = _signed_body()
    if body is None:
        return refusal
    try:
        reply = json.loads(body)
    except ValueError:
        return refused(400, "请求体不是 JSON")
    fields = ("reply_id", "in_reply_to", "from", "text")
    if not isinstance(reply, dict) or any(not isinstance(reply.get(name), str) for name in fields):
        return refused(400, f"请求体须含字符串字段 {'、'.join(fields)}")
    try:
        outcome = services().app.record_sms_reply(reply["reply_id"], reply["in_reply_to"], reply["from"], reply["text"])
    except CaseNotFound as error:
        return refused(404, str(error))
    except NotPermitted as error:
        return refused(403, str(error))
    except (ConcurrentUpdate, LostRace) as error:
        return refused(503, str(error))
    except DomainError as error:
        return refused(422, str(error))
    return jsonify(
        {
            "recorded": outcome.recorded,
            "repeat": not outcome.recorded,
            "ticket_no": outcome.ticket_no,
            "satisfaction": SATISFACTION.get(outcome.satisfaction or ""),
        }
    )
