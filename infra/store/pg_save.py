"""One round trip per save on PostgreSQL: a plpgsql function stores the events and their chain link.

The library's save is a pipeline (lock, notify, insert) followed here by the chain's tail read,
the links' insert and the commit: four round trips, the bound of a save on this store. The
function does it all in one autocommitted call, keeping what the projections and the audit chain
rely on: it takes the same EXCLUSIVE lock on the events table (so notification ids are issued in
commit order, and here without gaps), NOTIFYs the same channel, and writes the transaction's one
chain link (``infra/store/audit_chain.py``: first and last id, count, leaves, digest, MAC).

The link's MAC is computed in Python (the key never reaches the database), so it needs the
chain's tail and the notification ids before the call. The recorder keeps what it saw last (the
tail's seq and mac and the largest notification id) and the function checks it under the lock:
when it still holds (this process wrote last) the events and the link go in; when not (another
writer came between, or the first save of the process), the function stores nothing and answers
the real tail, and the recorder seals again with it (a second round trip). A writer that keeps
losing falls back to the library's path, which holds the lock across its round trips.

New cases take one call as well (``create_numbered_save_function``): their ticket numbers are part
of their events, so the process builds them with the numbers after the day's last one it saw, and
the function checks the day's row as it checks the tail. A day's first case (or one after another
writer's) costs a second call; the cases' own keys go in the same statement as the cases.

The arrays go in binary (``%b``): psycopg writes a text array element by element in Python (about
20 ms for a batch of 500 calls' 1,550 events, all of it inside the ticket row's lock), a binary one
in about 2 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier, Literal

from hotline.domain.tickets import TicketDay

ATTEMPTS = 5  # calls with the tail the database answered, before the library's path takes over


def save_function_name(events_table_name: str) -> str:
    return f"{events_table_name}_save"


def numbered_save_function_name(events_table_name: str) -> str:
    return f"{events_table_name}_save_numbered"


OLD_ARGUMENTS = "bigint, bytea, bigint, {id_type}[], bigint[], text[], bytea[], bytea[], bytea[]"


def drop_old_save_function(datastore: Any, events_table_name: str) -> Any:
    """The function of the per-event link format (one link per event, arrays of hashes and MACs):
    gone, so that a process of the code before cannot go on writing per-event links after this
    store switched to one link per transaction."""
    return SQL("DROP FUNCTION IF EXISTS {}(" + OLD_ARGUMENTS + ")").format(
        Identifier(datastore.schema, save_function_name(events_table_name)),
        id_type=SQL(datastore.originator_id_type),
    )


def create_save_function(
    datastore: Any, events_table_name: str, audit_table_name: str, batch_table_name: str, genesis: bytes
) -> Any:
    """The chain's tail is the last per-transaction link, else (a store sealed before, at its first
    save since) the last per-event one, else the start."""
    schema = datastore.schema
    events = Identifier(schema, events_table_name)
    audit = Identifier(schema, audit_table_name)
    batches = Identifier(schema, batch_table_name)
    return SQL(
        "CREATE OR REPLACE FUNCTION {function}(expected_seq bigint, expected_mac bytea, expected_id bigint, "
        "ids {id_type}[], versions bigint[], topics text[], states bytea[], digest bytea, leaves bytea, mac bytea) "
        "RETURNS TABLE (saved boolean, last_seq bigint, last_mac bytea, last_id bigint) "
        "LANGUAGE plpgsql AS $body$ "
        "DECLARE tail_seq bigint; tail_mac bytea; top_id bigint; n integer := cardinality(versions); "
        "BEGIN "
        "  SET LOCAL lock_timeout = {lock_timeout}; "
        "  LOCK TABLE {events} IN EXCLUSIVE MODE; "
        "  SELECT b.seq, b.mac INTO tail_seq, tail_mac FROM {batches} b ORDER BY b.seq DESC LIMIT 1; "
        "  IF NOT FOUND THEN "
        "    SELECT a.seq, a.mac INTO tail_seq, tail_mac FROM {audit} a ORDER BY a.seq DESC LIMIT 1; "
        "    IF NOT FOUND THEN tail_seq := 0; tail_mac := {genesis}; END IF; "
        "  END IF; "
        "  SELECT COALESCE(MAX(e.notification_id), 0) INTO top_id FROM {events} e; "
        "  IF tail_seq <> expected_seq OR tail_mac <> expected_mac OR top_id <> expected_id THEN "
        "    RETURN QUERY SELECT false, tail_seq, tail_mac, top_id; "
        "    RETURN; "
        "  END IF; "
        "  INSERT INTO {events} (notification_id, originator_id, originator_version, topic, state) "
        "    SELECT top_id + u.i, u.o, u.v, u.t, u.s "
        "    FROM unnest(ids, versions, topics, states) WITH ORDINALITY AS u(o, v, t, s, i); "
        "  INSERT INTO {batches} (seq, first_id, last_id, count, digest, leaves, mac) "
        "    VALUES (tail_seq + 1, top_id + 1, top_id + n, n, digest, leaves, mac); "
        "  PERFORM setval(pg_get_serial_sequence({events_name}, 'notification_id'), top_id + n); "
        "  NOTIFY {channel}; "
        "  RETURN QUERY SELECT true, tail_seq + 1, mac, top_id + n; "
        "END $body$"
    ).format(
        function=Identifier(schema, save_function_name(events_table_name)),
        id_type=SQL(datastore.originator_id_type),
        lock_timeout=Literal(f"{datastore.lock_timeout}s"),
        events=events,
        audit=audit,
        batches=batches,
        genesis=Literal(genesis),
        events_name=Literal(f'"{schema}"."{events_table_name}"'),
        channel=Identifier(events_table_name.replace(".", "_")),
    )


def create_numbered_save_function(
    datastore: Any, events_table_name: str, tickets_table_name: str, keys_table_name: str
) -> Any:
    """New cases in one call: the days' ticket rows (``infra/store/tickets.py``) seeded where new
    and locked in day order, as the transaction path locks them, before the events' table lock;
    when every row still holds the last number the caller expected (the numbers its cases were
    built with), the save function above stores the events and their link, and the rows are raised
    and the cases' keys inserted in the same statement. Otherwise nothing is stored (the save is
    asked with a tail that never holds, so that it answers the real one) and the rows' numbers go
    back with the tail: the caller builds again with them."""
    schema = datastore.schema
    return SQL(
        "CREATE OR REPLACE FUNCTION {function}(expected_seq bigint, expected_mac bytea, expected_id bigint, "
        "days text[], counts bigint[], legacy {id_type}[], expected_lasts bigint[], "
        "key_ids text[], key_values bytea[], "
        "ids {id_type}[], versions bigint[], topics text[], states bytea[], digest bytea, leaves bytea, mac bytea) "
        "RETURNS TABLE (saved boolean, last_seq bigint, last_mac bytea, last_id bigint, lasts bigint[]) "
        "LANGUAGE plpgsql AS $body$ "
        "DECLARE numbers bigint[] := '{{}}'; row_last bigint; expected boolean := true; r record; "
        "BEGIN "
        "  SET LOCAL lock_timeout = {lock_timeout}; "
        "  FOR i IN 1 .. cardinality(days) LOOP "
        "    SELECT t.last INTO row_last FROM {tickets} t WHERE t.day = days[i] FOR UPDATE; "
        "    IF NOT FOUND THEN "  # the day's first number: after an old TicketCounter's highest, if any
        "      INSERT INTO {tickets} (day, last) SELECT days[i], COALESCE(MAX(e.originator_version) - 1, 0) "
        "        FROM {events} e WHERE e.originator_id = legacy[i] ON CONFLICT (day) DO NOTHING; "
        "      SELECT t.last INTO row_last FROM {tickets} t WHERE t.day = days[i] FOR UPDATE; "
        "    END IF; "
        "    numbers := numbers || row_last; "
        "    expected := expected AND row_last IS NOT DISTINCT FROM expected_lasts[i]; "
        "  END LOOP; "
        "  SELECT * INTO r FROM {save}(CASE WHEN expected THEN expected_seq ELSE -1 END, expected_mac, "
        "    expected_id, ids, versions, topics, states, digest, leaves, mac); "
        "  IF r.saved THEN "
        "    FOR i IN 1 .. cardinality(days) LOOP "
        "      UPDATE {tickets} t SET last = t.last + counts[i] WHERE t.day = days[i]; "
        "      numbers[i] := numbers[i] + counts[i]; "
        "    END LOOP; "
        "    IF cardinality(key_ids) > 0 THEN "
        "      INSERT INTO {keys} (key_id, key) SELECT * FROM unnest(key_ids, key_values); "
        "    END IF; "
        "  END IF; "
        "  RETURN QUERY SELECT r.saved, r.last_seq, r.last_mac, r.last_id, numbers; "
        "END $body$"
    ).format(
        function=Identifier(schema, numbered_save_function_name(events_table_name)),
        id_type=SQL(datastore.originator_id_type),
        lock_timeout=Literal(f"{datastore.lock_timeout}s"),
        tickets=Identifier(schema, tickets_table_name),
        events=Identifier(schema, events_table_name),
        keys=Identifier(schema, keys_table_name),
        save=Identifier(schema, save_function_name(events_table_name)),
    )


def _columns(stored_events: Sequence[StoredEvent]) -> tuple[list[Any], list[int], list[str], list[bytes]]:
    """The events as the functions take them: one array per column."""
    return (
        [e.originator_id for e in stored_events],
        [e.originator_version for e in stored_events],
        [e.topic for e in stored_events],
        [e.state for e in stored_events],
    )


class OneTripSave:
    """For the sealing PostgreSQL recorder: ``_save_sealed`` on a cursor (autocommitted: one round
    trip; or inside the ticket counter's transaction)."""

    datastore: Any
    events_table_name: str
    audit_key: bytes | None
    audit_table_name: str
    batch_table_name: str
    genesis: bytes
    seal_links: Callable[..., list[Any]]  # audit_chain.chain_links

    def _one_trip_setup(self) -> None:
        schema = self.datastore.schema
        self._tail_lock = threading.Lock()
        self._tail_seen: tuple[int, bytes, int] = (-1, b"", -1)  # nothing seen yet: the first call asks
        self._lasts_seen: dict[str, int] = {}  # each day's last ticket number, as this process saw it last
        self._numbered_call = SQL(
            "SELECT saved, last_seq, last_mac, last_id, lasts FROM {}(%s::bigint, %s::bytea, %s::bigint, "
            "%b::text[], %b::bigint[], %b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[], "
            "%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea, %b::bytea, %b::bytea)"
        ).format(
            Identifier(schema, numbered_save_function_name(self.events_table_name)),
            id_type=SQL(self.datastore.originator_id_type),
        )
        self._save_call = SQL(
            "SELECT saved, last_seq, last_mac, last_id FROM {}(%s::bigint, %s::bytea, %s::bigint, "
            "%b::{}[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea, %b::bytea, %b::bytea)"
        ).format(
            Identifier(schema, save_function_name(self.events_table_name)),
            SQL(self.datastore.originator_id_type),
        )
        batch_tail, event_tail = (
            SQL("FROM {} ORDER BY seq DESC LIMIT 1").format(Identifier(schema, name))
            for name in (self.batch_table_name, self.audit_table_name)
        )
        self._tail_query = SQL(
            "SELECT COALESCE((SELECT seq {b}), (SELECT seq {e}), 0) AS seq, "
            "COALESCE((SELECT mac {b}), (SELECT mac {e}), {genesis}) AS mac, "
            "(SELECT COALESCE(MAX(notification_id), 0) FROM {events}) AS top"
        ).format(
            b=batch_tail, e=event_tail, genesis=Literal(self.genesis), events=Identifier(schema, self.events_table_name)
        )

    def _read_tail(self, curs: Any) -> None:
        """Look at the chain's tail now (one small query), when another writer has probably written
        since this process did: the call then goes in at the first try instead of the second."""
        curs.execute(self._tail_query, prepare=True)
        row = curs.fetchone()
        self._saw_tail(row["seq"], bytes(row["mac"]), row["top"])

    def _saw_tail(self, seq: int, mac: bytes, notification_id: int) -> None:
        with self._tail_lock:
            self._tail_seen = (seq, mac, notification_id)

    def _saw_lasts(self, lasts: dict[str, int]) -> None:
        with self._tail_lock:
            self._lasts_seen.update(lasts)

    def _save_numbered(
        self,
        curs: Any,
        days: Sequence[TicketDay],
        build: Callable[[dict[str, int]], Sequence[StoredEvent]],
        keys: Sequence[tuple[str, bytes]],
    ) -> list[int] | None:
        """New cases, their keys and the days' ticket rows in one autocommitted call, built with
        the numbers after the last ones this process saw; when another writer took numbers or
        wrote events since, the call stores nothing and answers what holds now, and the cases are
        built again with it. None when other writers kept coming between (the caller takes the
        transaction path)."""
        assert self.audit_key is not None
        ordered = sorted(days, key=lambda d: d.day)  # the rows' lock order, as on the transaction path
        names = [d.day for d in ordered]
        counts = [d.count for d in ordered]
        legacy = [d.legacy_id for d in ordered]
        key_ids = [key_id for key_id, _ in keys]
        key_values = [value for _, value in keys]
        with self._tail_lock:
            seq, mac, top = self._tail_seen
            lasts: list[int | None] = [self._lasts_seen.get(day) for day in names]
        stored_events: Sequence[StoredEvent] = []
        built_with: list[int | None] = []
        columns = _columns(stored_events)
        for _ in range(ATTEMPTS):
            seal = (b"", b"", b"")
            if None in lasts:  # a day not seen yet: ask (nothing built, nothing stored)
                stored_events, built_with = [], []
                columns = _columns(stored_events)
            else:
                if lasts != built_with:  # else only the chain's tail moved: the same cases, sealed again
                    stored_events = build(
                        {day: last + 1 for day, last in zip(names, lasts, strict=True) if last is not None}
                    )
                    built_with = list(lasts)
                    columns = _columns(stored_events)
                if not stored_events:
                    return None
                notification_ids = list(range(top + 1, top + 1 + len(stored_events)))
                [link] = self.seal_links(self.audit_key, (seq, mac), stored_events, notification_ids)
                seal = (link.digest, link.leaves, link.mac)
            curs.execute(
                self._numbered_call,
                (seq, mac, top, names, counts, legacy, lasts, key_ids, key_values, *columns, *seal),
                prepare=True,
            )
            row = curs.fetchone()
            seq, mac, top, lasts = row["last_seq"], bytes(row["last_mac"]), row["last_id"], list(row["lasts"])
            with self._tail_lock:
                self._tail_seen = (seq, mac, top)
                self._lasts_seen.update(zip(names, row["lasts"], strict=True))
            if row["saved"] and stored_events:
                return notification_ids
        return None

    def _save_sealed(self, curs: Any, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The events and their links, in one call when the tail seen last still holds; None when
        other writers kept coming between (the caller takes the library's path)."""
        assert self.audit_key is not None
        n = len(stored_events)
        ids, versions, topics, states = _columns(stored_events)
        with self._tail_lock:
            seq, mac, top = self._tail_seen
        for _ in range(ATTEMPTS):
            notification_ids = list(range(top + 1, top + 1 + n))
            [link] = self.seal_links(self.audit_key, (seq, mac), stored_events, notification_ids)  # ids consecutive
            curs.execute(
                self._save_call,
                (seq, mac, top, ids, versions, topics, states, link.digest, link.leaves, link.mac),
                prepare=True,
            )
            row = curs.fetchone()
            seq, mac, top = row["last_seq"], bytes(row["last_mac"]), row["last_id"]
            self._saw_tail(seq, mac, top)
            if row["saved"]:
                return notification_ids
        return None
