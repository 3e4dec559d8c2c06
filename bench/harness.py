"""What every benchmark shares: machine info, package versions, fresh stores, medians, the result file.

A result file (``bench/results/<name>.json``) holds::

    {"benchmark", "started_at", "quick", "machine", "versions", "load", "figures", "baseline", "targets"}

where every target is ``{"metric", "value", "unit", "target", "meets"}``. Other engineers use the same
2 cores, so baselines are measured in the same run, interleaved with the figures they are compared to,
and the load average before and after is recorded.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository: benchmarks run from a checkout

RESULTS_DIR = PROJECT_DIR / "bench" / "results"
PG_URL = os.environ.get("HOTLINE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
Progress = Callable[[int], None]


def no_progress(_: int) -> None:
    pass


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 200 samples is the 190th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.4999)))
    return ordered[rank - 1]


# ---- machine and versions -----------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _package(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def postgres_server_version(url: str = PG_URL) -> str | None:
    try:
        import psycopg

        with psycopg.connect(libpq(url), connect_timeout=5) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:
        return None


def package_versions() -> dict[str, str | None]:
    return {
        "eventsourcing": _package("eventsourcing"),
        "psycopg": _package("psycopg"),
        "psycopg-binary": _package("psycopg-binary"),
        "kafka-python": _package("kafka-python"),
        "flask": _package("flask"),
        "gunicorn": _package("gunicorn"),
        "sqlite": sqlite3.sqlite_version,
        "postgres_server": postgres_server_version(),
    }


# ---- results -------------------------------------------------------------------------------------


def target(metric: str, value: float, unit: str, goal: float, *, at_most: bool = False) -> dict[str, Any]:
    """One target object; ``at_most`` for latencies (lower is better)."""
    meets = value <= goal if at_most else value >= goal
    return {
        "metric": metric,
        "value": round(value, 4),
        "unit": unit,
        "target": (f"<= {goal}" if at_most else f">= {goal}"),
        "meets": bool(meets),
    }


@dataclass
class Result:
    name: str
    quick: bool
    started_at: str = field(default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds"))
    load_before: list[float] = field(default_factory=load_average)
    parameters: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "started_at": self.started_at,
            "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "quick": self.quick,
            "machine": machine_info(),
            "versions": package_versions(),
            "load": {"before": self.load_before, "after": load_average(), "other_processes": busy_processes()},
            "parameters": self.parameters,
            "figures": self.figures,
            "baseline": self.baseline,
            "targets": self.targets,
            "notes": self.notes,
        }

    def write(self, directory: Path | None = None) -> Path:
        directory = directory or RESULTS_DIR
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.json"
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
        return path


def busy_processes(limit: int = 5) -> list[str]:
    """Other processes using CPU right now (the machine is shared): command names and their %CPU."""
    import subprocess

    try:
        out = subprocess.run(
            ["ps", "-eo", "pcpu,pid,comm,args", "--sort=-pcpu", "--no-headers"],
            check=False,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    me = os.getpid()
    found = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or int(parts[1]) == me or float(parts[0]) < 5.0:
            continue
        found.append(f"{parts[0]}% {parts[3][:100]}")
        if len(found) >= limit:
            break
    return found


# ---- stores ---------------------------------------------------------------------------------------


def libpq(url: str) -> str:
    return url.split("?", maxsplit=1)[0]


def create_schema(name: str | None = None, url: str = PG_URL) -> str:
    import psycopg

    name = name or f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    return name


def drop_schema(name: str, url: str = PG_URL) -> None:
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def schema_url(schema: str, url: str = PG_URL) -> str:
    return f"{libpq(url)}?schema={schema}"


@contextmanager
def fresh_schema(url: str = PG_URL) -> Iterator[str]:
    """A new PostgreSQL schema for one run (its URL), dropped afterwards."""
    name = create_schema(url=url)
    try:
        yield schema_url(name, url)
    finally:
        drop_schema(name, url)


def ensure_importable() -> None:
    """``python bench/x.py`` from anywhere: the project on the path."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
