"""Which views a rebuild in several processes gives each process (``hotline projections rebuild
--jobs``): groups of about the same work, the longest first.

A rebuild's time is its views' Python work (a handler per event and row) plus reading and decoding
the log once per pass. Each process reads the log itself, so a group costs its views plus one pass
for its replayed views (the set-based case index reads the log in a pass of its own). The costs are
seconds per 100,000 events on PostgreSQL, each view rebuilt alone on 2026-12-03 (2-core AMD EPYC,
``bench/README.md``); only their proportions matter. A view not listed counts as a cheap one.
"""

from __future__ import annotations

from collections.abc import Sequence

REPLAY_COST = {  # a view replayed beside others: its own work, without the shared read and decode
    "notifications": 5.5,
    "cases": 3.8,
    "reports": 3.5,
    "metrics": 1.3,
}
SET_BASED_COST = {"cases": 6.5}  # a pass of its own, reading and decoding included
PASS_COST = 1.3  # reading and decoding the log once
CHEAP = 0.1  # supervision, knowledge, cooperation and any view not measured


def cost(name: str, set_based: bool) -> float:
    return SET_BASED_COST.get(name, CHEAP) if set_based else REPLAY_COST.get(name, CHEAP)


def groups(names: Sequence[str], jobs: int, set_based: Sequence[str] = ()) -> list[list[str]]:
    """``names`` split into at most ``jobs`` groups of about equal cost (longest processing time
    first: each view, costliest first, to the group it makes least costly), in ``names``' order
    within each group; no empty group."""
    in_sql = set(set_based)
    planned: list[list[str]] = [[] for _ in range(max(1, min(jobs, len(names))))]

    def total(group: list[str]) -> float:
        replayed = [name for name in group if name not in in_sql]
        return sum(cost(name, name in in_sql) for name in group) + (PASS_COST if replayed else 0.0)

    for name in sorted(names, key=lambda n: -cost(n, n in in_sql)):
        min(planned, key=lambda group: total([*group, name])).append(name)
    order = {name: number for number, name in enumerate(names)}
    return [sorted(group, key=order.__getitem__) for group in planned if group]
