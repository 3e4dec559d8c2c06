"""The background chain check (infra/integrity.py): a full walk of the audit chain, which is the
baseline measured in the same run, against the incremental check that walks only what was appended
since the head it verified last (after rechecking that head and the latest anchor). A store of
``--cases`` cases (opened and routed in batches of 500, as intake does) on SQLite (or PostgreSQL);
then ``--repeats`` times: a full walk, an incremental check with nothing new, and one after
``--new`` more cases. Writes bench/results/integrity_<store>.json.

    .venv/bin/python bench/integrity.py [--store sqlite|postgres] [--cases 10000] [--new 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Result, create_schema, drop_schema, median, schema_url, target
from hotline.application import clocked
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.store.audit_chain import verify

START = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)
BATCH = 500


def calls(first: int, count: int) -> list[tuple[Call, datetime | None]]:
    return [
        (
            Call(
                channel="phone",
                category="complaint",
                service_code="noise",
                description=f"夜间施工噪音扰民，第 {n} 件",
                caller_phone=f"139{n:08d}",
                district="城东区",
            ),
            None,
        )
        for n in range(first, first + count)
    ]


def log(app, first: int, count: int) -> None:
    for start in range(first, first + count, BATCH):
        size = min(BATCH, first + count - start)
        clocked(app, START + timedelta(seconds=start)).open_cases(calls(start, size), SYSTEM_ACTOR)


def timed(action) -> tuple[float, object]:
    began = time.perf_counter()
    outcome = action()
    return time.perf_counter() - began, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-integrity-"))
    schema = create_schema() if args.store == "postgres" else None
    config = Config(data_dir=data_dir, database_url=schema_url(schema) if schema else None)
    services = bootstrap(config)
    result = Result(f"integrity_{args.store}", quick=False, parameters=vars(args))
    try:
        app, key, watch = services.app, config.audit_key_bytes(), services.integrity
        log(app, 0, args.cases)
        events = app.recorder.max_notification_id() or 0
        full, incremental_idle, incremental_new = [], [], []
        written = args.cases
        for _ in range(args.repeats):
            seconds, outcome = timed(lambda: verify(app.recorder, key))
            assert outcome.intact
            full.append(seconds)
            assert watch.check(full=True) is None  # the watch's own head: where the next check starts
            seconds, problem = timed(watch.check)
            assert problem is None and watch.last_checked == 0
            incremental_idle.append(seconds)
            log(app, written, args.new)
            written += args.new
            before = watch.last_checked
            seconds, problem = timed(watch.check)
            assert problem is None and watch.last_checked > before
            incremental_new.append(seconds)
        result.parameters["events_in_store"] = events
        result.baseline = {"full_walk_seconds": full, "median": median(full)}
        result.figures = {
            "incremental_nothing_new_seconds": incremental_idle,
            "incremental_after_new_cases_seconds": incremental_new,
            "median_nothing_new": median(incremental_idle),
            "median_after_new_cases": median(incremental_new),
            "ratio_to_full_walk": median(incremental_new) / median(full),
        }
        result.targets = [
            target(
                "incremental check after new cases ÷ full walk",
                median(incremental_new) / median(full),
                "ratio",
                0.1,
                at_most=True,
            )
        ]
        result.notes.append(
            "The full walk is what the background check did every 5 minutes before; the incremental one "
            "walks the new events only, after rechecking the verified head and the latest anchor."
        )
    finally:
        services.close()
        if schema:
            drop_schema(schema)
    path = result.write()
    print(
        f"{path}: full {median(full):.3f} s over {events} events; incremental {median(incremental_idle) * 1000:.1f} ms "
        f"(nothing new), {median(incremental_new) * 1000:.1f} ms (after {args.new} cases)"
    )


if __name__ == "__main__":
    main()
