"""Synthetic intake messages for ``hotline produce-demo`` and the benchmarks: realistic Chinese
calls, repeat callers, redeliveries and a share of bad messages of every kind."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.infra.demo.vocabulary import (
    CATEGORY_BY_SERVICE,
    CHANNEL_WEIGHTS,
    DESCRIPTIONS,
    DISTRICTS,
    GIVEN,
    STREETS,
    SURNAMES,
)
from hotline.intake.messages import CALL_SCHEMA, encode

# District centres, so that a share of calls carries coordinates (as app and WeChat ones do).
CENTRES = {"城东区": (30.27, 120.21), "城西区": (30.26, 120.10), "高新区": (30.19, 120.19)}

# How a message can be wrong, and the change that makes it so. The first ones still make a case:
# a service code or category the catalogue lacks opens it 待分类 (no dead letter); the rest cannot.
UNCLASSIFIED_KINDS = ("unknown_category", "unknown_service")
INVALID_KINDS = (
    *UNCLASSIFIED_KINDS,
    "bad_json",
    "not_utf8",
    "wrong_type",
    "missing_field",
    "naive_time",
    "bad_phone",
)


@dataclass(frozen=True)
class DemoMessage:
    key: bytes | None
    value: bytes
    call_id: str | None  # None: this message is invalid (a 待分类 one has its call id: it makes a case)
    repeat: bool = False  # a redelivery of an earlier valid message


class DemoCalls:
    """Realistic synthetic calls: Chinese text, repeat callers, duplicates and some bad messages."""

    def __init__(self, reference: datetime, seed: int | None = None, run_id: str | None = None):
        self.rng = random.Random(seed)
        self.run_id = run_id or uuid.UUID(int=self.rng.getrandbits(128)).hex[:8]
        self.now = reference
        self.callers = [self._caller() for _ in range(300)]

    def _caller(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        phone = "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))
        return name, phone

    def call(self, index: int) -> dict:
        rng = self.rng
        # One call in four comes from a frequent caller: history and duplicate detection have work.
        name, phone = rng.choice(self.callers[:40] if rng.random() < 0.25 else self.callers)
        service = rng.choice(list(DESCRIPTIONS))
        district = rng.choice(DISTRICTS)
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        received = self.now - timedelta(seconds=rng.randint(0, 3 * 3600))
        message = {
            "schema": CALL_SCHEMA,
            "call_id": f"{channel}-{self.run_id}-{index:07d}",
            "received_at": received.isoformat(timespec="seconds"),
            "channel": channel,
            "caller": {"name": name if rng.random() > 0.1 else "", "phone": phone},
            "category": CATEGORY_BY_SERVICE.get(service, rng.choice(["complaint", "complaint", "help", "report"])),
            "service_code": service,
            "address": f"{district}{rng.choice(STREETS[district])}{rng.randint(1, 120)}号",
            "description": rng.choice(DESCRIPTIONS[service]),
            "urgency": "urgent" if rng.random() < 0.05 else "normal",
        }
        if channel in ("app", "wechat", "open311"):
            lat, long = CENTRES[district]
            message["lat"] = round(lat + rng.uniform(-0.03, 0.03), 6)
            message["long"] = round(long + rng.uniform(-0.03, 0.03), 6)
        return message

    def spoil(self, message: dict, kind: str) -> bytes:
        message = json.loads(json.dumps(message))
        if kind == "bad_json":
            return encode(message)[:-7]
        if kind == "not_utf8":
            return b"\xff\xfe" + encode(message)  # a byte order mark of UTF-16: not UTF-8
        if kind == "wrong_type":
            message["lat"], message["long"] = "北纬30度", 120.2
        elif kind == "unknown_category":
            message["category"] = "praise"
        elif kind == "unknown_service":
            message["service_code"] = "ufo_sighting"
        elif kind == "missing_field":
            del message[self.rng.choice(["description", "call_id", "caller", "urgency"])]
        elif kind == "naive_time":
            message["received_at"] = message["received_at"][:19]
        elif kind == "bad_phone":
            message["caller"]["phone"] = "请回电"
        return encode(message)

    def messages(self, count: int, invalid_ratio: float = 0.05, duplicate_ratio: float = 0.05) -> list[DemoMessage]:
        out: list[DemoMessage] = []
        valid: list[DemoMessage] = []
        for index in range(count):
            roll = self.rng.random()
            if roll < invalid_ratio:
                kind = INVALID_KINDS[index % len(INVALID_KINDS)]
                message = self.call(index)
                if kind in UNCLASSIFIED_KINDS:
                    sent = DemoMessage(message["call_id"].encode(), self.spoil(message, kind), message["call_id"])
                    valid.append(sent)
                    out.append(sent)
                else:
                    out.append(DemoMessage(None, self.spoil(message, kind), None))
            elif roll < invalid_ratio + duplicate_ratio and valid:
                again = self.rng.choice(valid[-200:])  # a gateway resending a recent call
                out.append(DemoMessage(again.key, again.value, again.call_id, repeat=True))
            else:
                message = self.call(index)
                sent = DemoMessage(message["call_id"].encode(), encode(message), message["call_id"])
                valid.append(sent)
                out.append(sent)
        return out
