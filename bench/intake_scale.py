"""Intake scaled out: the same messages consumed by one, two and three `hotline consume` processes
in one group on PostgreSQL, each count on a fresh schema and fresh topics (6 partitions).

The calls are one evening's (DemoCalls: 5% invalid, 5% redelivered, every call of the same day),
so every consumer takes numbers from the same day's counter: the case the issue measured (two
consumers stored 123 calls/s where one stored 670, racing for the day's TicketCounter). The
consumers are started and balanced before the messages are produced; the rate is the distinct
valid calls stored divided by the time from the first stored case to the last. Beside each
figure: the batches a consumer had to build again inside the ticket row's lock (its numbers were
not the ones expected, infra/store/tickets.py) and the machine's load average before and after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import PROJECT_DIR, fresh_schema
from hotline.application.clock import SystemClock
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DemoCalls
from hotline.intake.consumer import send_all
from hotline.intake.kafka_io import ensure_topics, make_producer
from hotline.intake.messages import Outgoing, Topics

PARTITIONS = 6


def one_evening(count: int, seed: int = 18) -> tuple[list, int]:
    # the 3 hours before now: the consumers record on the server clock, which refuses old reported times
    generated = DemoCalls(SystemClock().now(), seed=seed).messages(count, invalid_ratio=0.05, duplicate_ratio=0.05)
    return generated, len({m.call_id for m in generated if m.call_id})


def _assignment(log: Path, topic: str) -> set[int]:
    lines = [line for line in log.read_text(errors="replace").splitlines() if "分配到分区" in line]
    if not lines:
        return set()
    names = lines[-1].split("[", 1)[1].rstrip("]").split()
    return {int(n.rsplit("/", 1)[1]) for n in names if n.rsplit("/", 1)[0] == topic}


def measure(broker: str, generated: list, valid: int, consumers: int, batch: int = 500) -> dict[str, float]:
    topics = Topics(f"scale{consumers}-{uuid.uuid4().hex[:6]}.")
    ensure_topics(broker, topics.partitions(PARTITIONS))
    load_before = os.getloadavg()[0]  # 2 cores shared with whatever else runs: said beside each figure
    with fresh_schema() as url, tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
        services = bootstrap(Config(database_url=url, data_dir=Path(directory), kafka_bootstrap=broker))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update(HOTLINE_DATABASE_URL=url, HOTLINE_DATA_DIR=directory, HOTLINE_KAFKA_BOOTSTRAP=broker)
        logs = [Path(directory) / f"consumer-{n}.log" for n in range(consumers)]
        processes = []
        for log in logs:
            with log.open("wb") as out:
                command = [sys.executable, "-m", "hotline.entrypoints.cli", "consume", "--no-dispatch"]
                command += ["--topic-prefix", topics.prefix, "--group", f"{topics.prefix}intake"]
                command += ["--batch-size", str(batch), "--log-every", "1"]
                processes.append(subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stderr=out, stdout=out))
        try:
            deadline = time.monotonic() + 180
            while True:  # balanced: every consumer holds partitions, together all of them, none twice
                held = [_assignment(log, topics.calls) for log in logs]
                if all(held) and sum(map(len, held)) == PARTITIONS and len(set().union(*held)) == PARTITIONS:
                    break
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    raise RuntimeError("consumers did not balance:\n" + logs[0].read_text(errors="replace")[-2000:])
                time.sleep(0.2)
            time.sleep(2)  # let the group settle (no rebalance during the measurement)
            producer = make_producer(broker)
            for start in range(0, len(generated), 2000):
                chunk = generated[start : start + 2000]
                send_all(producer, [Outgoing(topics.calls, m.key, m.value) for m in chunk])
            producer.close()
            first = None
            deadline = time.monotonic() + 900
            while True:
                stored = sum(services.app.recorder.select_last_numbers().values())
                now = time.monotonic()
                if stored and first is None:
                    first = (now, stored)
                if stored >= valid:
                    break
                if now > deadline:
                    raise RuntimeError(f"{consumers} consumers stored {stored} of {valid} calls")
                time.sleep(0.05)
            assert first is not None
            seconds = now - first[0]
            per_consumer = []
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process, log in zip(processes, logs, strict=True):
                process.wait(timeout=120)
                final = [line for line in log.read_text(errors="replace").splitlines() if "已停止" in line]
                per_consumer.append(int(final[-1].split("messages=")[1].split()[0]) if final else -1)
            texts = [log.read_text(errors="replace") for log in logs]
            retries = sum(text.count("暂时性故障") for text in texts)
            rebuilt = sum(text.count("本批在锁内重建") for text in texts)  # infra/store/tickets.py
            return {
                "consumers": consumers,
                "calls_per_s": round((valid - first[1]) / seconds, 1) if seconds > 0 else 0.0,
                "seconds": round(seconds, 2),
                "cases": stored,
                "messages_per_consumer": per_consumer,
                "transient_retries": retries,
                "batches_rebuilt_in_lock": rebuilt,
                "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after
            }
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
            services.close()
