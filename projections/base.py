"""The shape every read model shares: a projection whose rows are keyed by aggregate id.

A batch of decoded events is applied in memory to the rows it touches (loaded once per batch),
then the rows are upserted with ``executemany`` and the batch's last notification id is recorded,
all in one transaction. Replaying a batch already tracked fails on the tracking row and rolls back:
no event is ever counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from hotline.domain.workdays import as_china_time
from hotline.projections.store import ViewRecorder

Row = dict[str, Any]
Handler = Callable[[Row, Any], None]
BEIJING_OFFSET = timedelta(hours=8)
IN_CHUNK = 500  # ids per "WHERE id IN (…)": well under SQLite's parameter limit


def stamp(moment: datetime | None) -> str | None:
    """Timestamps as stored: Beijing time, fixed width, so that text order is time order."""
    if moment is None:
        return None
    if moment.utcoffset() == BEIJING_OFFSET:  # decoded events already carry +08:00: skip the conversion
        return moment.isoformat(timespec="microseconds")
    return as_china_time(moment).isoformat(timespec="microseconds")


def unstamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, eq=False)  # hashed by identity: tables are module constants, used as dict keys per event
class Table:
    name: str
    columns: tuple[str, ...]  # the first one is the key (the aggregate id as text)
    ddl_columns: str
    indexes: tuple[str, ...] = ()  # "name: col, col" or, partial, "name: col, col WHERE condition"
    # Labels of the indexes the view's own writes look rows up by: a rebuild that leaves the other
    # indexes out until the end keeps these (without them each lookup reads the whole table).
    write_indexes: tuple[str, ...] = ()
    # Labels of indexes an earlier version made and nothing reads any more: dropped when the tables
    # are created (an index changed in place keeps its old definition, so a changed one gets a new label).
    retired_indexes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.columns[0]


def row_values(table: Table, rows: Iterable[Row]) -> list[tuple]:
    """Rows as tuples in the table's column order, as the view recorder writes them."""
    if len(table.columns) == 1:
        return [(row[table.columns[0]],) for row in rows]
    values = itemgetter(*table.columns)  # a tuple in one call: several times faster than a generator
    return [values(row) for row in rows]


class RowView(Projection[ViewRecorder]):
    """Subclasses set ``name``, ``tables`` and ``handlers`` {event class: (table, handler, creates)}."""

    tables: tuple[Table, ...] = ()
    handlers: dict[type, tuple[Table, Handler, bool]] = {}  # noqa: RUF012 - filled per subclass

    def __init__(self, view: ViewRecorder):
        super().__init__(view)
        self.topics = tuple(cls.TOPIC for cls in self.handlers)

    @property
    def tracking_name(self) -> str:
        return f"hotline.{self.name}"

    # ---- schema -----------------------------------------------------------------------------

    def create_tables(self, indexes: bool = True) -> None:
        view = self.view
        with view.writing(None) as cursor:
            view.lock_tables(cursor)
            for table in self.tables:
                view.execute(cursor, f"CREATE TABLE IF NOT EXISTS {view.table(table.name)} ({table.ddl_columns})")
                add_missing_columns(view, cursor, table)
                for label in table.retired_indexes:
                    view.execute(cursor, f"DROP INDEX IF EXISTS {view.index(f'{table.name}_{label}')}")
                for statement in index_statements(view, table, None if indexes else table.write_indexes):
                    view.execute(cursor, statement)

    def drop(self, indexes: bool = True) -> None:
        """Forget everything: the rows and the position, in one transaction. ``indexes=False``
        leaves the secondary indexes out until ``create_tables()``: a rebuild fills the tables
        first and builds each index once at the end, much faster than maintaining them row by row."""
        view = self.view
        with view.writing(None) as cursor:
            view.lock_tables(cursor)
            for table in self.tables:
                view.execute(cursor, f"DROP TABLE IF EXISTS {view.table(table.name)}")
            view.forget(cursor, self.tracking_name)
        self.create_tables(indexes=indexes)

    def position(self) -> int:
        return self.view.position(self.tracking_name)

    # ---- processing -------------------------------------------------------------------------

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_batch([domain_event], tracking)

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        """Apply ``events`` (already decoded, in log order) and record ``tracking`` with them."""
        view = self.view
        mine = [(event, self.handlers[type(event)]) for event in events if type(event) in self.handlers]
        with view.writing(tracking) as cursor:
            if not mine:
                return
            keys = [str(event.originator_id) for event, _ in mine]
            # Rows to load: those changed here but not created earlier in this same batch.
            wanted: dict[Table, set[str]] = {}
            created: set[tuple[Table, str]] = set()
            for key, (_, (table, _, creates)) in zip(keys, mine, strict=True):
                if creates:
                    created.add((table, key))
                elif (table, key) not in created:
                    wanted.setdefault(table, set()).add(key)
            rows: dict[Table, dict[str, Row]] = {table: self._load(cursor, table, ids) for table, ids in wanted.items()}
            touched: dict[Table, dict[str, Row]] = {}
            for key, (event, (table, handler, creates)) in zip(keys, mine, strict=True):
                table_rows = rows.setdefault(table, {})
                if creates:
                    row = dict.fromkeys(table.columns)
                    row[table.key] = key
                    table_rows[key] = row
                else:
                    row = table_rows.get(key)
                    if row is None:
                        continue  # an aggregate this view never saw created (e.g. filtered out)
                handler(row, event)
                touched.setdefault(table, {})[key] = row
            for table, changed in touched.items():
                self._upsert(cursor, table, changed.values())

    def _load(self, cursor: Any, table: Table, ids: set[str]) -> dict[str, Row]:
        found: dict[str, Row] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.view.select(
                cursor, f"SELECT * FROM {self.view.table(table.name)} WHERE {table.key} IN ({marks})", chunk
            ):
                found[row[table.key]] = row
        return found

    def _upsert(self, cursor: Any, table: Table, rows: Iterable[Row]) -> None:
        self.view.upsert(cursor, table.name, table.columns, row_values(table, rows))

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, in key order: what a rebuild must reproduce exactly."""
        return {
            table.name: row_values(
                table, self.view.query(f"SELECT * FROM {self.view.table(table.name)} ORDER BY {table.key}")
            )
            for table in self.tables
        }


def index_statements(view: ViewRecorder, table: Table, labels: Sequence[str] | None = None) -> list[str]:
    """The statements that create a table's secondary indexes (if missing): all, or those ``labels``."""
    statements = []
    for index in table.indexes:
        label, _, definition = index.partition(":")
        if labels is not None and label.strip() not in labels:
            continue
        columns, _, condition = definition.partition(" WHERE ")
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {table.name}_{label.strip()} ON {view.table(table.name)} ({columns.strip()})"
            + (f" WHERE {condition.strip()}" if condition else "")
        )
    return statements


def add_missing_columns(view: ViewRecorder, cursor: Any, table: Table) -> None:
    """A view that gained columns keeps its rows: the new columns are added, empty. That is right only
    for columns that events newer than the columns fill (anything else needs ``projections rebuild``)."""
    present = view.columns(cursor, table.name)
    for definition in table.ddl_columns.split(", "):
        name, _, kind = definition.partition(" ")
        if name not in present:
            plain = kind.replace("PRIMARY KEY", "").replace("NOT NULL", "").replace("UNIQUE", "").strip()
            view.execute(cursor, f"ALTER TABLE {view.table(table.name)} ADD COLUMN {name} {plain}")


def touch(row: Row, event: Any) -> None:
    """Every event moves the row's version and last-updated time."""
    row["version"] = event.originator_version
    row["updated_at"] = stamp(event.timestamp)
