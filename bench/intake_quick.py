"""Quick measure: calls per second one intake consumer sustains (Tansu broker, SQLite or PostgreSQL).

    .venv/bin/python bench/intake_quick.py --store sqlite --calls 20000
    .venv/bin/python bench/intake_quick.py --store postgres --calls 20000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test

Produces realistic calls (5% invalid, 5% redelivered) to a private broker first, then runs one
consumer in this process on a fresh store and times it from its first message to its last: group
joining is left out, the store writes, dead letters and commits are in. ``--dispatch`` also runs
the outbox publisher alongside, as ``hotline consume`` does.
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

from infra.bootstrap import bootstrap  # noqa: E402
from infra.cli_intake import DemoCalls  # noqa: E402
from infra.config import Config  # noqa: E402
from infra.devbroker import TansuBroker  # noqa: E402
from intake.consumer import IntakeConsumer, send_all  # noqa: E402
from intake.dispatch_publisher import DispatchPublisher  # noqa: E402
from intake.handlers import Intake  # noqa: E402
from intake.kafka_io import ensure_topics, make_producer  # noqa: E402
from intake.messages import Outgoing, Topics  # noqa: E402


def fresh_schema(url: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return f"{url.split('?')[0]}?schema={name}"


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
        ensure_topics(broker.bootstrap, topics.partitions(args.partitions))
        generated = DemoCalls(seed=1).messages(args.calls, invalid_ratio=0.05, duplicate_ratio=0.05)
        producer = make_producer(broker.bootstrap)
        for start in range(0, len(generated), 2000):
            send_all(producer, [Outgoing(topics.calls, m.key, m.value) for m in generated[start:start + 2000]])
        producer.close()

        stop = threading.Event()
        consumer = IntakeConsumer(broker.bootstrap, Intake(services.app, topics), batch_size=args.batch_size,
                                  group_id="bench", log_every=3600)
        worker = threading.Thread(target=consumer.run, args=(stop,))
        worker.start()
        publisher_thread = None
        if args.dispatch:
            publisher_producer = make_producer(broker.bootstrap)
            publisher = DispatchPublisher(services.app, lambda ms: send_all(publisher_producer, ms),
                                          topics.dispatch, position_name="bench")
            publisher_thread = threading.Thread(target=publisher.run, args=(stop,))
            publisher_thread.start()
        progress = consumer.progress
        while progress.messages == 0:
            time.sleep(0.005)
        first = time.monotonic()
        first_count = progress.messages
        while progress.messages < len(generated):
            time.sleep(0.01)
        elapsed = time.monotonic() - first
        stop.set()
        worker.join()
        if publisher_thread:
            publisher_thread.join()
        counted = progress.messages - first_count
        print(
            f"{args.store}: {progress.messages} messages ({progress.created} cases, {progress.repeats} repeats, "
            f"{progress.dead} dead letters) batch={args.batch_size} dispatch={'on' if args.dispatch else 'off'}: "
            f"{counted / elapsed:.0f} messages/s over {elapsed:.1f}s (after the first batch)"
        )
        services.close()


if __name__ == "__main__":
    main()
