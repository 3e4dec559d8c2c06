"""Pages while intake runs at full speed: p50/p95/max over HTTP of the department inbox, the deadline
queue and the 督办台账, quiet and while one ``hotline consume`` stores calls as fast as it can, in one
run on one PostgreSQL data set.

The set-up is production's: gunicorn serves the data set and a projection runner in its own process
(``hotline projections run --interval 0.2``, the pause of ``hotline serve``'s runner) follows the
notification log; its beat (projections/runner_beat.py) tells the workers so, and the pages read
the read models as they are and never catch up in the request. One ``hotline consume --no-dispatch --no-notify`` process
(the intake benchmark's consumer) is started and holds its partitions before anything is measured.
The calls are the intake benchmark's (DemoCalls: 5 % invalid, 5 % redelivered, from the last three
hours), four in five of them about pollution and noise, which rules/routing.csv sends to 市生态环境局
(HBJ): the department whose inbox is measured receives them.

One run, in this order, so that the machine's drift falls on every phase alike:

1. quiet: the pages, round robin with the login page (the baseline: HTTP, Flask, a session and a
   template, no read model), ``requests`` rounds;
2. intake alone: a producer puts ``alone`` calls on the broker as fast as it takes them and the
   consumer stores them, no page requested: the quiet intake rate;
3. under intake: the same with ``calls`` calls, and the pages requested while the consumer is still
   storing (a request counts only if it began before the consumer had stored the last call); the
   consumer's calls/s over exactly that window, the runner's lag (notifications stored but not yet
   in the slowest view, sampled every 0.1 s) and the CPU every process used;
4. quiet again, once the consumer has stored everything and the runner has caught up.

The data set is made afresh for the run and dropped afterwards (the calls stored would change the
kept data sets ``pages`` and ``catchup`` reuse). ``--quick`` (100k events, 20k cases) is the size
for this 2-core machine; the full size is 1M events and 200k cases.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.dataset import DataSet, temporary_dataset
from bench.harness import PG_URL, PROJECT_DIR, Progress, Result, load_average, median, no_progress, percentile, target
from bench.intake_scale import _assignment
from bench.pages import PAGES, WARM_UP, Server, page_clients, prepare

QUIET_GOAL_MS = 50.0
UNDER_INTAKE_GOAL_MS = 100.0


@dataclass(frozen=True)
class Size:
    events: int
    cases: int
    requests: int  # rounds per phase: every page and the baseline once per round
    calls: int  # messages produced while the pages are measured
    alone: int  # messages produced for the quiet intake rate
    workers: int  # gunicorn workers
    batch: int  # the consumer's --batch-size


SIZES = {
    "full": Size(1_000_000, 200_000, 200, 60_000, 10_000, 2, 500),
    "quick": Size(100_000, 20_000, 60, 20_000, 5_000, 2, 500),
    "smoke": Size(1_500, 300, 4, 1_500, 600, 1, 50),
}
DEPARTMENT = "HBJ"  # 市生态环境局: the inbox measured (pages.PAGES: account hbj)
TOWARDS_DEPARTMENT = 0.8  # the share of calls about a service routed to it
PARTITIONS = 3
RUNNER_INTERVAL = 0.2  # projections.read_models.FOLLOW_INTERVAL, the pause of hotline serve's runner
SAMPLE_EVERY = 0.1
PHASES = ("quiet_before", "under_intake", "quiet_after")


# ---- the calls ------------------------------------------------------------------------------------


def department_services(rules, department: str = DEPARTMENT) -> list[str]:
    """The services the routing rules send to ``department`` from every district."""
    from hotline.infra.demo.vocabulary import DESCRIPTIONS, DISTRICTS

    return [s for s in DESCRIPTIONS if all(rules.routing.route(s, d) == department for d in DISTRICTS)]


def calls_towards(rules, count: int, seed: int) -> tuple[list, int]:
    """The intake benchmark's calls (DemoCalls), four in five about a service ``DEPARTMENT`` handles;
    the messages and how many distinct calls among them can be stored."""
    from hotline.application.clock import SystemClock
    from hotline.infra.demo import DemoCalls
    from hotline.infra.demo.vocabulary import CATEGORY_BY_SERVICE, DESCRIPTIONS

    services = department_services(rules)
    if not services:
        raise RuntimeError(f"rules/routing.csv sends no service to {DEPARTMENT} from every district")

    class TowardsDepartment(DemoCalls):
        def call(self, index: int) -> dict:
            message = super().call(index)
            if self.rng.random() < TOWARDS_DEPARTMENT:
                service = self.rng.choice(services)
                message["service_code"] = service
                message["category"] = CATEGORY_BY_SERVICE.get(service, "complaint")
                message["description"] = self.rng.choice(DESCRIPTIONS[service])
            return message

    # the 3 hours before now: the consumer records on the server clock, which refuses old reported times
    generated = TowardsDepartment(SystemClock().now(), seed=seed).messages(
        count, invalid_ratio=0.05, duplicate_ratio=0.05
    )
    return generated, len({m.call_id for m in generated if m.call_id})


def produce(broker: str, topic: str, generated: list) -> threading.Thread:
    """A producer thread putting the messages on the broker as fast as it takes them."""
    from hotline.intake.consumer import send_all
    from hotline.intake.kafka_io import make_producer
    from hotline.intake.messages import Outgoing

    failure: list[BaseException] = []

    def send() -> None:
        try:
            producer = make_producer(broker)
            try:
                for start in range(0, len(generated), 2000):
                    chunk = generated[start : start + 2000]
                    send_all(producer, [Outgoing(topic, m.key, m.value) for m in chunk])
            finally:
                producer.close()
        except BaseException as error:  # said by the phase waiting for the calls
            failure.append(error)

    thread = threading.Thread(target=send, name="producer", daemon=True)
    thread.failure = failure  # type: ignore[attr-defined]
    thread.start()
    return thread


# ---- what the store holds, sampled --------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: float
    stored: int  # cases numbered (the ticket counters' sum)
    latest: int  # the last notification id
    position: int  # the slowest view's position

    @property
    def lag(self) -> int:
        return max(0, self.latest - self.position)


@dataclass
class Sampler:
    """A thread reading, every ``SAMPLE_EVERY`` seconds, how many cases are stored and how far the
    read models are behind the log (its own connections, no effect on the views)."""

    dataset: DataSet
    samples: list[Sample] = field(default_factory=list)
    failure: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        from hotline.infra.bootstrap import bootstrap

        self.services = bootstrap(self.dataset.config())
        self.stop = threading.Event()
        self.take()
        self.thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.thread.start()

    def take(self) -> Sample:
        app, models = self.services.app, self.services.read_models
        sample = Sample(
            time.monotonic(),
            sum(app.recorder.select_last_numbers().values()),
            app.recorder.max_notification_id() or 0,
            models.position(),
        )
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY):
            try:
                self.take()
            except BaseException as error:
                self.failure.append(error)
                return

    @property
    def last(self) -> Sample:
        if self.failure:
            raise RuntimeError(f"sampling the store failed: {self.failure[0]!r}")
        return self.samples[-1]

    def between(self, began: float, ended: float) -> list[Sample]:
        return [s for s in self.samples if began <= s.at <= ended]

    def at(self, moment: float) -> Sample:
        """The last sample taken at or before ``moment``."""
        return next((s for s in reversed(self.samples) if s.at <= moment), self.samples[0])

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.services.close()


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {seconds:.0f} s")
        time.sleep(0.05)


# ---- CPU per process --------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of a process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    command = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return command, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def cpu_by_group(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process with its children (a gunicorn master and its
    workers), and by every PostgreSQL process on the machine (``postgresql``: other engineers'
    tests included, their backends cannot be told apart from ours)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat(int(entry))):
            stats[int(entry)] = found
    out = dict.fromkeys(groups, 0.0) | {"postgresql": 0.0}
    for pid, (command, parent, seconds) in stats.items():
        if command == "postgres":
            out["postgresql"] += seconds
            continue
        for name, root in groups.items():
            if pid == root or (parent == root and name != "bench_client"):
                out[name] += seconds
    return out


def cores_used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    return {name: round((after[name] - before[name]) / seconds, 2) for name in after} if seconds > 0 else {}


# ---- the processes ------------------------------------------------------------------------------------


def _env(dataset: DataSet, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATABASE_URL=dataset.url, HOTLINE_DATA_DIR=str(dataset.data_dir), **extra)
    return env


def start_runner(dataset: DataSet, log: Path) -> subprocess.Popen:
    """``hotline projections run``: the read models kept up to date outside the request."""
    with log.open("wb") as out:
        command = [sys.executable, "-m", "hotline.entrypoints.cli", "projections", "run"]
        command += ["--interval", str(RUNNER_INTERVAL)]
        return subprocess.Popen(command, cwd=PROJECT_DIR, env=_env(dataset), stdout=out, stderr=out)


def start_consumer(dataset: DataSet, broker: str, prefix: str, batch: int, log: Path) -> subprocess.Popen:
    """One ``hotline consume`` (no dispatch publisher, no notifier: storing calls only, as in the
    intake benchmark) on its own topics."""
    with log.open("wb") as out:
        command = [sys.executable, "-m", "hotline.entrypoints.cli", "consume", "--no-dispatch", "--no-notify"]
        command += ["--topic-prefix", prefix, "--group", f"{prefix}intake", "--partitions", str(PARTITIONS)]
        command += ["--batch-size", str(batch), "--log-every", "1"]
        env = _env(dataset, HOTLINE_KAFKA_BOOTSTRAP=broker)
        return subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=out)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- the run ----------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "max_ms": round(max(values), 2) if values else 0.0,
        "requests": len(values),
    }


def run(size: str = "quick", progress: Progress = no_progress, url: str = PG_URL) -> Result:
    from hotline.intake.kafka_io import ensure_topics
    from hotline.intake.messages import Topics
    from tests.support.broker import TansuBroker

    chosen = SIZES[size]
    towards: list[str] = []
    result = Result("pages_intake", quick=size != "full")
    names = [*PAGES, "baseline_login_page"]
    samples: dict[str, dict[str, list[float]]] = {phase: {name: [] for name in names} for phase in PHASES}
    intake: dict[str, object] = {}
    with ExitStack() as stack:
        dataset = stack.enter_context(temporary_dataset(chosen.events, chosen.cases, url=url))
        prepare(dataset)  # the runner starts from an up-to-date position (the catch-up benchmark times that)
        logs = Path(stack.enter_context(_temporary_directory()))
        broker = stack.enter_context(TansuBroker())
        topics = Topics(f"pagesintake-{uuid.uuid4().hex[:6]}.")
        ensure_topics(broker.bootstrap, topics.partitions(PARTITIONS))
        runner = start_runner(dataset, logs / "runner.log")
        stack.callback(stop_process, runner)
        consumer = start_consumer(dataset, broker.bootstrap, topics.prefix, chosen.batch, logs / "consumer.log")
        stack.callback(stop_process, consumer)
        server = Server(dataset, chosen.workers)
        stack.callback(server.stop)
        sampler = Sampler(dataset)
        stack.callback(sampler.close)
        towards = department_services(sampler.services.rules)

        def alive() -> None:
            for name, process, log in (("runner", runner, "runner.log"), ("consumer", consumer, "consumer.log")):
                if process.poll() is not None:
                    tail = (logs / log).read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the {name} exited with status {process.returncode}:\n{tail}")

        def balanced() -> bool:
            alive()
            return len(_assignment(logs / "consumer.log", topics.calls)) == PARTITIONS

        wait_until(balanced, 180, "the consumer did not hold every partition")

        requests = page_clients(server, stack)
        for _ in range(WARM_UP):
            for client, path in requests.values():
                client.timed(path)

        groups = {
            "gunicorn": server.process.pid,
            "projection_runner": runner.pid,
            "consumer": consumer.pid,
            "broker": broker.pid or -1,
            "bench_client": os.getpid(),  # the page client, the producer thread and the sampler
        }

        def rounds(phase: str, busy: Callable[[], bool] = lambda: True) -> tuple[float, float, dict[str, float]]:
            """``chosen.requests`` rounds while ``busy()``; the window's start, end and CPU cores used."""
            cpu, began = cpu_by_group(groups), time.monotonic()
            for _ in range(chosen.requests):
                if not busy():
                    break
                for name, (client, path) in requests.items():
                    samples[phase][name].append(client.timed(path))
                alive()
                progress(1)
            ended = time.monotonic()
            return began, ended, cores_used(cpu, cpu_by_group(groups), ended - began)

        def caught_up() -> bool:
            alive()
            return sampler.last.lag == 0

        load = {"before": load_average()}
        # 1. quiet
        wait_until(caught_up, 120, "the runner did not catch up")
        _, _, quiet_cpu = rounds("quiet_before")

        # 2. intake alone: the quiet intake rate
        generated, valid = calls_towards(sampler.services.rules, chosen.alone, seed=19)
        start = sampler.last.stored
        producer = produce(broker.bootstrap, topics.calls, generated)
        wait_until(lambda: (alive(), sampler.last.stored > start)[1], 120, "the consumer stored no call")
        first = sampler.last
        cpu = cpu_by_group(groups)
        wait_until(
            lambda: (alive(), sampler.last.stored >= start + valid)[1], 900, "the consumer did not store the calls"
        )
        last = sampler.last
        producer.join(timeout=60)
        alone_cpu = cores_used(cpu, cpu_by_group(groups), last.at - first.at)
        if last.stored > first.stored:  # from the first call stored to the last, as bench/intake_scale.py
            alone_rate = (last.stored - first.stored) / (last.at - first.at)
        else:  # every call stored between two samples: from the last sample before the first call
            before = next(s for s in reversed(sampler.samples) if s.stored <= start)
            alone_rate = (last.stored - start) / (last.at - before.at)
        alone_lag = [s.lag for s in sampler.between(first.at, last.at)]
        wait_until(caught_up, 300, "the runner did not catch up after the intake alone")

        # 3. the pages while the consumer stores calls as fast as it can
        generated, valid = calls_towards(sampler.services.rules, chosen.calls, seed=20)
        start = sampler.last.stored
        load["under_intake_start"] = load_average()
        producer = produce(broker.bootstrap, topics.calls, generated)
        wait_until(lambda: (alive(), sampler.last.stored > start)[1], 120, "the consumer stored no call")
        began, ended, under_cpu = rounds("under_intake", lambda: sampler.last.stored < start + valid)
        load["under_intake_end"] = load_average()
        if not samples["under_intake"]["baseline_login_page"]:
            raise RuntimeError("the consumer stored every call before a page was measured: produce more calls")
        opening, closing = sampler.at(began), sampler.at(ended)
        if closing.at <= opening.at:
            raise RuntimeError("the pages under intake took less than one sampling interval: measure more rounds")
        during_rate = (closing.stored - opening.stored) / (closing.at - opening.at)
        events_per_s = (closing.latest - opening.latest) / (closing.at - opening.at)
        during_lag = [s.lag for s in sampler.between(began, ended)]
        covered = len(samples["under_intake"]["baseline_login_page"])
        wait_until(
            lambda: (alive(), sampler.last.stored >= start + valid)[1], 900, "the consumer did not store the calls"
        )
        producer.join(timeout=60)
        if producer.failure:  # type: ignore[attr-defined]
            raise RuntimeError(f"producing the calls failed: {producer.failure[0]!r}")  # type: ignore[attr-defined]
        wait_until(caught_up, 300, "the runner did not catch up after the intake")

        # 4. quiet again
        _, _, after_cpu = rounds("quiet_after")
        load["after"] = load_average()
        intake = {
            "calls_per_s_during_pages": round(during_rate, 1),
            "calls_per_s_alone": round(alone_rate, 1),
            "ratio_during_to_alone": round(during_rate / alone_rate, 3) if alone_rate else None,
            "events_per_s_during_pages": round(events_per_s, 1),
            "rounds_under_intake": covered,
            "runner_lag_events_during_pages": _lag(during_lag),
            "runner_lag_seconds_during_pages_p95": round(percentile(during_lag, 0.95) / events_per_s, 3)
            if events_per_s
            else None,
            "runner_lag_events_intake_alone": _lag(alone_lag),
        }
        cpu_cores = {"quiet_before": quiet_cpu, "intake_alone": alone_cpu, "under_intake": under_cpu}
        cpu_cores["quiet_after"] = after_cpu
        final_cases, final_events = sampler.last.stored, sampler.last.latest

    result.parameters = {
        "store": "postgresql",
        "events_at_start": dataset.events,
        "cases_at_start": dataset.cases,
        "events_at_end": final_events,
        "size_note": "quick (100k events) is the size for this 2-core machine; full is 1M events",
        "requests_per_page_per_phase": chosen.requests,
        "calls_produced_alone": chosen.alone,
        "calls_produced_under_pages": chosen.calls,
        "calls_towards": f"{DEPARTMENT}: {TOWARDS_DEPARTMENT:.0%} of calls about {', '.join(towards)}",
        "consumer": f"one hotline consume --no-dispatch --no-notify, batch {chosen.batch}, {PARTITIONS} partitions",
        "broker": "Tansu (tests/support/broker.py), memory storage, loopback",
        "runner": f"hotline projections run --interval {RUNNER_INTERVAL} (own process)",
        "server": f"gunicorn, {chosen.workers} workers, pages read the views (the runner's beat)",
        "client": "one request at a time, keep-alive, round robin over the pages and the login page",
        "phases": "quiet_before, intake_alone (no pages), under_intake, quiet_after",
        "pages": {name: f"{account} {path}" for name, (account, _, path) in PAGES.items()},
        "cores": os.cpu_count(),
    }
    result.figures = {
        name: {
            "quiet": summary(samples["quiet_before"][name] + samples["quiet_after"][name]),
            **{phase: summary(samples[phase][name]) for phase in PHASES},
        }
        for name in PAGES
    }
    result.figures["intake"] = intake
    result.figures["cpu_cores_used"] = cpu_cores
    result.figures["load_average"] = load
    result.figures["cases_stored_at_end"] = final_cases
    login = "baseline_login_page"
    result.baseline = {
        login: {
            "quiet": summary(samples["quiet_before"][login] + samples["quiet_after"][login]),
            **{phase: summary(samples[phase][login]) for phase in PHASES},
        },
        "intake_calls_per_s_alone": round(alone_rate, 1),
    }
    for name in PAGES:
        quiet = samples["quiet_before"][name] + samples["quiet_after"][name]
        result.targets.append(target(f"{name} p95, quiet", percentile(quiet, 0.95), "ms", QUIET_GOAL_MS, at_most=True))
        result.targets.append(
            target(
                f"{name} p95 while one consumer stores {round(during_rate)} calls/s",
                percentile(samples["under_intake"][name], 0.95),
                "ms",
                UNDER_INTAKE_GOAL_MS,
                at_most=True,
            )
        )
    if max(load["before"] or [0]) > 3:
        result.notes.append(f"load average {load['before']} before the run (> 3: other engineers' tests running)")
    return result


def _lag(values: list[int]) -> dict[str, float]:
    return {
        "p50": median([float(v) for v in values]),
        "p95": percentile([float(v) for v in values], 0.95),
        "max": max(values) if values else 0,
        "samples": len(values),
    }


def _temporary_directory():
    import tempfile

    return tempfile.TemporaryDirectory(prefix="bench-pages-intake-")
