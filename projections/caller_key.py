"""The caller's keyed hash: the read models recognise a repeat caller without storing the number.

HMAC-SHA256 with a secret key (``HOTLINE_CALLER_HASH_KEY``, or a key file under the data dir), over
the number's digits with a leading +86/86 country code removed: "138 0013 8000", "13800138000" and
"+86 138-0013-8000" are the same caller. Without the key the hash cannot be reversed by trying all
numbers (there are only about 10^10 mobile numbers, so a plain hash could be).
"""

from __future__ import annotations

import hashlib
import hmac
import re

NOT_DIGITS = re.compile(r"\D")


def normalise_phone(phone: str) -> str:
    digits = NOT_DIGITS.sub("", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


class CallerKey:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("caller hash key must be at least 16 bytes")
        self._key = key
        # Keyed once; each number copies the keyed state (a rebuild hashes every caller).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, phone: str | None) -> str | None:
        digits = normalise_phone(phone or "")
        if not digits:
            return None
        mac = self._keyed.copy()
        mac.update(digits.encode("ascii"))
        return mac.hexdigest()
