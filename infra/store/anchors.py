"""Anchors of the audit chain, kept where an attacker on the events database cannot rewrite them
silently: a file of their own (``anchors.jsonl`` under the data folder, or HOTLINE_ANCHORS_FILE),
each line signed with the audit key.

An anchor is a chain head (``seq:mac``) someone verified or relied on: every successful
``hotline audit verify``, every month close, and every ``ANCHOR_EVERY`` events the projections
runner sees. ``hotline audit verify`` checks the chain against the latest anchor, so a store whose
newest events were deleted, or that was wiped or restored from an older backup, fails instead of
verifying as intact. A line that does not verify with the key (edited, forged, truncated) fails
the verification too. The file can also be printed or copied to an external record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ANCHOR_EVERY = 1000  # events between two anchors the projections runner records


class AnchorFileBroken(Exception):
    """A line of the anchor file does not verify with the audit key."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    mac: str  # hex
    notification_id: int
    at: str  # ISO 8601, Beijing time
    reason: str  # verify, month-close:2026-10, every-1000

    def payload(self) -> bytes:
        return json.dumps(
            [self.seq, self.mac, self.notification_id, self.at, self.reason], ensure_ascii=False, separators=(",", ":")
        ).encode()

    def signature(self, key: bytes) -> str:
        return hmac.new(key, b"hotline-anchor\0" + self.payload(), hashlib.sha256).hexdigest()

    @property
    def as_pair(self) -> tuple[int, bytes]:
        return self.seq, bytes.fromhex(self.mac)


def anchors_file(data_dir: Path) -> Path:
    return Path(os.environ.get("HOTLINE_ANCHORS_FILE") or data_dir / "anchors.jsonl")


def read_anchors(path: Path, key: bytes) -> list[Anchor]:
    """Every anchor of the file, each checked against the key; ``AnchorFileBroken`` for one that fails."""
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            anchor = Anchor(
                int(record["seq"]),
                str(record["mac"]),
                int(record["notification_id"]),
                str(record["at"]),
                str(record["reason"]),
            )
            valid = hmac.compare_digest(anchor.signature(key), str(record["sig"]))
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise AnchorFileBroken(f"锚点文件 {path} 第 {number} 行与审计密钥不符：被改动、伪造或截断")
        anchors.append(anchor)
    return anchors


def latest_anchor(path: Path, key: bytes) -> Anchor | None:
    anchors = read_anchors(path, key)
    return max(anchors, key=lambda anchor: anchor.seq) if anchors else None


def record_anchor(path: Path, key: bytes, head: tuple[int, bytes, int], at: datetime, reason: str) -> Anchor:
    """Append the chain head ``(seq, mac, notification_id)`` as a signed anchor."""
    seq, mac, notification_id = head
    anchor = Anchor(seq, mac.hex(), notification_id, at.isoformat(), reason)
    line = json.dumps({**anchor.__dict__, "sig": anchor.signature(key)}, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())
    return anchor
