"""The last event the read models read, so that a log rolled back and then overtaken is noticed.

A view's position is a notification id. If the newest events are removed (or an older backup of
the events restored) and the hotline then appends new events past the old position, the ids the
views have read are reused by other events, or are gone (PostgreSQL does not reuse ids), and the
count looks right again: the views would silently never see the events between. So after each page
the read models note the last event they read, by its notification id and the SHA-256 of its
stored bytes (``hv_log_mark``); before reading on they look whether that event is still there,
unchanged. If not, they stop (``ReadModels.rollback_problem``), as for a log that went backwards.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hotline.projections.store import ViewRecorder

MARK = "hv_log_mark"
KEY = "read"  # one row: the furthest event read by any view


def fingerprint(state: bytes) -> str:
    return hashlib.sha256(state).hexdigest()


class LogMark:
    def __init__(self, view: ViewRecorder):
        self.view = view

    def create(self) -> None:
        with self.view.writing(None) as cursor:
            self.view.lock_tables(cursor)
            self.view.execute(
                cursor,
                f"CREATE TABLE IF NOT EXISTS {self.view.table(MARK)} "
                "(name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL, state_sha256 TEXT NOT NULL)",
            )

    def read(self) -> tuple[int, str] | None:
        rows = self.view.query(
            f"SELECT notification_id, state_sha256 FROM {self.view.table(MARK)} WHERE name = ?", (KEY,)
        )
        return (int(rows[0]["notification_id"]), str(rows[0]["state_sha256"])) if rows else None

    def note(self, notification: Any) -> None:
        """``notification`` was read (the last of a page); kept only if further than the mark."""
        mark = self.read()
        if mark is not None and mark[0] >= notification.id:
            return
        with self.view.writing(None) as cursor:
            self.view.upsert(
                cursor,
                MARK,
                ("name", "notification_id", "state_sha256"),
                [(KEY, notification.id, fingerprint(notification.state))],
            )

    def forget(self) -> None:
        with self.view.writing(None) as cursor:
            self.view.execute(cursor, f"DELETE FROM {self.view.table(MARK)} WHERE name = ?", (KEY,))

    def replaced(self, log: Any) -> str | None:
        """Why the marked event is no longer the one read (gone, or another in its place), or None."""
        mark = self.read()
        if mark is None:
            return None
        position, expected = mark
        found = list(log.select_notifications(position, 1))
        if not found or found[0].id != position:
            return f"读模型读过的第 {position} 个事件已不在事件日志中"
        if fingerprint(found[0].state) != expected:
            return f"读模型读过的第 {position} 个事件已被另一个事件取代"
        return None
