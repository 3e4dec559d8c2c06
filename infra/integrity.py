"""The chain checked while the web app runs: tampering shown to the people who rely on the record.

``IntegrityWatch.check()`` verifies the audit chain against the latest anchor (infra/store/anchors.py)
and, when it is intact, anchors the head it verified; ``hotline serve`` runs it in the background
every ``interval`` seconds. The first check of a process walks the whole chain; each later one
only what was appended since the head it verified last, after finding that head and the latest
anchor still in place (``audit_chain.recheck``): a store whose newest events were removed and new
ones appended past the old position (the count looks right) fails there. ``check(full=True)`` and
``hotline audit verify`` walk the whole chain on demand. The first problem found stays until a later
check finds the chain intact again: every supervisor page shows it as a red banner naming the first
bad event.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from hotline.application import Clock
from hotline.infra.store.anchors import AnchorFileBroken, latest_anchor, record_anchor
from hotline.infra.store.audit_chain import AnyLink, verify

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 300.0


class IntegrityWatch:
    def __init__(self, recorder: Any, key: bytes, anchors: Any, clock: Clock, interval: float = CHECK_EVERY_SECONDS):
        self.recorder, self.key, self.anchors, self.clock, self.interval = recorder, key, anchors, clock, interval
        self.problem: str | None = None
        self.verified: AnyLink | None = None  # the head the last intact check verified
        self.last_checked = 0  # events the last check walked (all of them when full)
        self._lock = threading.Lock()

    def check(self, full: bool = False) -> str | None:
        """Verify now: what is new since the last verified head, or (``full``, or nothing verified
        yet in this process) the whole chain. The problem found (in Chinese, naming the first bad
        event), or None."""
        with self._lock:
            try:
                latest = latest_anchor(self.anchors, self.key)
            except AnchorFileBroken as error:
                self.problem = str(error)
                return self.problem
            since = None if full else self.verified
            result = verify(self.recorder, self.key, latest.as_pair if latest else None, since=since)
            self.last_checked = result.checked
            if result.intact:
                self.problem = None
                head = result.head
                self.verified = head
                if head is not None and (latest is None or head.seq > latest.seq):
                    record_anchor(
                        self.anchors,
                        self.key,
                        (head.seq, head.mac, head.notification_id),
                        self.clock.now(),
                        "background",
                    )
                return None
            self.verified = None  # until a check finds it intact again, each one walks the whole chain
            finding = result.finding
            assert finding is not None
            where = f"通知编号 {finding.notification_id}" if finding.notification_id is not None else "链尾"
            topic = f"（{finding.topic}）" if finding.topic else ""
            self.problem = f"审计链核验未通过：第一个问题在{where}{topic}：{finding.detail}"
            log.error("%s", self.problem)
            return self.problem

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.check()
            except Exception:  # a failed check must not stop the next one
                log.exception("background chain verification failed")
            stop.wait(self.interval)
