"""Write throughput with and without encryption at rest and the audit chain (a quick look; the write_path
benchmark measures properly). Each run saves new cases (one Case.Opened event each, the event that holds
the caller's name and phone) into a fresh store: one case per save (the operator console) and 100
per save (Kafka intake); only the saves are timed. Configurations are interleaved and repeated so
that other load on the machine hits all of them alike; medians are printed: events written per
second (wall clock) and the writer's CPU time per event (less disturbed by other processes).

    .venv/bin/python bench/security_overhead.py [--store sqlite|postgres|both] [--calls 1500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PROJECT_DIR
from hotline.application import HotlineApplication
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call, Case
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.config import Config
from hotline.infra.rule_files import load_rules
from hotline.infra.store.audit_chain import seal_writes

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NO_CIPHER = {"CIPHER_TOPIC": "", "CIPHER_KEY": "", "COMPRESSOR_TOPIC": ""}
NO_CHAIN = {"APPLICATION_RECORDER_TOPIC": ""}
CONFIGURATIONS = {
    "plain": {**NO_CIPHER, **NO_CHAIN},
    "cipher": NO_CHAIN,
    "cipher+zlib": {
        **NO_CHAIN,
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    },
    "chain": NO_CIPHER,
    "cipher+chain": {},
}
ACTOR = Actor("op-bench", OPERATOR)
START = datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)


def calls(count: int) -> list[tuple[Call, datetime]]:
    return [
        (
            Call(
                channel="phone",
                category="complaint",
                service_code="noise",
                description=f"夜间施工噪音扰民，第 {n} 件",
                caller_name="欧阳明月",
                caller_phone=f"139{n:08d}",
                address="城东区幸福路 12 号",
                district="城东区",
            ),
            START + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def fresh_config(store: str, overrides: dict[str, str]) -> tuple[Config, callable]:
    data_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    if store == "sqlite":
        return Config(data_dir=data_dir, extra_env=overrides), lambda: None
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return Config(database_url=f"{PG_URL}?schema={schema}", data_dir=data_dir, extra_env=overrides), drop


def run(store: str, name: str, rules, items, batch: int) -> tuple[float, float]:
    """(events written per second, writer CPU microseconds per event)."""
    config, drop = fresh_config(store, CONFIGURATIONS[name])
    app = HotlineApplication(rules=rules, env=config.event_store_env())
    if "chain" in name:
        seal_writes(app.recorder, config.audit_key_bytes())
    cases = [Case.open(f"20250930-{n + 1:06d}", call, ACTOR, at=at) for n, (call, at) in enumerate(items)]
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for offset in range(0, len(cases), batch):
            app.save(*cases[offset : offset + batch])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        events = len(cases)
        return events / wall, cpu / events * 1e6
    finally:
        app.close()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rules = load_rules(PROJECT_DIR / "rules")
    items = calls(args.calls)
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    print(f"{args.calls} cases per run, median of {args.repeats}: events/s written (writer CPU µs per event)")
    print(f"| store | cases per save | {' | '.join(CONFIGURATIONS)} |")
    print(f"|---|---|{'---|' * len(CONFIGURATIONS)}")
    for store in stores:
        for batch in (1, 100):
            rates: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
            cpus: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
            for _ in range(args.repeats):
                for name in CONFIGURATIONS:
                    rate, cpu = run(store, name, rules, items, batch)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
            base = statistics.median(rates["plain"])
            cells = []
            for name in CONFIGURATIONS:
                rate, cpu = (
                    statistics.median(rates[name]),
                    statistics.median(cpus[name]),
                )
                change = "" if name == "plain" else f" {rate / base - 1:+.0%}"
                cells.append(f"{rate:,.0f}{change} ({cpu:.0f} µs)")
            print(f"| {store} | {batch} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
