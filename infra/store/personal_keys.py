"""Crypto-shredding: a case's personal fields sealed with the case's own key, kept apart from the events.

Every stored event is encrypted with the store's key (AES-256-GCM, ``CIPHER_KEY``). Inside it, a new
case's personal fields (``domain.privacy.PERSONAL_FIELDS``: the caller's name and phone, the
description and the address, where a caller's own details sit) are sealed once more with a key of
that case alone (AES-256-GCM, the case's id as associated data, so a sealed value cannot be moved to
another case). The keys live in a table of their own beside the events (``<events>_personal_keys``
in SQLite and PostgreSQL, a dict in the in-memory store of the tests), each wrapped with the store's
cipher when there is one. Destroying a case's key (``hotline privacy erase``, the retention job)
makes those fields unreadable wherever the event is: the store, its backups, a copy of the history.
The event's bytes do not change, so the audit chain (which hashes them) still verifies, and every
other field (the facts, the deadlines, the figures) still reads.

The key is written in the same transaction as the case (``insert_numbered(…, keys=…)`` of
infra/store/tickets.py, from ``CaseCommands._open``): a case is stored with its key or not at all,
and a batch that fails leaves no key behind (its keys leave the process's memory too).

Reading an event whose key is gone gives ``domain.privacy.ERASED`` for each sealed field. Events
stored before this (no ``personal_key``) hold the fields in clear inside the store's encryption; for
them, erasure is the ``PersonalDataErased`` event that the aggregate and the read models honour
(docs/privacy.md says what that leaves in the old bytes).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from hotline.domain.case import Case
from hotline.domain.privacy import ERASED, PERSONAL_FIELDS
from hotline.projections.store import SECURE_DELETE, checkpoint_sqlite

# The library's settings name the mapper by topic (config.event_store_env sets it).
TOPIC = f"{__name__}:SealingMapper"
SEALED_TOPICS = frozenset({Case.Opened.TOPIC, Case.Migrated.TOPIC})  # 迁移数据 too (hotline import cases)
SEALED = "sealed_personal"  # the state's field holding the sealed personal fields (base64)
KEY_BYTES = 32
NONCE_BYTES = 12


def new_key() -> bytes:
    return AESGCM.generate_key(KEY_BYTES * 8)


def new_key_id() -> str:
    return str(uuid.uuid4())


def new_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def keys_table(events_table_name: str) -> str:
    return f"{events_table_name}_personal_keys"


# ---- the key table, for each store --------------------------------------------------------------


class SQLitePersonalKeys:
    datastore: Any
    events_table_name: str

    def personal_key_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {keys_table(self.events_table_name)} "
            "(key_id TEXT PRIMARY KEY, key BLOB NOT NULL)"
        ]

    def insert_personal_keys(self, cursor: Any, rows: Sequence[tuple[str, bytes]]) -> None:
        """In the caller's transaction (the one storing the cases sealed with these keys)."""
        if rows:
            cursor.executemany(f"INSERT INTO {keys_table(self.events_table_name)} (key_id, key) VALUES (?, ?)", rows)

    def select_personal_keys(self, key_ids: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(key_ids), 500):
                chunk = list(key_ids[start : start + 500])
                c.execute(
                    f"SELECT key_id, key FROM {keys_table(self.events_table_name)} "
                    f"WHERE key_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update((row[0], bytes(row[1])) for row in c.fetchall())
        return found

    def delete_personal_keys(self, key_ids: Sequence[str]) -> int:
        deleted = 0
        with self.datastore.transaction(commit=True) as c:
            c.execute(SECURE_DELETE)  # the key's bytes zeroed in the page, not left in its free space
            for start in range(0, len(key_ids), 500):
                chunk = list(key_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                c.execute(f"DELETE FROM {keys_table(self.events_table_name)} WHERE key_id IN ({marks})", chunk)
                c.execute("SELECT changes()")
                deleted += int(c.fetchone()[0])
        checkpoint_sqlite(self.datastore)  # and the page's earlier versions gone from the WAL file
        return deleted


class PostgresPersonalKeys:
    datastore: Any
    events_table_name: str

    def _keys_table(self) -> Any:
        return Identifier(self.datastore.schema, keys_table(self.events_table_name))

    def personal_key_statement(self) -> Any:
        return SQL("CREATE TABLE IF NOT EXISTS {} (key_id text PRIMARY KEY, key bytea NOT NULL)").format(
            self._keys_table()
        )

    def insert_personal_keys(self, curs: Any, rows: Sequence[tuple[str, bytes]]) -> None:
        """In the caller's transaction (the one storing the cases sealed with these keys): one
        statement, its arrays in binary (as text, psycopg writes them element by element)."""
        if rows:
            ids, keys = zip(*rows, strict=True)
            curs.execute(
                SQL("INSERT INTO {} (key_id, key) SELECT * FROM unnest(%b::text[], %b::bytea[])").format(
                    self._keys_table()
                ),
                (list(ids), list(keys)),
                prepare=True,
            )

    def select_personal_keys(self, key_ids: Sequence[str]) -> dict[str, bytes]:
        if not key_ids:
            return {}
        statement = SQL("SELECT key_id, key FROM {} WHERE key_id = ANY(%s)").format(self._keys_table())
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(key_ids),))
            return {row["key_id"]: bytes(row["key"]) for row in curs.fetchall()}

    def delete_personal_keys(self, key_ids: Sequence[str]) -> int:
        statement = SQL("DELETE FROM {} WHERE key_id = ANY(%s)").format(self._keys_table())
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(statement, (list(key_ids),))
            return int(curs.rowcount or 0)


class MemoryPersonalKeys:
    """The in-memory store's key table: a dict apart from the events, under the store's lock."""

    _database_lock: threading.Lock

    def _personal_keys(self) -> dict[str, bytes]:
        return self.__dict__.setdefault("_personal_key_rows", {})  # type: ignore[no-any-return]

    def insert_personal_keys(self, _cursor: Any, rows: Sequence[tuple[str, bytes]]) -> None:
        """Under the store's lock (the caller holds it)."""
        table = self._personal_keys()
        if any(key_id in table for key_id, _ in rows):
            raise ValueError("personal key id issued twice")
        table.update(rows)

    def _remove_personal_keys(self, rows: Sequence[tuple[str, bytes]]) -> None:
        """A failed insert's keys taken back (the caller holds the lock)."""
        table = self._personal_keys()
        for key_id, _ in rows:
            table.pop(key_id, None)

    def select_personal_keys(self, key_ids: Sequence[str]) -> dict[str, bytes]:
        with self._database_lock:
            table = self._personal_keys()
            return {k: table[k] for k in key_ids if k in table}

    def delete_personal_keys(self, key_ids: Sequence[str]) -> int:
        with self._database_lock:
            table = self._personal_keys()
            return sum(table.pop(k, None) is not None for k in key_ids)


# ---- the keys, and the mapper that seals with them ----------------------------------------------


class Keyring:
    """The cases' keys: issued, looked up (and kept in memory once read), destroyed."""

    def __init__(self, recorder: Any, wrapping: Any | None):
        self._recorder = recorder
        self._wrapping = wrapping  # the store's cipher: a key is stored encrypted with it
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def make(self, count: int) -> tuple[list[str], list[tuple[str, bytes]]]:
        """``count`` new keys to seal new cases with, and their rows for the key table, which the
        store writes in the same transaction as the cases (``insert_numbered(…, keys=rows)``): a
        case and its key are stored together or not at all."""
        made = [(new_key_id(), new_key()) for _ in range(count)]
        with self._lock:
            self._cache.update(made)
        return [key_id for key_id, _ in made], [(key_id, self._wrap(key)) for key_id, key in made]

    def forget(self, key_ids: Sequence[str]) -> None:
        """Keys made for cases that were not stored (their transaction rolled back): out of memory."""
        with self._lock:
            for key_id in key_ids:
                self._cache.pop(key_id, None)

    def key(self, key_id: str) -> bytes | None:
        with self._lock:
            key = self._cache.get(key_id)
        if key is None:
            self.load([key_id])
            with self._lock:
                key = self._cache.get(key_id)
        return key

    def load(self, key_ids: Iterable[str]) -> dict[str, bytes]:
        """These keys, those not in memory read in one query (and kept); a destroyed one is absent."""
        ids = list(dict.fromkeys(key_ids))
        with self._lock:
            known = {k: self._cache[k] for k in ids if k in self._cache}
        wanted = [k for k in ids if k not in known]
        if wanted:
            found = {k: self._unwrap(stored) for k, stored in self._recorder.select_personal_keys(wanted).items()}
            with self._lock:
                self._cache.update(found)
            known.update(found)
        return known

    def destroy(self, key_ids: Sequence[str]) -> int:
        """Delete these keys for good: what they sealed is unreadable from now on."""
        ids = [k for k in key_ids if k]
        with self._lock:
            for key_id in ids:
                self._cache.pop(key_id, None)
        return int(self._recorder.delete_personal_keys(ids)) if ids else 0

    def _wrap(self, key: bytes) -> bytes:
        return self._wrapping.encrypt(key) if self._wrapping is not None else key

    def _unwrap(self, stored: bytes) -> bytes:
        return self._wrapping.decrypt(stored) if self._wrapping is not None else stored


def _aad(originator_id: Any) -> bytes:
    return str(originator_id).encode("ascii")


class SealingMapper(Mapper[Any]):
    """The library's mapper, sealing the personal fields of the events in ``SEALED_TOPICS`` with
    the case's key (``personal_key``) before the state is transcoded, encrypted and stored."""

    keyring: Keyring | None = None

    def attach(self, recorder: Any) -> Keyring | None:
        """Use the key table of ``recorder`` (one that has one); the application calls this once."""
        if not hasattr(recorder, "insert_personal_keys"):
            return None
        self.keyring = Keyring(recorder, self.cipher)
        return self.keyring

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        topic = get_topic(domain_event.__class__)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        if topic in SEALED_TOPICS and event_state.get("personal_key"):
            self._seal(event_state, originator_id)
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=stored_state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        domain_event = super().to_domain_event(stored_event)
        state = domain_event.__dict__
        if SEALED in state:
            self._unseal(state, stored_event)
        return domain_event

    def _seal(self, state: dict[str, Any], originator_id: Any) -> None:
        key = self.keyring.key(state["personal_key"]) if self.keyring is not None else None
        if key is None:  # never stored in clear when a key was promised
            raise RuntimeError(f"个人信息密钥 {state['personal_key']} 不存在，拒绝写入 / personal key missing")
        plain = json.dumps({name: state.pop(name) for name in PERSONAL_FIELDS}, ensure_ascii=False)
        nonce = new_nonce()
        sealed = nonce + AESGCM(key).encrypt(nonce, plain.encode("utf-8"), _aad(originator_id))
        state[SEALED] = base64.b64encode(sealed).decode("ascii")

    def to_domain_events(self, stored_events: Sequence[StoredEvent]) -> list[DomainEventProtocol[Any]]:
        """Many events at once (a page of the log for the read models): their keys in one query."""
        events = [Mapper.to_domain_event(self, stored) for stored in stored_events]
        sealed = [e.__dict__.get("personal_key") or "" for e in events if SEALED in e.__dict__]
        keys = self.keyring.load(sealed) if self.keyring is not None and sealed else {}
        for event, stored in zip(events, stored_events, strict=True):
            if SEALED in event.__dict__:
                self._unseal(event.__dict__, stored, keys)
        return events

    def _unseal(self, state: dict[str, Any], stored_event: StoredEvent, keys: dict[str, bytes] | None = None) -> None:
        """``keys``: those read for a page already (a key absent there is destroyed); None: look it up."""
        sealed = base64.b64decode(state.pop(SEALED))
        key_id = state.get("personal_key") or ""
        if keys is not None:
            key = keys.get(key_id)
        else:
            key = self.keyring.key(key_id) if self.keyring is not None else None
        if key is None:  # destroyed: erased, here as everywhere
            state.update(dict.fromkeys(PERSONAL_FIELDS, ERASED))
            return
        try:
            plain = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(stored_event.originator_id))
        except Exception as error:
            raise MapperDeserialisationError(
                f"个人信息无法解密 / personal fields of {stored_event.originator_id} do not open: {error!r}"
            ) from error
        state.update(json.loads(plain))
