"""Ticket numbers (工单编号) as one counter row per day, written in the transaction of the case's events.

Each recorder of the application (SQLite, PostgreSQL, the in-memory one of the tests) offers
``insert_numbered``: in ONE transaction it raises each day's counter row by the number of new
cases of that day, hands the first numbers to ``build`` (which makes the cases and returns their
stored events), and inserts those events with their audit-chain links. The row is locked by the
update until the commit, so writers of the same day take turns on it instead of racing for an
aggregate's version: no retry, no gap (a rolled-back insert rolls the counter back with it), no
repeat, and numbers in the order the writers commit.

Stores written before kept the count in ``TicketCounter`` aggregates (``hotline:TicketCounter.*``
events, whose version is one more than the last number issued). A day's row is made on its first
use from that aggregate's highest stored version, so the day goes on after the highest stored
number; the old events stay where they are and stay readable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

from hotline.domain.tickets import TicketDay

Build = Callable[[dict[str, int]], Sequence[StoredEvent]]


def tickets_table(events_table_name: str) -> str:
    return f"{events_table_name}_tickets"


class SQLiteTicketRows:
    """For the SQLite recorder: its transaction holds the database's one write lock from the first
    statement (the counter's insert) to the commit."""

    datastore: Any
    events_table_name: str

    def ticket_table_statements(self) -> list[str]:
        table = tickets_table(self.events_table_name)
        return [f"CREATE TABLE IF NOT EXISTS {table} (day TEXT PRIMARY KEY, last INTEGER NOT NULL)"]

    def insert_numbered(self, days: Sequence[TicketDay], build: Build) -> Sequence[int] | None:
        table = tickets_table(self.events_table_name)
        seed = (
            f"INSERT INTO {table} (day, last) SELECT ?, COALESCE(MAX(originator_version) - 1, 0) "
            f"FROM {self.events_table_name} WHERE originator_id = ? ON CONFLICT (day) DO NOTHING"
        )
        with self.datastore.transaction(commit=True) as c:
            firsts = {}
            for ticket_day in sorted(days, key=lambda d: d.day):
                c.execute(seed, (ticket_day.day, ticket_day.legacy_id.hex))
                c.execute(
                    f"UPDATE {table} SET last = last + ? WHERE day = ? RETURNING last",
                    (ticket_day.count, ticket_day.day),
                )
                firsts[ticket_day.day] = c.fetchone()[0] - ticket_day.count + 1
            return self._insert_events(c, build(firsts))  # type: ignore[attr-defined]

    def select_first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(originator_ids), 500):
                chunk = [i.hex for i in originator_ids[start : start + 500]]
                c.execute(
                    f"SELECT originator_id, topic, state FROM {self.events_table_name} "
                    f"WHERE originator_version = 1 AND originator_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.extend(StoredEvent(UUID(r[0]), 1, r[1], r[2]) for r in c.fetchall())
        return found

    def select_last_numbers(self) -> dict[str, int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT day, last FROM {tickets_table(self.events_table_name)}")
            return {row[0]: row[1] for row in c.fetchall()}


class PostgresTicketRows:
    """For the PostgreSQL recorder: the update locks the day's row until the commit; the events'
    table lock the recorder takes next is always taken after it, so writers cannot deadlock."""

    datastore: Any
    events_table_name: str

    def ticket_statements(self) -> tuple[Any, Any, Any, Any]:
        schema = self.datastore.schema
        table = Identifier(schema, tickets_table(self.events_table_name))
        events = Identifier(schema, self.events_table_name)
        create = SQL("CREATE TABLE IF NOT EXISTS {} (day text PRIMARY KEY, last bigint NOT NULL)").format(table)
        seed = SQL(
            "INSERT INTO {} (day, last) SELECT %s, COALESCE(MAX(originator_version) - 1, 0) "
            "FROM {} WHERE originator_id = %s ON CONFLICT (day) DO NOTHING"
        ).format(table, events)
        issue = SQL("UPDATE {} SET last = last + %s WHERE day = %s RETURNING last").format(table)
        select = SQL("SELECT day, last FROM {}").format(table)
        return create, seed, issue, select

    def insert_numbered(self, days: Sequence[TicketDay], build: Build) -> Sequence[int] | None:
        _, seed, issue, _ = self.ticket_statements()
        with self.datastore.transaction(commit=True) as curs:
            if self.datastore.lock_timeout:  # POSTGRES_LOCK_TIMEOUT: for the counter row too
                curs.execute(SQL("SET LOCAL lock_timeout = '{}s'").format(self.datastore.lock_timeout))
            firsts = {}
            for ticket_day in sorted(days, key=lambda d: d.day):
                curs.execute(seed, (ticket_day.day, ticket_day.legacy_id), prepare=True)
                curs.execute(issue, (ticket_day.count, ticket_day.day), prepare=True)
                firsts[ticket_day.day] = curs.fetchone()["last"] - ticket_day.count + 1
            return self._insert_sealed(curs, build(firsts))  # type: ignore[attr-defined]

    def select_first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        if not originator_ids:
            return []
        statement = SQL(
            "SELECT originator_id, topic, state FROM {} WHERE originator_version = 1 AND originator_id = ANY(%s)"
        ).format(Identifier(self.datastore.schema, self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),), prepare=True)
            return [StoredEvent(r["originator_id"], 1, r["topic"], bytes(r["state"])) for r in curs.fetchall()]

    def select_last_numbers(self) -> dict[str, int]:
        *_, select = self.ticket_statements()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(select)
            return {row["day"]: row["last"] for row in curs.fetchall()}


class MemoryTicketRows:
    """For the in-memory recorder of the tests: the rows are a dict, the transaction its lock."""

    _database_lock: threading.Lock
    _stored_events_index: dict[str, dict[int, int]]

    def insert_numbered(self, days: Sequence[TicketDay], build: Build) -> Sequence[int] | None:
        rows: dict[str, int] = self.__dict__.setdefault("_ticket_rows", {})
        with self._database_lock:
            before = dict(rows)
            firsts = {}
            for ticket_day in sorted(days, key=lambda d: d.day):
                if ticket_day.day not in rows:
                    versions = self._stored_events_index.get(str(ticket_day.legacy_id), {})
                    rows[ticket_day.day] = max(versions, default=1) - 1
                firsts[ticket_day.day] = rows[ticket_day.day] + 1
                rows[ticket_day.day] += ticket_day.count
            try:
                return self._insert_events(build(firsts))  # type: ignore[attr-defined]
            except BaseException:
                rows.clear()
                rows.update(before)
                raise

    def select_first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        found = []
        with self._database_lock:
            for originator_id in originator_ids:
                position = self._stored_events_index.get(str(originator_id), {}).get(1)
                if position is not None:
                    found.append(self._stored_events[position])  # type: ignore[attr-defined]
        return found

    def select_last_numbers(self) -> dict[str, int]:
        with self._database_lock:
            return dict(self.__dict__.get("_ticket_rows", {}))
