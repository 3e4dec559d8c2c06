"""Tamper evidence (防止数据造假): a keyed hash chain over the stored events.

Every stored event gets a link in ``<events table>_audit`` written by the recorder in the SAME
transaction as the event, so a link exists exactly when the application wrote the event, from any
process (web, CLI, Kafka consumers). Link n holds the event's notification id, aggregate id and
version, topic and the SHA-256 of its stored (encrypted) state, and

    mac_n = HMAC-SHA256(audit key, mac_{n-1} ‖ n ‖ those fields)

Writers are serialised by the store (SQLite has one writer at a time; the PostgreSQL recorder locks
the events table in EXCLUSIVE mode before inserting), so reading the chain's last link inside the
insert transaction is race-free. Someone with database access but without the key can change rows
but cannot make links that verify. ``verify`` walks events and links side by side and names the
first event altered, deleted or inserted behind the application's back. What it cannot see (a cut
tail, snapshots) is set out in docs/reliability.md.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.sql import SQL, Identifier

from hotline.infra.store.personal_keys import PostgresPersonalKeys, SQLitePersonalKeys, keys_table
from hotline.infra.store.pg_save import OneTripSave, create_save_function, save_function_name
from hotline.infra.store.tickets import Build, PostgresTicketRows, SQLiteTicketRows, TicketDay, pending_table

GENESIS = bytes(32)
_LARGEST_ROWID = 2**63 - 1
PAGE = 2000
ALTERED, DELETED, INSERTED = "altered", "deleted", "inserted"


class AuditKeyMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "审计链密钥未设置，拒绝写入未封存的事件：请通过 infra.bootstrap 构建应用 / "
            "no audit key: refusing to store unsealed events (build the application with infra.bootstrap)"
        )


_NUMBERS = struct.Struct(">qqq").pack
_LENGTH = struct.Struct(">I").pack


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return _LENGTH(len(data)) + data


_topic_text = functools.lru_cache(maxsize=1024)(_text)  # a few dozen topics, met on every event


@dataclass(frozen=True)
class Link:
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
        mac = hmac.digest(key, self.message(previous_mac), "sha256")
        return Link(
            self.seq,
            self.notification_id,
            self.originator_id,
            self.originator_version,
            self.topic,
            self.state_sha256,
            mac,
        )

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


def link_for(seq: int, notification_id: int, event: StoredEvent) -> Link:
    return Link(
        seq=seq,
        notification_id=notification_id,
        originator_id=str(event.originator_id),
        originator_version=event.originator_version,
        topic=event.topic,
        state_sha256=hashlib.sha256(event.state).digest(),
    )


def chain_links(
    key: bytes,
    tail: tuple[int, bytes],
    events: Sequence[StoredEvent],
    notification_ids: Sequence[int],
) -> list[Link]:
    """The links that seal ``events`` after the chain's last link ``tail`` = (seq, mac)."""
    seq, mac = tail
    links = []
    for event, notification_id in zip(events, notification_ids, strict=True):
        seq += 1
        link = link_for(seq, notification_id, event).sealed(key, mac)
        mac = link.mac
        links.append(link)
    return links


LINK_COLUMNS = "seq, notification_id, originator_id, originator_version, topic, state_sha256, mac"


class SealingSQLiteRecorder(SQLitePersonalKeys, SQLiteTicketRows, SQLiteApplicationRecorder):
    """The library's SQLite recorder, plus one chain link per event in the same transaction, the
    days' ticket counters (``infra/store/tickets.py``) and the cases' personal-data keys
    (``infra/store/personal_keys.py``)."""

    audit_key: bytes | None = None

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.audit_table_name = f"{events_table_name}_audit"
        super().__init__(datastore, events_table_name)
        self.insert_link_statement = f"INSERT INTO {self.audit_table_name} ({LINK_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
        tail = f"FROM {self.audit_table_name} ORDER BY seq DESC LIMIT 1"
        self.select_last_statement = (
            f"SELECT (SELECT MAX(rowid) FROM {events_table_name}), (SELECT seq {tail}), (SELECT mac {tail})"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.audit_table_name} ("
                "seq INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL, originator_id TEXT NOT NULL, "
                "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state_sha256 BLOB NOT NULL, "
                "mac BLOB NOT NULL)"
            ),
            *self.ticket_table_statements(),
            *self.personal_key_statements(),
        ]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """One ``executemany`` for the events (the library executes one INSERT per event to learn
        its rowid), one query for the last rowid and the chain's tail, one ``executemany`` for the
        links. The insert comes first: it takes SQLite's write lock, so no other writer comes
        between, and the new rows took the rowids after the previous largest, in order (SQLite's
        rule for a table without AUTOINCREMENT, unless the largest rowid was the largest integer)."""
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

    def select_links(self, after_seq: int, limit: int) -> list[Link]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {LINK_COLUMNS} FROM {self.audit_table_name} WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
            return [_link(row) for row in c.fetchall()]

    def select_head(self) -> Link | None:
        """The chain's last link: what the whole log looks like now, in one value."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {LINK_COLUMNS} FROM {self.audit_table_name} ORDER BY seq DESC LIMIT 1")
            row = c.fetchone()
            return _link(row) if row else None


class SealingPostgresRecorder(OneTripSave, PostgresPersonalKeys, PostgresTicketRows, PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, plus one chain link per event in the same transaction
    (still holding the EXCLUSIVE lock on the events table), and the days' ticket counters
    (``infra/store/tickets.py``). A save is one call of a plpgsql function (``infra/store/
    pg_save.py``); the library's path (lock, insert, then the tail read and the links) remains
    for a writer that keeps meeting others."""

    audit_key: bytes | None = None
    genesis = GENESIS
    seal_links = staticmethod(chain_links)

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            # The stored-function path inserts without the Python hook below: links would be missing.
            raise ValueError("POSTGRES_ENABLE_DB_FUNCTIONS 与审计链不兼容，请关闭 / incompatible with the audit chain")
        self.audit_table_name = f"{events_table_name}_audit"
        self.check_identifier_length(self.audit_table_name)
        table = Identifier(datastore.schema, self.audit_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "seq bigint PRIMARY KEY, notification_id bigint NOT NULL, originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, topic text NOT NULL, state_sha256 bytea NOT NULL, "
                "mac bytea NOT NULL)"
            ).format(table)
        )
        self.select_tail_statement = SQL("SELECT seq, mac FROM {} ORDER BY seq DESC LIMIT 1").format(table)
        self.insert_link_statement = SQL("INSERT INTO {} (" + LINK_COLUMNS + ") VALUES (%s,%s,%s,%s,%s,%s,%s)").format(
            table
        )
        self.select_links_statement = SQL(
            "SELECT " + LINK_COLUMNS + " FROM {} WHERE seq > %s ORDER BY seq LIMIT %s"
        ).format(table)
        self.select_head_statement = SQL("SELECT " + LINK_COLUMNS + " FROM {} ORDER BY seq DESC LIMIT 1").format(table)
        self.check_identifier_length(pending_table(events_table_name))  # the longer of the two tickets' tables
        self.sql_create_statements.extend(self.ticket_create_statements())
        self.check_identifier_length(keys_table(events_table_name))
        self.sql_create_statements.append(self.personal_key_statement())
        self.check_identifier_length(save_function_name(events_table_name))
        self.sql_create_statements.append(
            create_save_function(datastore, events_table_name, self.audit_table_name, GENESIS)
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

    def insert_numbered(self, days: Sequence[TicketDay], build: Build) -> Sequence[int] | None:
        if self.audit_key is None:
            raise AuditKeyMissing()
        return super().insert_numbered(days, build)

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert self.audit_key is not None
        curs.execute(self.select_tail_statement, prepare=True)
        row = curs.fetchone()
        tail = (row["seq"], bytes(row["mac"])) if row else (0, GENESIS)
        links = chain_links(self.audit_key, tail, stored_events, notification_ids or [])
        curs.executemany(self.insert_link_statement, [link.row() for link in links])
        if links:
            self._saw_tail(links[-1].seq, links[-1].mac, links[-1].notification_id)
        return notification_ids

    def select_links(self, after_seq: int, limit: int) -> list[Link]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_links_statement, (after_seq, limit))
            return [_link(tuple(row.values())) for row in curs.fetchall()]

    def select_head(self) -> Link | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
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
    kind: str  # ALTERED, DELETED or INSERTED
    notification_id: int | None
    originator_id: str | None
    originator_version: int | None
    topic: str | None
    detail: str


@dataclass(frozen=True)
class Verification:
    checked: int  # events whose links verified before the first finding (all of them if intact)
    head: Link | None  # the last verified link: note ``seq:mac`` somewhere safe as an anchor
    finding: Finding | None

    @property
    def intact(self) -> bool:
        return self.finding is None


def _about(kind: str, item: Link | Notification, detail: str) -> Finding:
    notification_id = item.notification_id if isinstance(item, Link) else item.id
    return Finding(
        kind,
        notification_id,
        str(item.originator_id),
        item.originator_version,
        item.topic,
        detail,
    )


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


OVERTAKEN = (
    "审计链第 {seq} 条已不是先前核验（锚点）时的那一条：最新的事件被删除后又写入了新事件，数量看起来正常"
    "（回退被新事件掩盖），或整条链被重写 / link {seq} is not the one verified before: the newest events were "
    "removed and new ones appended past the old position (a rollback overtaken), or the chain was rewritten"
)


def recheck(recorder: Any, seq: int, mac: bytes) -> Finding | None:
    """The link at position ``seq`` still carries ``mac`` (what an anchor, or an earlier check,
    verified there), and its event is still the one it seals. None: it holds."""
    found = recorder.select_links(seq - 1, 1)
    if not found or found[0].seq != seq:
        return Finding(
            DELETED,
            None,
            None,
            None,
            None,
            f"审计链在已核验的第 {seq} 条之前被截断 / chain cut before the verified link {seq}",
        )
    link = found[0]
    if link.mac != mac:
        return _about(ALTERED, link, OVERTAKEN.format(seq=seq))
    events = list(recorder.select_notifications(link.notification_id, 1))
    if not events or events[0].id != link.notification_id:
        return _about(DELETED, link, "事件已从事件表中删除 / event deleted from the events table")
    changed = _differences(link, events[0])
    if changed:
        return _about(ALTERED, events[0], f"事件被改动：{', '.join(changed)} / event altered: {', '.join(changed)}")
    return None


def verify(
    recorder: Any, key: bytes, anchor: tuple[int, bytes] | None = None, since: Link | None = None
) -> Verification:
    """Walk the events (by notification id) and the links (by position) side by side; stop at the
    first event that was altered, deleted or inserted behind the application's back.

    ``since``: a link verified before (the background check's last head): only what was appended
    after it is walked, once the link itself and the anchor (if at or before it) are found still
    in place (``recheck``), so that removing the newest events and appending new ones past the old
    position is found even though the count looks right. Without it the whole chain is walked."""
    events: Pager[Notification] = Pager(
        lambda after, limit: list(recorder.select_notifications(after, limit, inclusive_of_start=False)),
        lambda n: n.id,
    )
    links: Pager[Link] = Pager(recorder.select_links, lambda link: link.seq)
    previous: Link | None = None
    checked = 0
    if since is not None:
        for seq, mac in ((since.seq, since.mac), *([anchor] if anchor and anchor[0] <= since.seq else [])):
            finding = recheck(recorder, seq, mac)
            if finding is not None:
                return Verification(0, None, finding)
        events.start_after(since.notification_id)
        links.start_after(since.seq)
        previous = since

    def found(kind: str, item: Link | Notification, detail: str) -> Verification:
        return Verification(checked, previous, _about(kind, item, detail))

    while (link := links.peek()) is not None:
        expected_seq = previous.seq + 1 if previous else 1
        after = previous.notification_id if previous else 0
        event = events.peek()
        if event is not None and event.id < link.notification_id:
            return found(
                INSERTED,
                event,
                "事件没有审计链记录：不是应用写入的 / no chain link: not written by the application",
            )
        if link.seq != expected_seq:
            return Verification(
                checked,
                previous,
                Finding(
                    DELETED,
                    None,
                    None,
                    None,
                    None,
                    f"审计链第 {expected_seq}–{link.seq - 1} 条连同其事件被删除（通知编号在 {after} 与 "
                    f"{link.notification_id} 之间） / chain links {expected_seq}–{link.seq - 1} deleted with their "
                    f"events (notification ids between {after} and {link.notification_id})",
                ),
            )
        if link.sealed(key, previous.mac if previous else GENESIS).mac != link.mac:
            return found(
                ALTERED,
                link,
                "审计链记录被改动或伪造（与密钥不符） / chain link altered or forged (MAC mismatch)",
            )
        if event is None or event.id > link.notification_id:
            return found(
                DELETED,
                link,
                "事件已从事件表中删除 / event deleted from the events table",
            )
        changed = _differences(link, event)
        if changed:
            return found(
                ALTERED,
                event,
                f"事件被改动：{', '.join(changed)} / event altered: {', '.join(changed)}",
            )
        if anchor and link.seq == anchor[0] and link.mac != anchor[1]:
            return found(
                ALTERED,
                link,
                "审计链与锚点不符：整条链被重写 / chain differs from the anchor: rewritten",
            )
        previous = links.pop()
        events.pop()
        checked += 1
    if (event := events.peek()) is not None:
        return found(
            INSERTED,
            event,
            "事件没有审计链记录：不是应用写入的 / no chain link: not written by the application",
        )
    if anchor and (previous is None or previous.seq < anchor[0]):
        return Verification(
            checked,
            previous,
            Finding(
                DELETED,
                None,
                None,
                None,
                None,
                f"审计链在锚点第 {anchor[0]} 条之前被截断 / chain cut before the anchor link {anchor[0]}",
            ),
        )
    return Verification(checked, previous, None)
