"""Raw access to the store behind the application's back: what someone with database access can do."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import pytest

from hotline.infra.bootstrap import Services


def altered(data: bytes) -> bytes:
    """The bytes with their last byte changed: always a change (setting it to zero was none when it
    was zero already, one time in 256 for encrypted bytes)."""
    data = bytes(data)
    return data[:-1] + bytes([data[-1] ^ 0xFF])


class RawStore:
    """Plain SQL on the events and audit tables, bypassing the application. ``?`` placeholders."""

    def __init__(self, services: Services):
        config = services.config
        self.postgres = config.uses_postgres
        if self.postgres:
            import psycopg

            base, _, query = config.database_url.partition("?")
            self.schema = query.split("schema=", 1)[1]
            self._connect = lambda: psycopg.connect(base, autocommit=True)
            self.events = f'"{self.schema}".hotline_events'
            self.audit = f'"{self.schema}".hotline_events_audit'
            self.links = f'"{self.schema}".hotline_events_audit_tx'
            self.id_column = "notification_id"
        else:
            path = config.sqlite_path("hotline")
            self._connect = lambda: sqlite3.connect(path, isolation_level=None)
            self.events, self.audit, self.links, self.id_column = (
                "stored_events",
                "stored_events_audit",  # per-event links (stores sealed before)
                "stored_events_audit_tx",  # per-transaction links
                "rowid",
            )

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            statement = statement.replace("?", "%s")
        with closing(self._connect()) as conn:
            cursor = conn.execute(statement, params)
            rows = cursor.fetchall() if cursor.description else []
            if not self.postgres:
                conn.commit()
            return [tuple(row) for row in rows]

    def link_of(self, notification_id: int) -> tuple[int, int, int]:
        """(seq, first id, last id) of the per-transaction link that covers ``notification_id``."""
        [row] = self.run(
            f"SELECT seq, first_id, last_id FROM {self.links} WHERE first_id <= ? AND last_id >= ?",
            (notification_id, notification_id),
        )
        return row

    def cut_link(self, seq: int) -> None:
        """Delete the per-transaction link ``seq`` and every event it covers."""
        [(first, last)] = self.run(f"SELECT first_id, last_id FROM {self.links} WHERE seq = ?", (seq,))
        self.run(f"DELETE FROM {self.events} WHERE {self.id_column} BETWEEN ? AND ?", (first, last))
        self.run(f"DELETE FROM {self.links} WHERE seq = ?", (seq,))

    def event(self, notification_id: int) -> tuple[Any, ...]:
        """(originator_id, version, topic, state) of one stored event."""
        [row] = self.run(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events} WHERE {self.id_column} = ?",
            (notification_id,),
        )
        return row


@pytest.fixture
def raw(services) -> RawStore:
    return RawStore(services)
