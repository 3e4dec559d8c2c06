"""A rebuild of the read models in several processes at once (``hotline projections rebuild
--jobs``, PostgreSQL only).

Python handles one event at a time per process, so one process uses one core however many the
machine has. Here each process rebuilds a group of views (``projections/rebuild_plan.py``): it
builds its own services from the same configuration, reads and decodes the log itself, and writes
only its own views, each in its own transactions as a rebuild in one process does. The processes
first all start (their start-up creates any missing table, one at a time: the views' table lock)
and only then begin, so that none makes another's indexes again on tables being filled.

A process that fails leaves its views as a failed one-process rebuild would (rebuild them again);
the others finish theirs, and the error names the views concerned.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable, Sequence
from typing import Any

from hotline.infra.bootstrap import Services, bootstrap
from hotline.infra.config import Config

START_TIMEOUT = 120.0  # seconds for every process to build its services
MAX_JOBS = 3  # the costliest view alone takes about a third of a rebuild: more processes gain nothing


class RebuildFailed(Exception):
    """Some group of views could not be rebuilt; the message names them and says why."""


def rebuild_in_processes(
    services: Services,
    names: Sequence[str] | None,
    jobs: int,
    *,
    set_based: bool = True,
    progress: Callable[[int], None] | None = None,
    peaks: list[float] | None = None,
) -> int:
    """Rebuild the named views (all by default) in up to ``jobs`` processes; returns how many
    notifications the longest pass read. One group (SQLite, one job, one view): in this process.
    ``peaks``, when given, receives each process's peak resident memory in MiB."""
    read_models = services.read_models
    chosen = list(names) if names else list(read_models.views)
    planned = read_models.rebuild_groups(chosen, jobs, set_based=set_based)
    if len(planned) == 1:
        read = read_models.rebuild(chosen, progress, set_based=set_based)
        if peaks is not None:
            peaks.append(peak_rss_mib())
        return read
    if set(chosen) == set(read_models.views):
        read_models.forget_mark()  # as a rebuild of every view in one process does first
    return _run(services.config, planned, set_based, progress, peaks)


def _run(
    config: Config,
    planned: list[list[str]],
    set_based: bool,
    progress: Callable[[int], None] | None,
    peaks: list[float] | None,
) -> int:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no connection inherited
    reports: Any = context.Queue()
    begin = context.Event()
    workers = [
        context.Process(target=_worker, args=(number, config, group, set_based, reports, begin), daemon=True)
        for number, group in enumerate(planned)
    ]
    for worker in workers:
        worker.start()
    try:
        return _follow(workers, planned, reports, begin, progress, peaks)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()


def _follow(
    workers: list[Any],
    planned: list[list[str]],
    reports: Any,
    begin: Any,
    progress: Callable[[int], None] | None,
    peaks: list[float] | None,
) -> int:
    ready: set[int] = set()
    finished: dict[int, int] = {}
    failed: dict[int, str] = {}

    def take(kind: str, number: int, value: Any) -> None:
        if kind == "ready":
            ready.add(number)
            if len(ready) == len(workers):
                begin.set()
        elif kind == "progress":
            if progress:
                progress(value)
        elif kind == "done":
            finished[number], peak = value
            if peaks is not None:
                peaks.append(peak)
        else:  # "failed": the others go on, their views do not depend on this group's
            failed[number] = value
            begin.set()

    started_by = time.monotonic() + START_TIMEOUT
    while len(finished) + len(failed) < len(workers):
        try:
            take(*reports.get(timeout=1.0))
            continue
        except queue.Empty:
            pass
        gone = [
            n for n, worker in enumerate(workers) if n not in finished and n not in failed and not worker.is_alive()
        ]
        if gone:
            time.sleep(0.5)  # what a process said just before it ended may still be on its way
            try:
                while True:
                    take(*reports.get_nowait())
            except queue.Empty:
                pass
            for number in gone:
                if number not in finished and number not in failed:
                    take("failed", number, f"进程意外退出（退出码 {workers[number].exitcode}）")
        if not begin.is_set() and time.monotonic() > started_by:
            raise RebuildFailed(f"重建进程在 {START_TIMEOUT:.0f} 秒内未能全部启动，尚未开始重建")
    if failed:
        told = "；".join(f"{'、'.join(planned[number])}：{why}" for number, why in sorted(failed.items()))
        raise RebuildFailed(f"以下读模型未能重建，请再次重建：{told}")
    return max(finished.values())


def _worker(number: int, config: Config, names: list[str], set_based: bool, reports: Any, begin: Any) -> None:
    try:
        services = bootstrap(config)
    except Exception as error:  # told to the parent, which says it in its error
        reports.put(("failed", number, f"无法启动：{error}"))
        return
    try:
        reports.put(("ready", number, 0))
        begin.wait()
        read = services.read_models.rebuild(names, lambda n: reports.put(("progress", number, n)), set_based=set_based)
        reports.put(("done", number, (read, peak_rss_mib())))
    except Exception as error:
        reports.put(("failed", number, f"{type(error).__name__}: {error}"))
    finally:
        services.close()


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux: VmHWM), 0.0 where /proc does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0
