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

from hotline.domain.privacy import ERASED, HIDDEN

NOT_DIGITS = re.compile(r"\D")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
PIECES_KEPT = 100_000  # hashes of short runs of characters kept (hide_name), about 15 MB at most


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
        # The keyed hash of each short run of characters a reply is searched for (hide_name): the same
        # common words come back reply after reply, and a rebuild hides names in every reply.
        self._pieces: dict[str, str | None] = {}

    def __call__(self, phone: str | None) -> str | None:
        digits = normalise_phone(phone or "")
        if not digits:
            return None
        mac = self._keyed.copy()
        mac.update(digits.encode("ascii"))
        return mac.hexdigest()

    def name(self, name: str | None) -> str | None:
        """The keyed hash of a caller's name: a read model can find the name in a later text (a
        department's reply) and hide it there, without ever holding the name itself."""
        name = (name or "").strip()
        if len(name) < 2 or name == ERASED:
            return None
        mac = self._keyed.copy()
        mac.update(b"name:" + name.encode("utf-8"))
        return mac.hexdigest()

    def _piece(self, piece: str) -> str | None:
        hashed = self._pieces.get(piece, "")
        if hashed == "":
            if len(self._pieces) >= PIECES_KEPT:
                self._pieces.clear()
            hashed = self._pieces[piece] = self.name(piece)
        return hashed

    def hide_name(self, text: str, name_key: str | None) -> str:
        """``text`` with every occurrence of the name whose keyed hash is ``name_key`` hidden."""
        if not text or not name_key:
            return text or ""
        found: set[str] = set()
        for run in CJK_RUN.findall(text):
            for size in range(2, min(4, len(run)) + 1):
                for start in range(len(run) - size + 1):
                    piece = run[start : start + size]
                    if piece not in found and self._piece(piece) == name_key:
                        found.add(piece)
        for piece in sorted(found, key=len, reverse=True):
            text = text.replace(piece, HIDDEN)
        return text
