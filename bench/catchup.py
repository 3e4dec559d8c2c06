"""Projection catch-up: events per second to build every read model from zero on PostgreSQL, at
100k and at 1M events, and the rebuild's peak memory: as ``hotline projections rebuild`` does it
(its processes, ``--jobs`` by the cores), and in one process, interleaved (A B, B A).

Each rebuild runs in a child process (``python -m bench.catchup --child``) so that its peak RSS is
its own. The baseline, in another child in the same run, reads the
same notification log page by page (5,000 a page, as the rebuild does) with and without decoding
(decrypt, decompress, build the domain events): what a rebuild could reach if writing the views
cost nothing. Each child reports its own peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from typing import Any

from bench.dataset import DataSet, generate_dataset, temporary_dataset
from bench.harness import PG_URL, Progress, Result, median, no_progress, target
from hotline.infra.rebuild_processes import MAX_JOBS, peak_rss_mib

GOAL = 50_000
RSS = 200  # MiB, each process
PASSES = 5  # reads of the log per repeat, for the bar: about 3 by the processes' groups, 2 in one process
JOBS = min(os.cpu_count() or 1, MAX_JOBS)  # the rebuild's processes, as `hotline projections rebuild` chooses
SIZES = {  # (events, cases, repeats)
    "full": [(100_000, 20_000, 3), (1_000_000, 200_000, 1)],
    "quick": [(100_000, 20_000, 1)],
    "smoke": [(1_500, 300, 1)],
}


# ---- child side -----------------------------------------------------------------------------------


def _child(mode: str, url: str, data_dir: str, jobs: int) -> dict[str, Any]:
    from pathlib import Path

    from hotline.infra.bootstrap import bootstrap
    from hotline.infra.config import Config
    from hotline.infra.rebuild_processes import rebuild_in_processes

    services = bootstrap(Config(database_url=url, data_dir=Path(data_dir)))
    try:
        if mode == "rebuild":  # as `hotline projections rebuild --jobs N` does
            began, peaks = time.perf_counter(), []
            read = rebuild_in_processes(
                services, None, jobs, progress=lambda n: print(f"progress {n}", flush=True), peaks=peaks
            )
            return {"events": read, "seconds": time.perf_counter() - began, "jobs": jobs, "worker_peaks_mib": peaks}
        recorder, mapper = services.app.recorder, services.app.mapper
        out: dict[str, Any] = {}
        for decode in (False, True):
            began, start, count = time.perf_counter(), None, 0
            while page := recorder.select_notifications(start, 5000, inclusive_of_start=False):
                if decode:
                    for notification in page:
                        mapper.to_domain_event(notification)
                count += len(page)
                start = page[-1].id
            out["decode_events_per_s" if decode else "read_events_per_s"] = count / (time.perf_counter() - began)
        out["events"] = count
        return out
    finally:
        services.close()


def own_peak_rss_mib() -> float:
    """This process's peak resident memory. /proc's VmHWM is its own after exec; the rusage of a
    waited child can report the parent's size at fork time instead, when that was larger."""
    if found := peak_rss_mib():
        return found
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def child_main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["rebuild", "baseline"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    result = _child(args.child, args.url, args.data_dir, args.jobs)
    result["peak_rss_mib"] = own_peak_rss_mib()
    if result.get("jobs", 1) > 1:  # the processes that rebuilt: the largest, and all of them together
        result["peak_rss_mib"] = max(result["worker_peaks_mib"])
        result["sum_of_peaks_mib"] = round(own_peak_rss_mib() + sum(result["worker_peaks_mib"]), 1)
    print("result " + json.dumps(result), flush=True)


# ---- parent side ----------------------------------------------------------------------------------


def _rounded(run: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in run.items()}


def in_child(mode: str, dataset: DataSet, progress: Progress = no_progress, jobs: int = 1) -> dict[str, Any]:
    """Run one measurement in a child process; its result, with the child's own peak RSS in MiB."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.catchup",
            "--child",
            mode,
            "--url",
            dataset.url,
            "--data-dir",
            str(dataset.data_dir),
            "--jobs",
            str(jobs),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, Any] | None = None
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("progress "):
            progress(int(line.split()[1]))
        elif line.startswith("result "):
            result = json.loads(line[len("result ") :])
    if process.wait() != 0 or result is None:
        raise RuntimeError(f"catch-up child ({mode}) failed with status {process.returncode}")
    return result


def run(size: str = "full", progress: Progress = no_progress, url: str = PG_URL) -> Result:
    result = Result("catchup", quick=size != "full")
    result.parameters = {
        "store": "postgresql",
        "data_sets": [{"events": e, "cases": c, "repeats": r} for e, c, r in SIZES[size]],
        "page": 5000,
        "views": ["cases", "supervision", "metrics"],
    }
    with ExitStack() as stack:
        for events, cases, repeats in SIZES[size]:
            if size == "smoke":
                dataset = stack.enter_context(temporary_dataset(events, cases, url=url))
            else:
                dataset = generate_dataset(events, cases, url=url)
            runs, alone, baselines = [], [], []
            for repeat in range(repeats):  # A B, then B A: the machine's drift cancels
                baselines.append(in_child("baseline", dataset))
                pair = ((JOBS, 1) if repeat % 2 == 0 else (1, JOBS)) if JOBS > 1 else (1,)  # one core: once
                for jobs in pair:
                    rebuilt = in_child("rebuild", dataset, progress, jobs)
                    rebuilt["events_per_s"] = rebuilt["events"] / rebuilt["seconds"]
                    if jobs == JOBS:
                        runs.append(rebuilt)
                    if jobs == 1:
                        alone.append(rebuilt)
            label = f"{events // 1_000_000}M" if events % 1_000_000 == 0 else f"{events // 1000}k"  # as asked
            rate = median([r["events_per_s"] for r in runs])
            decoded = median([b["decode_events_per_s"] for b in baselines])
            result.figures[label] = {
                "events": dataset.events,
                "cases": dataset.cases,
                "jobs": JOBS,
                "events_per_s": round(rate, 1),
                "seconds": round(median([r["seconds"] for r in runs]), 2),
                "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),  # of the largest process
                "sum_of_peaks_mib": max(r.get("sum_of_peaks_mib", r["peak_rss_mib"]) for r in runs),
                "ratio_to_decode_only": round(rate / decoded, 4),
                "runs": [_rounded(r) for r in runs],
                "one_process": {
                    "events_per_s": round(median([r["events_per_s"] for r in alone]), 1),
                    "seconds": round(median([r["seconds"] for r in alone]), 2),
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in alone),
                    "ratio_to_decode_only": round(median([r["events_per_s"] for r in alone]) / decoded, 4),
                    "runs": [_rounded(r) for r in alone],
                },
            }
            result.baseline[label] = {
                "read_events_per_s": round(median([b["read_events_per_s"] for b in baselines]), 1),
                "read_and_decode_events_per_s": round(decoded, 1),
                "peak_rss_mib": max(b["peak_rss_mib"] for b in baselines),
            }
            result.targets.append(
                target(
                    f"rebuild of all read models from zero at {label} events (PostgreSQL, {JOBS} processes)",
                    rate,
                    "events/s",
                    GOAL,
                )
            )
            result.targets.append(
                target(
                    f"peak RSS of a rebuilding process at {label} events",
                    max(r["peak_rss_mib"] for r in runs),
                    "MiB",
                    RSS,
                    at_most=True,
                )
            )
    return result


if __name__ == "__main__":
    child_main()
