"""Write path: cases opened and dispatched per second through the application service, beside raw
inserts of the same rows in the same run.

Two ways of writing, on SQLite and on PostgreSQL:

* ``per_command`` - as the web UI does: ``open_case`` then ``dispatch``, two saves per case;
* ``batched`` - as Kafka intake does: ``open_cases`` (open and route, with call receipts) for
  batches of 500 calls, one save per batch.

Each application run records the size of every transaction it made; the stored events are then read
back and the very same rows (same ids, topics and encrypted state, so the same sizes) are inserted
into an empty table of the library's own shape with plain ``sqlite3`` / psycopg 3, one transaction
per recorded transaction with ``executemany``. psycopg ``COPY`` of all rows in one transaction is
the store's limit on this machine (SQLite: one ``executemany`` transaction). Runs alternate with
their baselines and repeat; medians are reported.

Beside them, in the same repeats (order reversed every other repeat, so the machine's drift falls
on all alike): the in-process floor (``memory``: the same commands building, encoding, encrypting
and sealing every event, kept in memory; the ratio ``ratio_to_in_process_floor``), and on
PostgreSQL the library's save path (``library_save``: lock, insert, tail read, link) against the
one-call save of ``infra/store/pg_save.py``.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.dataset import calls
from bench.harness import PG_URL, Progress, Result, fresh_schema, libpq, median, no_progress, target
from hotline.application import HotlineApplication, SystemClock
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.rule_files import load_rules
from hotline.infra.store import pg_save
from hotline.infra.store.audit_chain import GENESIS, chain_links

ACTOR = Actor("op-bench", OPERATOR)
BATCH = 500
SIZES = {  # cases per run: per_command, batched
    "full": (2_000, 20_000),
    "quick": (300, 3_000),
    "smoke": (10, 60),
}
Row = tuple[Any, int, str, bytes]  # originator_id, version, topic, state


class Recorded:
    """The sizes of the transactions the application's recorder made (plain saves and the
    ticket-numbered ones of ``open_cases``)."""

    def __init__(self, app: HotlineApplication):
        self.sizes: list[int] = []
        inner = app.recorder.insert_events

        def insert_events(stored_events, **kwargs):
            self.sizes.append(len(stored_events))
            return inner(stored_events, **kwargs)

        app.recorder.insert_events = insert_events  # type: ignore[method-assign]
        numbered = getattr(app.recorder, "insert_numbered", None)
        if numbered is not None:

            def insert_numbered(days, build, keys=()):
                built: list[int] = []  # the store may build again with other numbers: the last build is stored

                def counted(firsts):
                    stored_events = build(firsts)
                    built.append(len(stored_events))
                    return stored_events

                notification_ids = numbered(days, counted, keys)
                self.sizes.append(built[-1])
                return notification_ids

            app.recorder.insert_numbered = insert_numbered  # type: ignore[attr-defined]


class Sealed:
    """For the in-process floor: the store keeps events in memory, but every save still computes
    its audit-chain link (two SHA-256 per event, one HMAC per save), as the sealing recorders do."""

    def __init__(self, app: HotlineApplication, key: bytes):
        self.tail: tuple[int, bytes] = (0, GENESIS)
        self.top = 0  # the last notification id
        recorder = app.recorder
        inner, numbered = recorder.insert_events, recorder.insert_numbered  # type: ignore[attr-defined]

        def seal(stored_events):
            ids = range(self.top + 1, self.top + 1 + len(stored_events))
            links = chain_links(key, self.tail, stored_events, ids)
            if links:
                self.tail, self.top = (links[-1].seq, links[-1].mac), ids[-1]

        def insert_events(stored_events, **kwargs):
            seal(stored_events)
            return inner(stored_events, **kwargs)

        def insert_numbered(days, build, keys=()):
            def sealed(firsts):
                stored_events = build(firsts)
                seal(stored_events)
                return stored_events

            return numbered(days, sealed, keys)

        recorder.insert_events = insert_events  # type: ignore[method-assign]
        recorder.insert_numbered = insert_numbered  # type: ignore[attr-defined]


def stored_rows(app: HotlineApplication) -> list[Row]:
    rows: list[Row] = []
    start = None
    while page := app.recorder.select_notifications(start, 5000, inclusive_of_start=False):
        rows.extend((n.originator_id, n.originator_version, n.topic, n.state) for n in page)
        start = page[-1].id
    return rows


def run_app(store: str, mode: str, count: int, seed: int, variant: str = "") -> dict[str, Any]:
    """One application run on a fresh store: cases/s, events/s, transaction sizes and stored rows.
    ``store`` "memory" is the in-process floor (build, encode, encrypt, seal; no store).
    ``variant`` "library_save" takes the library's save path on PostgreSQL (lock, insert, then the
    chain's tail read and links: about four round trips) instead of the one-call function."""

    def measure(config: Config) -> dict[str, Any]:
        if store == "memory":
            env = {**config.event_store_env(), "PERSISTENCE_MODULE": "hotline.infra.store.memory"}
            del env["APPLICATION_RECORDER_TOPIC"]
            rules = load_rules(config.rules_dir)
            app = HotlineApplication(rules=rules, env=env, clock=SystemClock())
            Sealed(app, config.audit_key_bytes())
            closing: Any = app
        else:
            closing = services = bootstrap(config)
            app, rules = services.app, services.rules
        try:
            items: list[Call] = calls(rules, count, seed, call_ids=(mode == "batched"))
            recorded = Recorded(app)
            with _save_path(variant):
                began = time.perf_counter()
                if mode == "per_command":
                    for call in items:
                        ticket_no = app.open_case(call, ACTOR).ticket_no
                        app.dispatch(ticket_no, ACTOR)
                else:
                    moment = SystemClock().now()
                    for offset in range(0, count, BATCH):
                        app.open_cases([(call, moment) for call in items[offset : offset + BATCH]], ACTOR)
                elapsed = time.perf_counter() - began
            rows = stored_rows(app)
        finally:
            closing.close()
        return {
            "seconds": elapsed,
            "cases_per_s": count / elapsed,
            "events_per_s": len(rows) / elapsed,
            "sizes": recorded.sizes,
            "rows": rows,
        }

    with tempfile.TemporaryDirectory(prefix="bench-write-") as directory:
        data_dir = Path(directory)
        if store in ("sqlite", "memory"):
            return measure(Config(data_dir=data_dir))
        with fresh_schema() as url:
            return measure(Config(database_url=url, data_dir=data_dir))


@contextmanager
def _save_path(variant: str) -> Iterator[None]:
    if variant != "library_save":
        yield
        return
    before = pg_save.ATTEMPTS
    pg_save.ATTEMPTS = 0  # the function is never called: every save takes the library's path
    try:
        yield
    finally:
        pg_save.ATTEMPTS = before


# ---- raw baselines ----------------------------------------------------------------------------------


def raw_sqlite(rows: list[Row], sizes: list[int]) -> dict[str, float]:
    """Plain sqlite3 into the library's table shape, WAL like the store: per recorded transaction
    with executemany, then all rows in one transaction."""

    def insert(groups: list[list[Row]]) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-raw-") as directory:
            return insert_into(Path(directory) / "raw.sqlite3", groups)

    def insert_into(path: Path, groups: list[list[Row]]) -> float:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
            "state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        statement = "INSERT INTO stored_events VALUES (?, ?, ?, ?)"
        began = time.perf_counter()
        for group in groups:
            conn.execute("BEGIN")
            conn.executemany(statement, [(str(a), b, c, d) for a, b, c, d in group])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - began
        conn.close()
        return len(rows) / elapsed

    return {"per_transaction_rows_per_s": insert(_groups(rows, sizes)), "one_transaction_rows_per_s": insert([rows])}


def raw_postgres(rows: list[Row], sizes: list[int]) -> dict[str, float]:
    """Plain psycopg 3 into the library's table shape in a fresh schema: per recorded transaction
    with executemany, and COPY of all rows in one transaction."""
    import psycopg

    ddl = (
        "CREATE TABLE {t} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, "
        "state bytea, notification_id bigserial, PRIMARY KEY (originator_id, originator_version)); "
        "CREATE UNIQUE INDEX ON {t} (notification_id)"
    )
    out: dict[str, float] = {}
    with fresh_schema() as url:
        schema = url.split("schema=")[1]
        with psycopg.connect(libpq(PG_URL)) as conn:
            for name in ("per_transaction", "copy"):
                table = f'"{schema}".raw_{name}'
                conn.execute(ddl.format(t=table))
                conn.commit()
                statement = (
                    f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s,%s,%s,%s)"
                )
                began = time.perf_counter()
                if name == "per_transaction":
                    for group in _groups(rows, sizes):
                        with conn.cursor() as cursor:
                            cursor.executemany(statement, group)
                        conn.commit()
                else:
                    with (
                        conn.cursor() as cursor,
                        cursor.copy(
                            f"COPY {table} (originator_id, originator_version, topic, state) FROM STDIN"
                        ) as copy,
                    ):
                        for row in rows:
                            copy.write_row(row)
                    conn.commit()
                out[f"{name}_rows_per_s"] = len(rows) / (time.perf_counter() - began)
    return out


def _groups(rows: list[Row], sizes: list[int]) -> list[list[Row]]:
    groups, start = [], 0
    for size in sizes:
        groups.append(rows[start : start + size])
        start += size
    return groups


# ---- the benchmark -------------------------------------------------------------------------------------


def run(
    size: str = "full",
    repeats: int = 3,
    progress: Progress = no_progress,
    stores: tuple[str, ...] = ("sqlite", "postgres"),
) -> Result:
    per_command, batched = SIZES[size]
    result = Result("write_path", quick=size != "full")
    result.parameters = {
        "cases_per_command_run": per_command,
        "cases_batched_run": batched,
        "batch": BATCH,
        "repeats": repeats,
        "stores": list(stores),
        "store_settings": "event state AES-GCM encrypted (not compressed), audit chain on",
    }
    raws: dict[str, Callable[[list[Row], list[int]], dict[str, float]]] = {
        "sqlite": raw_sqlite,
        "postgres": raw_postgres,
    }
    # Every variant of a mode runs in each repeat, in reversed order every other repeat, each on a
    # fresh store and followed by the raw insert of exactly the rows it stored: the machine's drift
    # falls on all of them alike. "memory" is the in-process floor: build, encode, encrypt, seal.
    variants = [("memory", "")] + [(store, "") for store in stores]
    if "postgres" in stores:
        variants.append(("postgres", "library_save"))
    for mode, count in (("per_command", per_command), ("batched", batched)):
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {v: [] for v in variants}
        for repeat in range(repeats):
            for store, variant in variants if repeat % 2 == 0 else list(reversed(variants)):
                app = run_app(store, mode, count, seed=repeat + 1, variant=variant)
                raw = raws[store](app["rows"], app["sizes"]) if store in raws else {}
                runs[(store, variant)].append(
                    {
                        **{k: v for k, v in app.items() if k not in ("rows", "sizes")},
                        **raw,
                        "rows": len(app["rows"]),
                        "transactions": len(app["sizes"]),
                        "mean_state_bytes": sum(len(r[3]) for r in app["rows"]) / len(app["rows"]),
                    }
                )
                progress(1)
        floor = runs[("memory", "")]
        for (store, variant), done in runs.items():
            key = f"{store}_{mode}" + (f"_{variant}" if variant else "")
            figure: dict[str, Any] = {
                "cases_per_s": round(median([r["cases_per_s"] for r in done]), 1),
                "events_per_s": round(median([r["events_per_s"] for r in done]), 1),
                "events_per_case": round(done[0]["rows"] / count, 2),
                "transactions": done[0]["transactions"],
                "mean_state_bytes": round(done[0]["mean_state_bytes"], 1),
                "ratio_to_in_process_floor": round(
                    median([r["events_per_s"] / f["events_per_s"] for r, f in zip(done, floor, strict=True)]), 4
                ),
            }
            if store in raws:
                limit_key = "copy_rows_per_s" if store == "postgres" else "one_transaction_rows_per_s"
                figure["ratio_to_raw_same_transactions"] = round(
                    median([r["events_per_s"] / r["per_transaction_rows_per_s"] for r in done]), 4
                )
                figure["ratio_to_store_limit"] = round(median([r["events_per_s"] / r[limit_key] for r in done]), 4)
                result.baseline[key] = {
                    "raw_same_transactions_rows_per_s": round(
                        median([r["per_transaction_rows_per_s"] for r in done]), 1
                    ),
                    (
                        "raw_copy_one_transaction_rows_per_s"
                        if store == "postgres"
                        else "raw_executemany_one_transaction_rows_per_s"
                    ): round(median([r[limit_key] for r in done]), 1),
                }
            figure["runs"] = [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in done]
            result.figures[key] = figure
            if store not in raws or variant:
                continue
            if mode == "per_command":
                goal = 0.8 if store == "postgres" else 0.45
                result.targets.append(
                    target(
                        f"{store} per command: events/s as a fraction of raw per-transaction inserts",
                        figure["ratio_to_raw_same_transactions"],
                        "ratio",
                        goal,
                    )
                )
            else:
                result.targets.append(
                    target(
                        f"{store} batched: events/s as a fraction of the in-process floor "
                        f"(ratio to raw, same batches: {figure['ratio_to_raw_same_transactions']})",
                        figure["ratio_to_in_process_floor"],
                        "ratio",
                        0.9,
                    )
                )
    return result
