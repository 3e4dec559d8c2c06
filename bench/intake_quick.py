"""Quick measure: calls per second one intake consumer sustains (Tansu broker, SQLite or PostgreSQL).

    .venv/bin/python bench/intake_quick.py --store sqlite --calls 20000
    .venv/bin/python bench/intake_quick.py --store postgres --calls 20000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test

Produces realistic calls (5% invalid, 5% redelivered) to a private broker first, then runs one
consumer in this process on a fresh store and times it from its first message to its last: group
joining is left out, the store writes, dead letters and commits are in. ``--dispatch`` also runs
the outbox publisher alongside, as ``hotline consume`` does. The functions here are also the
building blocks of ``python -m bench intake`` (bench/intake.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.application import SystemClock
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DemoCalls
from hotline.intake.consumer import IntakeConsumer, Progress, send_all
from hotline.intake.dispatch_publisher import DispatchPublisher
from hotline.intake.handlers import Intake
from hotline.intake.kafka_io import ensure_topics, make_consumer, make_producer
from hotline.intake.messages import Outgoing, Topics
from tests.support.broker import TansuBroker


def fresh_schema(url: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.split("?", maxsplit=1)[0], autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return f"{url.split('?', maxsplit=1)[0]}?schema={name}"


def produce_calls(bootstrap_servers: str, topics: Topics, count: int, partitions: int = 3, seed: int = 1) -> int:
    """Realistic calls (5% invalid, 5% redelivered) onto ``topics.calls``; how many were sent."""
    ensure_topics(bootstrap_servers, topics.partitions(partitions))
    generated = DemoCalls(SystemClock().now(), seed=seed).messages(count, invalid_ratio=0.05, duplicate_ratio=0.05)
    producer = make_producer(bootstrap_servers)
    for start in range(0, len(generated), 2000):
        send_all(producer, [Outgoing(topics.calls, m.key, m.value) for m in generated[start : start + 2000]])
    producer.close()
    return len(generated)


def consume_into_store(
    services,
    bootstrap_servers: str,
    topics: Topics,
    total: int,
    *,
    batch_size: int = 500,
    group_id: str = "bench",
    dispatch: bool = False,
) -> tuple[Progress, float, int]:
    """Run one intake consumer until it has handled ``total`` messages; returns its progress, the
    seconds from its first message to its last, and how many messages fell in that interval."""
    stop = threading.Event()
    consumer = IntakeConsumer(
        bootstrap_servers, Intake(services.app, topics), batch_size=batch_size, group_id=group_id, log_every=3600
    )
    worker = threading.Thread(target=consumer.run, args=(stop,))
    worker.start()
    publisher_thread = None
    if dispatch:
        publisher_producer = make_producer(bootstrap_servers)
        publisher = DispatchPublisher(
            services.app, lambda ms: send_all(publisher_producer, ms), topics.dispatch, position_name=group_id
        )
        publisher_thread = threading.Thread(target=publisher.run, args=(stop,))
        publisher_thread.start()
    progress = consumer.progress
    try:
        while progress.messages == 0:
            if not worker.is_alive():
                raise RuntimeError("intake consumer stopped before its first message")
            time.sleep(0.005)
        first = time.monotonic()
        first_count = progress.messages
        while progress.messages < total:
            if not worker.is_alive():
                raise RuntimeError(f"intake consumer stopped after {progress.messages} of {total} messages")
            time.sleep(0.01)
        elapsed = time.monotonic() - first
    finally:
        stop.set()
        worker.join()
        if publisher_thread:
            publisher_thread.join()
    return progress, elapsed, progress.messages - first_count


def raw_consume(
    bootstrap_servers: str, topic: str, total: int, *, batch_size: int = 500, group_id: str = "bench-raw"
) -> tuple[float, int]:
    """The same messages read with a bare kafka-python consumer (poll only, no processing): the
    seconds from its first batch to its last, and the messages after the first batch."""
    consumer = make_consumer(bootstrap_servers, group_id, topic, max_poll_records=batch_size)
    seen = first_count = 0
    first = None
    try:
        deadline = time.monotonic() + 120
        while seen < total and time.monotonic() < deadline:
            polled = consumer.poll(timeout_ms=500)
            count = sum(len(records) for records in polled.values())
            if count and first is None:
                first, first_count = time.monotonic(), count
            seen += count
        if seen < total:
            raise RuntimeError(f"raw consumer read {seen} of {total} messages in 120 s")
        return time.monotonic() - first, seen - first_count
    finally:
        consumer.close(autocommit=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--dispatch", action="store_true", help="run the outbox publisher too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("intake.handlers").setLevel(logging.ERROR)  # one line per dead letter otherwise

    data_dir = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    database_url = fresh_schema(args.database_url) if args.store == "postgres" else None
    with TansuBroker() as broker:
        config = Config(database_url=database_url, data_dir=data_dir, kafka_bootstrap=broker.bootstrap)
        services = bootstrap(config)
        topics = Topics()
        total = produce_calls(broker.bootstrap, topics, args.calls, args.partitions)
        progress, elapsed, counted = consume_into_store(
            services, broker.bootstrap, topics, total, batch_size=args.batch_size, dispatch=args.dispatch
        )
        print(
            f"{args.store}: {progress.messages} messages ({progress.created} cases, {progress.repeats} repeats, "
            f"{progress.dead} dead letters) batch={args.batch_size} dispatch={'on' if args.dispatch else 'off'}: "
            f"{counted / elapsed:.0f} messages/s over {elapsed:.1f}s (after the first batch)"
        )
        services.close()


if __name__ == "__main__":
    main()
