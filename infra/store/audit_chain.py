"""Tamper evidence (防止数据造假): a keyed hash chain over the stored events.

Every save writes ONE link into ``<events table>_audit_tx``, in the SAME transaction as its events,
so a link exists exactly when the application wrote the events, from any process (web, CLI, Kafka
consumers). Link k covers the events the transaction stored, in notification order: the first
and last notification id, the count, a leaf per event (SHA-256 of its aggregate id, version and
topic, then the SHA-256 of its stored, encrypted, state: 64 bytes) and

    digest_k = SHA-256(for each event in order: notification id ‖ leaf)
    mac_k    = HMAC-SHA256(audit key, tag ‖ mac_{k-1} ‖ k ‖ first id ‖ last id ‖ count ‖ digest_k)

Stores sealed before kept one link per event in ``<events table>_audit`` (mac_n = HMAC(key, mac_{n-1}
‖ n ‖ notification id ‖ version ‖ aggregate id ‖ topic ‖ SHA-256(state))). Those links stay as they
are: the first per-transaction link takes the next position after the last per-event one and
chains on its MAC, so the two tables are one chain, walked in position order (the switch is where
``_audit_tx`` begins; a new store has only per-transaction links).

Writers are serialised by the store (SQLite has one writer at a time; the PostgreSQL recorder locks
the events table in EXCLUSIVE mode before inserting), so reading the chain's last link inside the
insert transaction is race-free. Someone with database access but without the key can change rows
but cannot make links that verify. ``verify`` walks events and links side by side and names the
first event altered, deleted, inserted or reordered behind the application's back: a transaction's
digest covers its events, and its leaves (authenticated by the digest) say which one. What it
cannot see (a cut tail, snapshots) is set out in docs/reliability.md.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.sql import SQL, Identifier

from hotline.infra.store.personal_keys import PostgresPersonalKeys, SQLitePersonalKeys, keys_table
from hotline.infra.store.pg_save import (
    OneTripSave,
    create_numbered_save_function,
    create_save_function,
    drop_old_save_function,
    numbered_save_function_name,
    save_function_name,
)
from hotline.infra.store.tickets import (
    Build,
    KeyRows,
    PostgresTicketRows,
    SQLiteTicketRows,
    TicketDay,
    pending_table,
    tickets_table,
)

GENESIS = bytes(32)
_LARGEST_ROWID = 2**63 - 1
PAGE = 2000  # events, or per-event links, read at a time
BATCH_PAGE = 50  # per-transaction links read at a time (each up to a few thousand leaves)
ALTERED, DELETED, INSERTED, REORDERED = "altered", "deleted", "inserted", "reordered"
LEAF = 64  # bytes per event in a per-transaction link: SHA-256(aggregate id, version, topic) ‖ SHA-256(state)
BATCH_TAG = b"hotline audit transaction link v1\0"  # a per-transaction link's MAC never reads as a per-event one's


class AuditKeyMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "审计链密钥未设置，拒绝写入未封存的事件：请通过 infra.bootstrap 构建应用 / "
            "no audit key: refusing to store unsealed events (build the application with infra.bootstrap)"
        )


_NUMBERS = struct.Struct(">qqq").pack
_BATCH_NUMBERS = struct.Struct(">qqqq").pack
_ID = struct.Struct(">q").pack
_LENGTH = struct.Struct(">I").pack


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _LENGTH(len(data)) + data


_topic_text = functools.lru_cache(maxsize=1024)(_text)  # a few dozen topics, met on every event


@dataclass(frozen=True)
class Link:
    """A link of the per-event format (``<events>_audit``), as stores sealed before wrote them."""

    seq: int
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    state_sha256: bytes
    mac: bytes = b""

    def message(self, previous_mac: bytes) -> bytes:
        return b"".join(
            (
                previous_mac,
                _NUMBERS(self.seq, self.notification_id, self.originator_version),
                _text(self.originator_id),
                _topic_text(self.topic),
                self.state_sha256,
            )
        )

    def sealed(self, key: bytes, previous_mac: bytes) -> Link:
        return replace(self, mac=hmac.digest(key, self.message(previous_mac), "sha256"))

    @property
    def first_id(self) -> int:
        return self.notification_id

    @property
    def count(self) -> int:
        return 1

    def row(self) -> tuple[Any, ...]:
        return (
            self.seq,
            self.notification_id,
            self.originator_id,
            self.originator_version,
            self.topic,
            self.state_sha256,
            self.mac,
        )


def event_leaf(originator_id: str, originator_version: int, topic: str, state: bytes) -> bytes:
    """What a per-transaction link keeps of one event: SHA-256 of its aggregate id, version and
    topic, then SHA-256 of its stored state (64 bytes; the notification id is the position)."""
    meta = hashlib.sha256(_text(originator_id) + _ID(originator_version) + _topic_text(topic)).digest()
    return meta + hashlib.sha256(state).digest()


def _leaf_of(event: StoredEvent | Notification) -> bytes:
    return event_leaf(str(event.originator_id), event.originator_version, event.topic, event.state)


def batch_digest(first_id: int, leaves: bytes) -> bytes:
    """SHA-256 over each event's notification id and leaf, in order."""
    digest = hashlib.sha256()
    for i in range(len(leaves) // LEAF):
        digest.update(_ID(first_id + i))
        digest.update(leaves[i * LEAF : (i + 1) * LEAF])
    return digest.digest()


@dataclass(frozen=True)
class BatchLink:
    """A link of the per-transaction format (``<events>_audit_tx``): the events with notification
    ids ``first_id`` … ``last_id`` (``count`` of them, consecutive), their leaves and digest."""

    seq: int
    first_id: int
    last_id: int
    count: int
    digest: bytes
    leaves: bytes
    mac: bytes = b""

    @property
    def notification_id(self) -> int:
        """The last event it covers: what a head or an anchor names."""
        return self.last_id

    def message(self, previous_mac: bytes) -> bytes:
        return b"".join(
            (BATCH_TAG, previous_mac, _BATCH_NUMBERS(self.seq, self.first_id, self.last_id, self.count), self.digest)
        )

    def sealed(self, key: bytes, previous_mac: bytes) -> BatchLink:
        return replace(self, mac=hmac.digest(key, self.message(previous_mac), "sha256"))

    def leaf(self, index: int) -> bytes:
        return self.leaves[index * LEAF : (index + 1) * LEAF]

    def well_formed(self) -> bool:
        """Its leaves are the ones its digest (and so its MAC) covers, one per id of its range."""
        return (
            self.count >= 1
            and self.last_id - self.first_id + 1 == self.count
            and len(self.leaves) == LEAF * self.count
            and batch_digest(self.first_id, self.leaves) == self.digest
        )

    def row(self) -> tuple[Any, ...]:
        return (self.seq, self.first_id, self.last_id, self.count, self.digest, self.leaves, self.mac)


AnyLink = Link | BatchLink


def chain_links(
    key: bytes,
    tail: tuple[int, bytes],
    events: Sequence[StoredEvent],
    notification_ids: Sequence[int],
) -> list[BatchLink]:
    """The links that seal one transaction's ``events`` after the chain's last link ``tail`` =
    (seq, mac): one, or one per run of consecutive notification ids should the ids have a gap."""
    seq, mac = tail
    links: list[BatchLink] = []
    run_first, leaves = 0, bytearray()
    previous_id = None
    pairs = list(zip(notification_ids, events, strict=True))
    for index, (notification_id, event) in enumerate(pairs):
        if previous_id is not None and notification_id != previous_id + 1:
            seq += 1
            links.append(_batch(key, mac, seq, run_first, previous_id, bytes(leaves)))
            mac, leaves = links[-1].mac, bytearray()
        if not leaves:
            run_first = notification_id
        leaves += _leaf_of(event)
        previous_id = notification_id
        if index == len(pairs) - 1:
            seq += 1
            links.append(_batch(key, mac, seq, run_first, notification_id, bytes(leaves)))
    return links


def _batch(key: bytes, previous_mac: bytes, seq: int, first_id: int, last_id: int, leaves: bytes) -> BatchLink:
    link = BatchLink(seq, first_id, last_id, last_id - first_id + 1, batch_digest(first_id, leaves), leaves)
    return link.sealed(key, previous_mac)


LINK_COLUMNS = "seq, notification_id, originator_id, originator_version, topic, state_sha256, mac"
BATCH_COLUMNS = "seq, first_id, last_id, count, digest, leaves, mac"


def batch_table(events_table_name: str) -> str:
    return f"{events_table_name}_audit_tx"


def _merge(per_event: list[Link], per_batch: list[BatchLink], event_limit: int, batch_limit: int) -> list[AnyLink]:
    """The links of both tables in position order, up to the position both reads are sure of
    (a table read to its limit may hold more before the other's next link)."""
    merged: list[AnyLink] = sorted([*per_event, *per_batch], key=lambda link: link.seq)
    bounds = [
        found[-1].seq for found, limit in ((per_event, event_limit), (per_batch, batch_limit)) if len(found) >= limit
    ]
    if bounds:
        merged = [link for link in merged if link.seq <= min(bounds)]
    return merged


class SealingSQLiteRecorder(SQLitePersonalKeys, SQLiteTicketRows, SQLiteApplicationRecorder):
    """The library's SQLite recorder, plus one chain link per transaction in the same transaction,
    the days' ticket counters (``infra/store/tickets.py``) and the cases' personal-data keys
    (``infra/store/personal_keys.py``)."""

    audit_key: bytes | None = None

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.audit_table_name = f"{events_table_name}_audit"
        self.batch_table_name = batch_table(events_table_name)
        super().__init__(datastore, events_table_name)
        self.insert_link_statement = f"INSERT INTO {self.batch_table_name} ({BATCH_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
        batch_tail = f"FROM {self.batch_table_name} ORDER BY seq DESC LIMIT 1"
        event_tail = f"FROM {self.audit_table_name} ORDER BY seq DESC LIMIT 1"
        self.select_last_statement = (
            f"SELECT (SELECT MAX(rowid) FROM {events_table_name}), "
            f"COALESCE((SELECT seq {batch_tail}), (SELECT seq {event_tail})), "
            f"COALESCE((SELECT mac {batch_tail}), (SELECT mac {event_tail}))"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            (  # the per-event links of stores sealed before: read, never written
                f"CREATE TABLE IF NOT EXISTS {self.audit_table_name} ("
                "seq INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL, originator_id TEXT NOT NULL, "
                "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state_sha256 BLOB NOT NULL, "
                "mac BLOB NOT NULL)"
            ),
            (
                f"CREATE TABLE IF NOT EXISTS {self.batch_table_name} ("
                "seq INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, "
                "count INTEGER NOT NULL, digest BLOB NOT NULL, leaves BLOB NOT NULL, mac BLOB NOT NULL)"
            ),
            *self.ticket_table_statements(),
            *self.personal_key_statements(),
        ]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """One ``executemany`` for the events (the library executes one INSERT per event to learn
        its rowid), one query for the last rowid and the chain's tail, one INSERT for the link.
        The insert comes first: it takes SQLite's write lock, so no other writer comes between,
        and the new rows took the rowids after the previous largest, in order (SQLite's rule for
        a table without AUTOINCREMENT, unless the largest rowid was the largest integer)."""
        if self.audit_key is None:
            raise AuditKeyMissing()
        if not stored_events:
            return []
        c.executemany(
            self.insert_events_statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored_events
            ],
        )
        c.execute(self.select_last_statement)
        last, seq, mac = c.fetchone()
        if last == _LARGEST_ROWID:
            raise RuntimeError("事件表的 rowid 已达上限 / the events table's rowids are exhausted")
        notification_ids = list(range(last - len(stored_events) + 1, last + 1))
        tail = (seq, bytes(mac)) if seq is not None else (0, GENESIS)
        links = chain_links(self.audit_key, tail, stored_events, notification_ids)
        c.executemany(self.insert_link_statement, [link.row() for link in links])
        return notification_ids

    def select_links(self, after_seq: int, limit: int) -> list[AnyLink]:
        """The chain's links after position ``after_seq``, both formats, in position order."""
        batch_limit = min(limit, BATCH_PAGE)
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {LINK_COLUMNS} FROM {self.audit_table_name} WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
            per_event = [_link(row) for row in c.fetchall()]
            c.execute(
                f"SELECT {BATCH_COLUMNS} FROM {self.batch_table_name} WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, batch_limit),
            )
            per_batch = [_batch_link(row) for row in c.fetchall()]
        return _merge(per_event, per_batch, limit, batch_limit)

    def select_head(self) -> AnyLink | None:
        """The chain's last link: what the whole log looks like now, in one value."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {BATCH_COLUMNS} FROM {self.batch_table_name} ORDER BY seq DESC LIMIT 1")
            row = c.fetchone()
            if row:
                return _batch_link(row)
            c.execute(f"SELECT {LINK_COLUMNS} FROM {self.audit_table_name} ORDER BY seq DESC LIMIT 1")
            row = c.fetchone()
            return _link(row) if row else None


class SealingPostgresRecorder(OneTripSave, PostgresPersonalKeys, PostgresTicketRows, PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, plus one chain link per transaction in the same
    transaction (still holding the EXCLUSIVE lock on the events table), and the days' ticket
    counters (``infra/store/tickets.py``). A save is one call of a plpgsql function (``infra/store/
    pg_save.py``); the library's path (lock, insert, then the tail read and the link) remains for a
    writer that keeps meeting others."""

    audit_key: bytes | None = None
    genesis = GENESIS
    seal_links = staticmethod(chain_links)

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            # The stored-function path inserts without the Python hook below: links would be missing.
            raise ValueError("POSTGRES_ENABLE_DB_FUNCTIONS 与审计链不兼容，请关闭 / incompatible with the audit chain")
        self.audit_table_name = f"{events_table_name}_audit"
        self.batch_table_name = batch_table(events_table_name)
        self.check_identifier_length(self.audit_table_name)
        self.check_identifier_length(self.batch_table_name)
        table = Identifier(datastore.schema, self.audit_table_name)
        batches = Identifier(datastore.schema, self.batch_table_name)
        self.sql_create_statements.append(
            SQL(  # the per-event links of stores sealed before: read, never written
                "CREATE TABLE IF NOT EXISTS {} ("
                "seq bigint PRIMARY KEY, notification_id bigint NOT NULL, originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, topic text NOT NULL, state_sha256 bytea NOT NULL, "
                "mac bytea NOT NULL)"
            ).format(table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "seq bigint PRIMARY KEY, first_id bigint NOT NULL, last_id bigint NOT NULL, count bigint NOT NULL, "
                "digest bytea NOT NULL, leaves bytea NOT NULL, mac bytea NOT NULL)"
            ).format(batches)
        )
        batch_tail, event_tail = (SQL("FROM {} ORDER BY seq DESC LIMIT 1").format(name) for name in (batches, table))
        self.select_tail_statement = SQL(
            "SELECT COALESCE((SELECT seq {b}), (SELECT seq {e})) AS seq, "
            "COALESCE((SELECT mac {b}), (SELECT mac {e})) AS mac"
        ).format(b=batch_tail, e=event_tail)
        self.insert_link_statement = SQL("INSERT INTO {} (" + BATCH_COLUMNS + ") VALUES (%s,%s,%s,%s,%s,%s,%s)").format(
            batches
        )
        self.select_links_statement = SQL(
            "SELECT " + LINK_COLUMNS + " FROM {} WHERE seq > %s ORDER BY seq LIMIT %s"
        ).format(table)
        self.select_batches_statement = SQL(
            "SELECT " + BATCH_COLUMNS + " FROM {} WHERE seq > %s ORDER BY seq LIMIT %s"
        ).format(batches)
        self.select_head_statement = SQL("SELECT " + LINK_COLUMNS + " FROM {} ORDER BY seq DESC LIMIT 1").format(table)
        self.select_batch_head_statement = SQL("SELECT " + BATCH_COLUMNS + " FROM {} ORDER BY seq DESC LIMIT 1").format(
            batches
        )
        self.check_identifier_length(pending_table(events_table_name))  # the longer of the two tickets' tables
        self.sql_create_statements.extend(self.ticket_create_statements())
        self.check_identifier_length(keys_table(events_table_name))
        self.sql_create_statements.append(self.personal_key_statement())
        self.check_identifier_length(save_function_name(events_table_name))
        self.sql_create_statements.append(drop_old_save_function(datastore, events_table_name))
        self.sql_create_statements.append(
            create_save_function(datastore, events_table_name, self.audit_table_name, self.batch_table_name, GENESIS)
        )
        self.check_identifier_length(numbered_save_function_name(events_table_name))
        self.sql_create_statements.append(
            create_numbered_save_function(
                datastore, events_table_name, tickets_table(events_table_name), keys_table(events_table_name)
            )
        )
        self._one_trip_setup()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.audit_key is None:
            raise AuditKeyMissing()
        if not stored_events:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            notification_ids = self._save_sealed(curs, stored_events)
        if notification_ids is not None:
            return notification_ids
        return super().insert_events(stored_events, **kwargs)

    def _insert_sealed(self, curs: Any, stored_events: Sequence[StoredEvent]) -> Sequence[int] | None:
        """Inside a transaction (the ticket counter's): the function, else the library's path."""
        notification_ids = self._save_sealed(curs, stored_events)
        if notification_ids is not None:
            return notification_ids
        self._insert_stored_events(curs, stored_events)
        return self._fetch_ids_after_insert_events(curs, stored_events)

    def insert_numbered(self, days: Sequence[TicketDay], build: Build, keys: KeyRows = ()) -> Sequence[int] | None:
        """A few new cases (a call logged in the UI): one call of the numbered save function; a
        large batch, or one that kept meeting other writers: the ticket rows' transaction."""
        if self.audit_key is None:
            raise AuditKeyMissing()
        if sum(d.count for d in days) < self.speculate_from:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                notification_ids = self._save_numbered(curs, days, build, keys)
            if notification_ids is not None:
                return notification_ids
        return super().insert_numbered(days, build, keys)

    def _raise_rows(self, curs: Any, days: Sequence[TicketDay], announced: Sequence[int] = ()) -> dict[str, int]:
        firsts = super()._raise_rows(curs, days, announced)
        self._saw_lasts({d.day: firsts[d.day] + d.count - 1 for d in days})  # what the next call expects
        return firsts

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert self.audit_key is not None
        curs.execute(self.select_tail_statement, prepare=True)
        row = curs.fetchone()
        tail = (row["seq"], bytes(row["mac"])) if row and row["seq"] is not None else (0, GENESIS)
        links = chain_links(self.audit_key, tail, stored_events, notification_ids or [])
        curs.executemany(self.insert_link_statement, [link.row() for link in links])
        if links:
            self._saw_tail(links[-1].seq, links[-1].mac, links[-1].notification_id)
        return notification_ids

    def select_links(self, after_seq: int, limit: int) -> list[AnyLink]:
        """The chain's links after position ``after_seq``, both formats, in position order."""
        batch_limit = min(limit, BATCH_PAGE)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_links_statement, (after_seq, limit))
            per_event = [_link(tuple(row.values())) for row in curs.fetchall()]
            curs.execute(self.select_batches_statement, (after_seq, batch_limit))
            per_batch = [_batch_link(tuple(row.values())) for row in curs.fetchall()]
        return _merge(per_event, per_batch, limit, batch_limit)

    def select_head(self) -> AnyLink | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_batch_head_statement)
            row = curs.fetchone()
            if row:
                return _batch_link(tuple(row.values()))
            curs.execute(self.select_head_statement)
            row = curs.fetchone()
            return _link(tuple(row.values())) if row else None


SealingRecorder = SealingSQLiteRecorder | SealingPostgresRecorder

RECORDER_TOPICS = {
    "eventsourcing.sqlite": f"{__name__}:SealingSQLiteRecorder",
    "eventsourcing.postgres": f"{__name__}:SealingPostgresRecorder",
}


def _link(row: Sequence[Any]) -> Link:
    seq, notification_id, originator_id, version, topic, state_sha256, mac = row
    return Link(
        seq,
        notification_id,
        originator_id,
        version,
        topic,
        bytes(state_sha256),
        bytes(mac),
    )


def _batch_link(row: Sequence[Any]) -> BatchLink:
    seq, first_id, last_id, count, digest, leaves, mac = row
    return BatchLink(seq, first_id, last_id, count, bytes(digest), bytes(leaves), bytes(mac))


def seal_writes(recorder: Any, key: bytes) -> None:
    """Give the application's recorder the audit key; a recorder without it refuses to write."""
    if not isinstance(recorder, SealingSQLiteRecorder | SealingPostgresRecorder):
        raise TypeError(f"{type(recorder).__name__} does not seal events (APPLICATION_RECORDER_TOPIC not set?)")
    recorder.audit_key = key


# ---- verification ------------------------------------------------------------------------------

T = TypeVar("T")


class Pager(Generic[T]):
    """Reads a stream page by page. An empty buffer is refilled on every look, so a row committed
    after the last read is still seen: a reader never mistakes a write in progress for tampering."""

    def __init__(self, fetch: Callable[[int, int], list[T]], key: Callable[[T], int]):
        self._fetch, self._key, self._buffer, self._after = fetch, key, list[T](), 0

    def peek(self) -> T | None:
        if not self._buffer:
            self._buffer = list(reversed(self._fetch(self._after, PAGE)))
        return self._buffer[-1] if self._buffer else None

    def pop(self) -> T:
        item = self._buffer.pop()
        self._after = self._key(item)
        return item

    def start_after(self, position: int) -> None:
        """Read on from ``position`` (verified before), not from the beginning."""
        self._buffer, self._after = [], position


@dataclass(frozen=True)
class Finding:
    kind: str  # ALTERED, DELETED, INSERTED or REORDERED
    notification_id: int | None
    originator_id: str | None
    originator_version: int | None
    topic: str | None
    detail: str


@dataclass(frozen=True)
class Verification:
    checked: int  # events whose links verified before the first finding (all of them if intact)
    head: AnyLink | None  # the last verified link: note ``seq:mac`` somewhere safe as an anchor
    finding: Finding | None

    @property
    def intact(self) -> bool:
        return self.finding is None


def _about(kind: str, item: AnyLink | Notification, detail: str) -> Finding:
    if isinstance(item, BatchLink):
        return Finding(kind, item.first_id, None, None, None, detail)
    notification_id = item.notification_id if isinstance(item, Link) else item.id
    return Finding(
        kind,
        notification_id,
        str(item.originator_id),
        item.originator_version,
        item.topic,
        detail,
    )


def _unnamed(kind: str, notification_id: int | None, detail: str) -> Finding:
    return Finding(kind, notification_id, None, None, None, detail)


def _differences(link: Link, event: Notification) -> list[str]:
    fields = []
    if link.originator_id != str(event.originator_id):
        fields.append("originator_id")
    if link.originator_version != event.originator_version:
        fields.append("originator_version")
    if link.topic != event.topic:
        fields.append("topic")
    if link.state_sha256 != hashlib.sha256(event.state).digest():
        fields.append("state")
    return fields


NO_LINK = "事件没有审计链记录：不是应用写入的 / no chain link: not written by the application"
GONE = "事件已从事件表中删除 / event deleted from the events table"
FORGED_LINK = "审计链记录被改动或伪造（与密钥不符） / chain link altered or forged (MAC mismatch)"


def _altered(fields: list[str]) -> str:
    return f"事件被改动：{', '.join(fields)} / event altered: {', '.join(fields)}"


def _batch_finding(link: BatchLink, events: Sequence[Notification]) -> tuple[int, Finding | None]:
    """Hold the events with ids ``link.first_id`` … ``link.last_id`` (in id order) to the link:
    (how many of them, from the first, are as sealed; the first problem or None)."""
    if not link.well_formed():
        return 0, _about(
            ALTERED,
            link,
            f"审计链第 {link.seq} 条（通知编号 {link.first_id}–{link.last_id}）的事件摘要被改动：与其 MAC 不符 / the "
            f"event digests of chain link {link.seq} were altered: they no longer match its MAC",
        )
    by_id = {event.id: event for event in events}
    leaves = {event.id: _leaf_of(event) for event in events}
    if len(events) == link.count and all(leaves.get(link.first_id + i) == link.leaf(i) for i in range(link.count)):
        return link.count, None  # the common case: every event as sealed
    sealed_at = {link.leaf(i): i for i in range(link.count)}
    for i in range(link.count):
        position = link.first_id + i
        event, expected = by_id.get(position), link.leaf(i)
        if event is None:
            moved = next((other for other, leaf in leaves.items() if leaf == expected), None)
            where = f"（其内容现在第 {moved} 号） / (its content now sits at {moved})" if moved else ""
            return i, _unnamed(
                DELETED,
                position,
                f"同一事务中的第 {i + 1} 个事件（共 {link.count} 个）已从事件表中删除{where} / event {i + 1} of "
                f"the {link.count} its transaction stored was deleted from the events table",
            )
        if leaves[position] == expected:
            continue
        j = sealed_at.get(leaves[position])
        if j is not None:
            other = link.first_id + j
            if leaves.get(other) == expected:
                return i, _about(
                    REORDERED,
                    event,
                    f"事件 {position} 与事件 {other} 的次序被对调（同一事务） / "
                    f"events {position} and {other} were swapped",
                )
            if j == i + 1:
                return i, _unnamed(
                    DELETED,
                    position,
                    f"通知编号 {position} 的事件被删除，其后的事件被前移填补 / the event sealed at {position} was "
                    "deleted and the ones after it moved up",
                )
            return i, _about(
                REORDERED,
                event,
                f"事件 {position} 的内容原本封存在第 {other} 号 / event {position} holds the event sealed at {other}",
            )
        if leaves.get(position + 1) == expected:
            return i, _about(
                INSERTED,
                event,
                f"事件 {position} 被插入到同一事务的事件之间，原事件被后移 / event {position} was inserted "
                "into a transaction's events, pushing the sealed ones back",
            )
        fields = (["originator_id / originator_version / topic"] if leaves[position][:32] != expected[:32] else []) + (
            ["state"] if leaves[position][32:] != expected[32:] else []
        )
        return i, _about(ALTERED, event, _altered(fields))
    # Every position holds its sealed event, so the ids outside the range are the odd ones out.
    return link.count, None


OVERTAKEN = (
    "审计链第 {seq} 条已不是先前核验（锚点）时的那一条：最新的事件被删除后又写入了新事件，数量看起来正常"
    "（回退被新事件掩盖），或整条链被重写 / link {seq} is not the one verified before: the newest events were "
    "removed and new ones appended past the old position (a rollback overtaken), or the chain was rewritten"
)


def recheck(recorder: Any, seq: int, mac: bytes) -> Finding | None:
    """The link at position ``seq`` still carries ``mac`` (what an anchor, or an earlier check,
    verified there), and its events are still the ones it seals. None: it holds."""
    found = [link for link in recorder.select_links(seq - 1, 1) if link.seq == seq]
    if not found:
        return _unnamed(
            DELETED, None, f"审计链在已核验的第 {seq} 条之前被截断 / chain cut before the verified link {seq}"
        )
    link = found[0]
    if link.mac != mac:
        return _about(ALTERED, link, OVERTAKEN.format(seq=seq))
    events = [
        event
        for event in recorder.select_notifications(link.first_id, link.count)
        if link.first_id <= event.id <= link.notification_id
    ]
    if isinstance(link, BatchLink):
        return _batch_finding(link, events)[1]
    if not events or events[0].id != link.notification_id:
        return _about(DELETED, link, GONE)
    changed = _differences(link, events[0])
    return _about(ALTERED, events[0], _altered(changed)) if changed else None


def verify(
    recorder: Any, key: bytes, anchor: tuple[int, bytes] | None = None, since: AnyLink | None = None
) -> Verification:
    """Walk the events (by notification id) and the links (by position, per-event ones then
    per-transaction ones) side by side; stop at the first event that was altered, deleted,
    inserted or reordered behind the application's back.

    ``since``: a link verified before (the background check's last head): only what was appended
    after it is walked, once the link itself and the anchor (if at or before it) are found still
    in place (``recheck``), so that removing the newest events and appending new ones past the old
    position is found even though the count looks right. Without it the whole chain is walked."""
    events: Pager[Notification] = Pager(
        lambda after, limit: list(recorder.select_notifications(after, limit, inclusive_of_start=False)),
        lambda n: n.id,
    )
    links: Pager[AnyLink] = Pager(recorder.select_links, lambda link: link.seq)
    previous: AnyLink | None = None
    checked = 0
    if since is not None:
        for seq, mac in ((since.seq, since.mac), *([anchor] if anchor and anchor[0] <= since.seq else [])):
            finding = recheck(recorder, seq, mac)
            if finding is not None:
                return Verification(0, None, finding)
        events.start_after(since.notification_id)
        links.start_after(since.seq)
        previous = since

    def found(finding: Finding, verified: int = 0) -> Verification:
        return Verification(checked + verified, previous, finding)

    while (link := links.peek()) is not None:
        expected_seq = previous.seq + 1 if previous else 1
        after = previous.notification_id if previous else 0
        event = events.peek()
        if event is not None and event.id < link.first_id:
            return found(_about(INSERTED, event, NO_LINK))
        if link.seq < expected_seq:
            return found(
                _about(
                    ALTERED,
                    link,
                    f"审计链第 {link.seq} 条出现两次 / chain link {link.seq} appears twice",
                )
            )
        if link.seq > expected_seq:
            return found(
                _unnamed(
                    DELETED,
                    None,
                    f"审计链第 {expected_seq}–{link.seq - 1} 条连同其事件被删除（通知编号在 {after} 与 "
                    f"{link.first_id} 之间） / chain links {expected_seq}–{link.seq - 1} deleted with their "
                    f"events (notification ids between {after} and {link.first_id})",
                )
            )
        if link.sealed(key, previous.mac if previous else GENESIS).mac != link.mac:
            return found(_about(ALTERED, link, FORGED_LINK))
        if isinstance(link, BatchLink):
            covered: list[Notification] = []
            while (event := events.peek()) is not None and event.id <= link.last_id:
                covered.append(events.pop())
            verified, finding = _batch_finding(link, covered)
            if finding is not None:
                return found(finding, verified)
        else:
            if event is None or event.id > link.notification_id:
                return found(_about(DELETED, link, GONE))
            changed = _differences(link, event)
            if changed:
                return found(_about(ALTERED, event, _altered(changed)))
            events.pop()
        if anchor and link.seq == anchor[0] and link.mac != anchor[1]:
            return found(
                _about(ALTERED, link, "审计链与锚点不符：整条链被重写 / chain differs from the anchor: rewritten")
            )
        previous = links.pop()
        checked += link.count
    if (event := events.peek()) is not None:
        return found(_about(INSERTED, event, NO_LINK))
    if anchor and (previous is None or previous.seq < anchor[0]):
        return found(
            _unnamed(
                DELETED, None, f"审计链在锚点第 {anchor[0]} 条之前被截断 / chain cut before the anchor link {anchor[0]}"
            )
        )
    return Verification(checked, previous, None)
