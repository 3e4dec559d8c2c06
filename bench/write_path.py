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
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.dataset import calls
from bench.harness import PG_URL, Progress, Result, fresh_schema, libpq, median, no_progress, target
from hotline.application import HotlineApplication, SystemClock
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config

ACTOR = Actor("op-bench", OPERATOR)
BATCH = 500
SIZES = {  # cases per run: per_command, batched
    "full": (2_000, 20_000),
    "quick": (300, 3_000),
    "smoke": (10, 60),
}
Row = tuple[Any, int, str, bytes]  # originator_id, version, topic, state


class Recorded:
    """The sizes of the transactions the application's recorder made."""

    def __init__(self, app: HotlineApplication):
        self.sizes: list[int] = []
        inner = app.recorder.insert_events

        def insert_events(stored_events, **kwargs):
            self.sizes.append(len(stored_events))
            return inner(stored_events, **kwargs)

        app.recorder.insert_events = insert_events  # type: ignore[method-assign]


def stored_rows(app: HotlineApplication) -> list[Row]:
    rows: list[Row] = []
    start = None
    while page := app.recorder.select_notifications(start, 5000, inclusive_of_start=False):
        rows.extend((n.originator_id, n.originator_version, n.topic, n.state) for n in page)
        start = page[-1].id
    return rows


def run_app(store: str, mode: str, count: int, seed: int) -> dict[str, Any]:
    """One application run on a fresh store: cases/s, events/s, transaction sizes and stored rows."""

    def measure(config: Config) -> dict[str, Any]:
        services = bootstrap(config)
        app = services.app
        try:
            items: list[Call] = calls(services.rules, count, seed, call_ids=(mode == "batched"))
            recorded = Recorded(app)
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
            services.close()
        return {
            "seconds": elapsed,
            "cases_per_s": count / elapsed,
            "events_per_s": len(rows) / elapsed,
            "sizes": recorded.sizes,
            "rows": rows,
        }

    with tempfile.TemporaryDirectory(prefix="bench-write-") as directory:
        data_dir = Path(directory)
        if store == "sqlite":
            return measure(Config(data_dir=data_dir))
        with fresh_schema() as url:
            return measure(Config(database_url=url, data_dir=data_dir))


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
    for store in stores:
        for mode, count in (("per_command", per_command), ("batched", batched)):
            runs: list[dict[str, Any]] = []
            for repeat in range(repeats):
                app = run_app(store, mode, count, seed=repeat + 1)
                raw = raws[store](app["rows"], app["sizes"])
                runs.append(
                    {
                        **{k: v for k, v in app.items() if k not in ("rows", "sizes")},
                        **raw,
                        "rows": len(app["rows"]),
                        "transactions": len(app["sizes"]),
                        "mean_state_bytes": sum(len(r[3]) for r in app["rows"]) / len(app["rows"]),
                        "mean_topic_chars": sum(len(r[2]) for r in app["rows"]) / len(app["rows"]),
                    }
                )
                progress(1)
            key = f"{store}_{mode}"
            app_rate = median([r["events_per_s"] for r in runs])
            raw_tx = median([r["per_transaction_rows_per_s"] for r in runs])
            limit_key = "copy_rows_per_s" if store == "postgres" else "one_transaction_rows_per_s"
            limit = median([r[limit_key] for r in runs])
            ratio = median([r["events_per_s"] / r["per_transaction_rows_per_s"] for r in runs])
            result.figures[key] = {
                "cases_per_s": round(median([r["cases_per_s"] for r in runs]), 1),
                "events_per_s": round(app_rate, 1),
                "events_per_case": round(runs[0]["rows"] / count, 2),
                "transactions": runs[0]["transactions"],
                "mean_state_bytes": round(runs[0]["mean_state_bytes"], 1),
                "ratio_to_raw_same_transactions": round(ratio, 4),
                "ratio_to_store_limit": round(median([r["events_per_s"] / r[limit_key] for r in runs]), 4),
                "runs": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in runs],
            }
            result.baseline[key] = {
                "raw_same_transactions_rows_per_s": round(raw_tx, 1),
                (
                    "raw_copy_one_transaction_rows_per_s"
                    if store == "postgres"
                    else "raw_executemany_one_transaction_rows_per_s"
                ): round(limit, 1),
            }
            goal, what = (
                (0.6, "raw per-transaction inserts")
                if mode == "per_command"
                else (0.5, "raw executemany, same batches")
            )
            result.targets.append(
                target(f"{store} {mode.replace('_', ' ')}: events/s as a fraction of {what}", ratio, "ratio", goal)
            )
    return result
