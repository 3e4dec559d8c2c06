"""Where the read models live: one views store per deployment, built on eventsourcing's
tracking recorders so that each view's position is written in the same transaction as its rows.

SQLite: a file of its own (``views.sqlite3`` beside the event store: the library's table names are
fixed, so events and views cannot share a file). PostgreSQL: the events' own database and schema,
tracking table ``hotline_views_tracking``. Every view tracks its position under its own name
(``hotline.cases`` …) in that one tracking table, so views can be rebuilt one at a time.

The SQL the views write is the same on both stores: ``?`` placeholders (turned into ``%s`` for
psycopg), ``INSERT … ON CONFLICT … DO UPDATE``, TEXT timestamps in one fixed format and offset
(Beijing time, microseconds) so that text order is time order on both.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

VIEWS_NAME = "hotline_views"
COPY_AT_LEAST = 200  # rows from which PostgreSQL upserts go through COPY


class ViewRecorder:
    """What every view needs from the store (mixed into both tracking recorders, which each
    define ``table(name)`` and ``tracking_table()`` for their own naming)."""

    dialect = ""

    def sql(self, statement: str) -> str:
        return statement

    @contextmanager
    def writing(self, tracking: Tracking | None) -> Iterator[Any]:
        """One transaction: the caller writes rows, then the position is recorded with them."""
        with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            yield cursor
            if tracking is not None:
                self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]

    def lock_tables(self, cursor: Any) -> None:
        """Before creating, dropping or swapping views' tables: one process at a time until this
        transaction ends. Two processes creating the same table at once (a web worker starting while
        a rebuild makes its tables again) would otherwise fail on PostgreSQL's catalogue (a
        ``pg_type`` duplicate key). SQLite has one writer already."""

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute(self.sql(statement), tuple(params))
            return [dict(row) for row in cursor.fetchall()]

    def execute(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self.sql(statement), tuple(params))

    def executemany(self, cursor: Any, statement: str, rows: list[Sequence[Any]]) -> None:
        if rows:
            cursor.executemany(self.sql(statement), rows)

    def upsert(self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """Insert or replace rows keyed by the first column (no key twice in ``rows``)."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        self.executemany(
            cursor,
            f"INSERT INTO {self.table(name)} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # type: ignore[attr-defined]
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}",
            rows,
        )

    def copy_rows(
        self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]], temporary: bool = False
    ) -> None:
        """Append rows to a table (``temporary``: a temporary table of this transaction, unqualified)."""
        target = name if temporary else self.table(name)  # type: ignore[attr-defined]
        self.executemany(
            cursor, f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
        )

    def add_counts(self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """Add counts to a table of totals: each row is its key, its other text columns and, last, the
        count (``n``), added to the stored one or inserted (no key twice in ``rows``)."""
        self.executemany(
            cursor,
            f"INSERT INTO {self.table(name)} AS t ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # type: ignore[attr-defined]
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {columns[-1]} = t.{columns[-1]} + excluded.{columns[-1]}",
            rows,
        )

    def update_rows(self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """Set ``columns[1:]`` of the rows keyed by ``columns[0]`` (text columns)."""
        sets = ", ".join(f"{c} = ?" for c in columns[1:])
        self.executemany(
            cursor,
            f"UPDATE {self.table(name)} SET {sets} WHERE {columns[0]} = ?",  # type: ignore[attr-defined]
            [(*row[1:], row[0]) for row in rows],
        )

    def analyse(self, names: Sequence[str], between: Callable[[], None] | None = None) -> None:
        """Fresh planner statistics for tables just filled (after a rebuild); ``between`` is called
        after each table (a runner's beat: other processes see it is still at work)."""
        for name in names:
            with self.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
                cursor.execute(f"ANALYZE {self.table(name)}")  # type: ignore[attr-defined]
            if between:
                between()

    def select(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor.execute(self.sql(statement), tuple(params))
        return [dict(row) for row in cursor.fetchall()]

    def columns(self, cursor: Any, name: str) -> set[str]:
        """The columns a table has now."""
        raise NotImplementedError

    def position(self, tracking_name: str) -> int:
        return self.max_tracking_id(tracking_name) or 0  # type: ignore[attr-defined]

    def positions(self, tracking_names: Sequence[str]) -> dict[str, int]:
        """Several views' positions in one round trip (every page asks for all of them)."""
        rows = self.query(
            f"SELECT application_name AS name, MAX(notification_id) AS n FROM {self.tracking_table()} "  # type: ignore[attr-defined]
            f"WHERE application_name IN ({','.join('?' * len(tracking_names))}) GROUP BY application_name",
            list(tracking_names),
        )
        found = {row["name"]: int(row["n"] or 0) for row in rows}
        return {name: found.get(name, 0) for name in tracking_names}

    def forget(self, cursor: Any, tracking_name: str) -> None:
        """Delete a view's position (for a rebuild from zero)."""
        self.execute(cursor, f"DELETE FROM {self.tracking_table()} WHERE application_name = ?", (tracking_name,))


# SQLite keeps what a row held before an update in the page's free space, and the page's earlier
# versions in the WAL file until a checkpoint: an erased caller's words would still be in the file.
SECURE_DELETE = "PRAGMA secure_delete = FAST"  # freed content zeroed, at no extra I/O


def checkpoint_sqlite(datastore: Any) -> bool:
    """Copy the WAL into the database file and empty it (the earlier page versions go with it);
    False when a reader still holds an older snapshot and the WAL could not be emptied yet."""
    with datastore.get_connection(commit=True) as connection:
        # The library's connection runs every transaction in BEGIN … COMMIT; a checkpoint needs none.
        busy, _, _ = connection._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


class SQLiteViewRecorder(ViewRecorder, SQLiteTrackingRecorder):
    dialect = "sqlite"

    @contextmanager
    def writing(self, tracking: Tracking | None) -> Iterator[Any]:
        with super().writing(tracking) as cursor:
            cursor.execute(SECURE_DELETE)
            yield cursor

    def checkpoint(self) -> bool:
        return checkpoint_sqlite(self.datastore)

    def table(self, name: str) -> str:
        return name

    def index(self, name: str) -> str:
        return name

    def tracking_table(self) -> str:
        return "tracking"

    def columns(self, cursor: Any, name: str) -> set[str]:
        cursor.execute(f"PRAGMA table_info({name})")
        return {row[1] for row in cursor.fetchall()}


def without_nul(rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """PostgreSQL text cannot hold NUL: a NUL stored in an event before text was checked
    (domain/text.py) reaches the views as U+FFFD, instead of failing every page and rebuild."""
    # Nearly always none: one search over the batch's text, then the rows as they are.
    if "\x00" not in "".join([v for row in rows for v in row if v.__class__ is str]):
        return rows
    return [
        tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) and "\x00" in v else v for v in row)
        if any(isinstance(v, str) and "\x00" in v for v in row)
        else row
        for row in rows
    ]


class PostgresViewRecorder(ViewRecorder, PostgresTrackingRecorder):
    dialect = "postgres"

    def execute(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> None:
        super().execute(cursor, statement, without_nul([params])[0])

    def executemany(self, cursor: Any, statement: str, rows: list[Sequence[Any]]) -> None:
        super().executemany(cursor, statement, without_nul(rows))

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """One autocommitted statement: a read alone needs no BEGIN and ROLLBACK around it, two
        round trips of the three a page's every query paid."""
        values = tuple(without_nul([params])[0])  # a NUL typed into a search box
        with self.datastore.get_connection() as connection:
            connection.autocommit = True
            try:
                return [dict(row) for row in connection.execute(self.sql(statement), values).fetchall()]
            finally:
                if not connection.closed:
                    connection.autocommit = False

    def select(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return super().select(cursor, statement, without_nul([params])[0])

    def table(self, name: str) -> str:
        return f'"{self.datastore.schema}"."{name}"'

    def lock_tables(self, cursor: Any) -> None:
        # A key of its own (not bootstrap's schema setup lock, which the same process may hold on
        # another connection): the same number in every process for this schema.
        key = zlib.crc32(f"hotline views tables {self.datastore.schema}".encode())
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def index(self, name: str) -> str:
        return self.table(name)  # an index lives in its table's schema

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def tracking_table(self) -> str:
        return self.table(self.tracking_table_name)

    def columns(self, cursor: Any, name: str) -> set[str]:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (self.datastore.schema or "public", name),
        )
        return {row["column_name"] if isinstance(row, dict) else row[0] for row in cursor.fetchall()}

    def analyse(self, names: Sequence[str], between: Callable[[], None] | None = None) -> None:
        """VACUUM ANALYZE (outside a transaction): statistics for the planner, and the visibility map
        that lets counts over the deadline indexes be index-only scans instead of visiting every row.
        ``between`` is called after each table: at a million events one table can take seconds."""
        with self.datastore.get_connection() as connection:
            connection.autocommit = True
            try:
                for name in names:
                    connection.execute(f"VACUUM (ANALYZE) {self.table(name)}")
                    if between:
                        between()
            finally:
                connection.autocommit = False

    def copy_rows(
        self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]], temporary: bool = False
    ) -> None:
        """Append rows with COPY: a rebuild's pages, several times faster than INSERT."""
        if not rows:
            return
        target = name if temporary else self.table(name)
        with cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in without_nul(rows):
                copy.write_row(row)

    def update_rows(self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """One statement for the lot: the values as text arrays, unnested beside the table."""
        if not rows:
            return
        listed = ", ".join(columns)
        sets = ", ".join(f"{c} = r.{c}" for c in columns[1:])
        arrays = ", ".join("%s::text[]" for _ in columns)
        cursor.execute(
            f"UPDATE {self.table(name)} AS d SET {sets} FROM unnest({arrays}) AS r({listed}) "
            f"WHERE d.{columns[0]} = r.{columns[0]}",
            [list(values) for values in zip(*without_nul(rows), strict=True)],
        )

    def add_counts(self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """One statement for the lot: the text columns and the counts as arrays, unnested."""
        if not rows:
            return
        listed, count = ", ".join(columns), columns[-1]
        arrays = ", ".join([*("%s::text[]" for _ in columns[:-1]), "%s::bigint[]"])
        cursor.execute(
            f"INSERT INTO {self.table(name)} AS t ({listed}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {count} = t.{count} + excluded.{count}",
            [list(values) for values in zip(*without_nul(rows), strict=True)],
        )

    def upsert(self, cursor: Any, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """Many rows (a rebuild, a long catch-up): COPY into a temporary table and merge them with one
        statement, several times faster than one INSERT … ON CONFLICT per row."""
        if len(rows) < COPY_AT_LEAST:
            super().upsert(cursor, name, columns, rows)
            return
        stage = f"hv_stage_{name}"
        listed = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {self.table(name)}) ON COMMIT DROP")
        with cursor.copy(f"COPY {stage} ({listed}) FROM STDIN") as copy:
            for row in without_nul(rows):
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {self.table(name)} ({listed}) SELECT {listed} FROM {stage} "
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"
        )
        cursor.execute(f"DROP TABLE {stage}")


def open_view_recorder(env: dict[str, str]) -> ViewRecorder:
    """The views store for the given eventsourcing settings (SQLite or PostgreSQL)."""
    factory = InfrastructureFactory.construct(Environment(VIEWS_NAME, env))
    module = env.get("PERSISTENCE_MODULE", "")
    recorder_class = PostgresViewRecorder if module.endswith("postgres") else SQLiteViewRecorder
    return factory.tracking_recorder(recorder_class)  # type: ignore[arg-type]
