"""Ticket numbers (工单编号) as one counter row per day, written in the transaction of the case's events.

Each recorder of the application (SQLite, PostgreSQL, the in-memory one of the tests) offers
``insert_numbered``: in ONE transaction it raises each day's counter row by the number of new
cases of that day, hands the first numbers to ``build`` (which makes the cases and returns their
stored events), and inserts those events with their audit-chain links, and the new cases' own
keys (``keys``, infra/store/personal_keys.py) with them. The row is locked by the
update until the commit, so writers of the same day take turns on it instead of racing for an
aggregate's version: no retry, no gap (a rolled-back insert rolls the counter back with it), no
repeat, and numbers in the order the writers commit. On PostgreSQL a few new cases go in one
call of a plpgsql function that does all of it (``infra/store/pg_save.py``, with the numbers the
process expects, built again when another writer took them), and a large batch is built before
the transaction, with the numbers the store expects to issue, and inside it only when the row
issued others (``PostgresTicketRows``): the row is then held for the insert alone.

Stores written before kept the count in ``TicketCounter`` aggregates (``hotline:TicketCounter.*``
events, whose version is one more than the last number issued). A day's row is made on its first
use from that aggregate's highest stored version, so the day goes on after the highest stored
number; the old events stay where they are and stay readable.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier, Literal

from hotline.domain.tickets import TicketDay

logger = logging.getLogger(__name__)

Build = Callable[[dict[str, int]], Sequence[StoredEvent]]
KeyRows = Sequence[tuple[str, bytes]]  # the new cases' own keys, wrapped (infra/store/personal_keys.py)


def tickets_table(events_table_name: str) -> str:
    return f"{events_table_name}_tickets"


def pending_table(events_table_name: str) -> str:
    return f"{events_table_name}_tickets_pending"


class SQLiteTicketRows:
    """For the SQLite recorder: its transaction holds the database's one write lock from the first
    statement (the counter's insert) to the commit."""

    datastore: Any
    events_table_name: str

    def ticket_table_statements(self) -> list[str]:
        table = tickets_table(self.events_table_name)
        return [f"CREATE TABLE IF NOT EXISTS {table} (day TEXT PRIMARY KEY, last INTEGER NOT NULL)"]

    def insert_numbered(self, days: Sequence[TicketDay], build: Build, keys: KeyRows = ()) -> Sequence[int] | None:
        table = tickets_table(self.events_table_name)
        seed = (
            f"INSERT INTO {table} (day, last) SELECT ?, COALESCE(MAX(originator_version) - 1, 0) "
            f"FROM {self.events_table_name} WHERE originator_id = ? ON CONFLICT (day) DO NOTHING"
        )
        with self.datastore.transaction(commit=True) as c:
            if keys:
                self.insert_personal_keys(c, keys)  # type: ignore[attr-defined]
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
    """For the PostgreSQL recorder: the upsert locks the day's row until the commit; the events'
    table lock the recorder takes next is always taken after it, so writers cannot deadlock.

    A batch of at least ``speculate_from`` new cases is built BEFORE the transaction, with the
    numbers the store expects to issue: each writer first announces its count for the day (one
    autocommitted statement: a row in the day's pending table), and expects the numbers after the
    day's last number plus the counts announced before it and not yet stored. In the transaction
    it raises the day's row as always (the row alone decides the numbers: gapless, never retried)
    and drops the pending rows up to its own; when the numbers issued are the ones expected (the
    writers arrived in the order they announced), the cases built before are stored, and the row
    is held only for the insert. When not (a writer overtook another, or one announced and then
    failed or died), the batch is built again inside the transaction, as a small one always is,
    and the pending rows dropped on the way put the expectation right for the next writers."""

    datastore: Any
    events_table_name: str
    speculate_from = 50  # new cases: below this the build is cheaper than the announcement

    def ticket_statements(self) -> tuple[Any, Any, Any, Any]:
        schema = self.datastore.schema
        table = Identifier(schema, tickets_table(self.events_table_name))
        events = Identifier(schema, self.events_table_name)
        create = SQL("CREATE TABLE IF NOT EXISTS {} (day text PRIMARY KEY, last bigint NOT NULL)").format(table)
        legacy = SQL(
            "SELECT %(day)s, COALESCE(MAX(originator_version) - 1, 0) {} FROM {} WHERE originator_id = %(legacy)s"
        )
        seed = SQL("INSERT INTO {} (day, last) {} ON CONFLICT (day) DO NOTHING").format(
            table, legacy.format(SQL(""), events)
        )
        # seed and raise in one statement: a new day starts after the old counter's highest number
        issue = SQL(
            "INSERT INTO {} AS t (day, last) {} "
            "ON CONFLICT (day) DO UPDATE SET last = t.last + %(count)s RETURNING last"
        ).format(table, legacy.format(SQL("+ %(count)s"), events))
        select = SQL("SELECT day, last FROM {}").format(table)
        return create, seed, issue, select

    def pending_statements(self) -> tuple[Any, Any, Any, Any, Any, Any]:
        schema = self.datastore.schema
        table = Identifier(schema, tickets_table(self.events_table_name))
        pending = Identifier(schema, pending_table(self.events_table_name))
        create = SQL(
            "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, day text NOT NULL, count bigint NOT NULL)"
        ).format(pending)
        space = Literal(f"{schema}.{pending_table(self.events_table_name)}")

        def lock(pending_id: Any) -> Any:  # an announcement's advisory lock: two keys, the first this table's
            return SQL("hashtext({}), ({} %% 2147483647)::int").format(space, pending_id)

        _, seed, _, _ = self.ticket_statements()
        announce = SQL(
            "WITH seeded AS ({} RETURNING last), mine AS (INSERT INTO {} (day, count) VALUES (%(day)s, %(count)s) "
            "RETURNING id) SELECT (SELECT id FROM mine) AS id, COALESCE((SELECT last FROM seeded), "
            "(SELECT last FROM {} WHERE day = %(day)s)) + COALESCE((SELECT SUM(count) FROM {} "
            "WHERE day = %(day)s), 0)::bigint + 1 AS first, pg_advisory_lock({})"
        ).format(seed, pending, table, pending, lock(SQL("(SELECT id FROM mine)")))
        wait_turn = SQL(
            "SELECT pg_advisory_xact_lock_shared({}) FROM {} WHERE day = ANY(%s) AND id < %s ORDER BY id"
        ).format(lock(SQL("id")), pending)
        release = SQL("SELECT pg_advisory_unlock({}) FROM unnest(%s::bigint[]) AS u(id)").format(lock(SQL("id")))
        forget = SQL("DELETE FROM {} WHERE day = ANY(%s) AND id <= %s").format(pending)
        withdraw = SQL("DELETE FROM {} WHERE id = ANY(%s::bigint[])").format(pending)
        return create, announce, wait_turn, release, forget, withdraw

    def ticket_create_statements(self) -> list[Any]:
        return [self.ticket_statements()[0], self.pending_statements()[0]]

    def _raise_rows(self, curs: Any, days: Sequence[TicketDay], announced: Sequence[int] = ()) -> dict[str, int]:
        """In the transaction: raise each day's row, after the writers that announced before
        (``announced``: this writer's pending rows) have stored theirs; the first numbers issued."""
        if self.datastore.lock_timeout:  # POSTGRES_LOCK_TIMEOUT: for the counter row too
            curs.execute(SQL("SET LOCAL lock_timeout = '{}s'").format(self.datastore.lock_timeout))
        if announced:
            _, _, wait_turn, *_ = self.pending_statements()
            curs.execute(wait_turn, ([d.day for d in days], min(announced)), prepare=True)
        _, _, issue, _ = self.ticket_statements()
        firsts = {}
        for ticket_day in sorted(days, key=lambda d: d.day):
            params = {"day": ticket_day.day, "legacy": ticket_day.legacy_id, "count": ticket_day.count}
            curs.execute(issue, params, prepare=True)
            firsts[ticket_day.day] = curs.fetchone()["last"] - ticket_day.count + 1
        return firsts

    def _announce(self, curs: Any, days: Sequence[TicketDay]) -> tuple[list[int], dict[str, int | None]]:
        """Announce each day's count (autocommitted), holding the announcement's advisory lock on
        this connection until it is released; the ids of the pending rows and the first numbers
        expected (None: the day's row was being made by another writer's transaction, not yet
        visible)."""
        _, announce, *_ = self.pending_statements()
        ids, firsts = [], {}
        for ticket_day in sorted(days, key=lambda d: d.day):
            params = {"day": ticket_day.day, "legacy": ticket_day.legacy_id, "count": ticket_day.count}
            curs.execute(announce, params, prepare=True)
            row = curs.fetchone()
            ids.append(row["id"])
            firsts[ticket_day.day] = row["first"]
        return ids, firsts

    def insert_numbered(self, days: Sequence[TicketDay], build: Build, keys: KeyRows = ()) -> Sequence[int] | None:
        """``keys``: written first in the same transaction (before the day's row is locked)."""
        if sum(d.count for d in days) < self.speculate_from:
            with self.datastore.transaction(commit=True) as curs:
                if keys:
                    self.insert_personal_keys(curs, keys)  # type: ignore[attr-defined]
                return self._insert_sealed(curs, build(self._raise_rows(curs, days)))  # type: ignore[attr-defined]
        _, _, _, release, forget, withdraw = self.pending_statements()
        with self.datastore.get_connection() as conn:
            with conn.cursor() as curs:
                ids, expected = self._announce(curs, days)
            stored = False
            try:
                known = {day: first for day, first in expected.items() if first is not None}
                built = build(known) if len(known) == len(expected) else None
                with conn.transaction(), conn.cursor() as curs:
                    if keys:
                        self.insert_personal_keys(curs, keys)  # type: ignore[attr-defined]
                    firsts = self._raise_rows(curs, days, ids)
                    curs.execute(forget, ([d.day for d in days], max(ids)), prepare=True)
                    self._read_tail(curs)  # type: ignore[attr-defined]  # the writer before has just committed
                    if built is None or firsts != expected:
                        logger.info("工单编号与预计不符（预计 %s，实际 %s）：本批在锁内重建", expected, firsts)
                        built = build(firsts)
                    notification_ids = self._insert_sealed(curs, built)  # type: ignore[attr-defined]
                stored = True
                return notification_ids
            finally:
                # The next writers wait for this one's turn until its advisory lock goes; a failed
                # batch's pending rows would mislead their expectation (one rebuild, then right).
                with contextlib.suppress(psycopg.Error), conn.cursor() as curs:
                    if not stored:
                        curs.execute(withdraw, (ids,))
                    curs.execute(release, (ids,))

    def select_first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        if not originator_ids:
            return []
        statement = SQL(
            "SELECT originator_id, topic, state FROM {} WHERE originator_version = 1 AND originator_id = ANY(%b)"
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

    def insert_numbered(self, days: Sequence[TicketDay], build: Build, keys: KeyRows = ()) -> Sequence[int] | None:
        rows: dict[str, int] = self.__dict__.setdefault("_ticket_rows", {})
        with self._database_lock:
            if keys:
                self.insert_personal_keys(None, keys)  # type: ignore[attr-defined]
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
                if keys:
                    self._remove_personal_keys(keys)  # type: ignore[attr-defined]
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
