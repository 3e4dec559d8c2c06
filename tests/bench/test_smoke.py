"""A smoke run of each benchmark (``python -m bench NAME --smoke``), so that they cannot rot: the
command succeeds, writes its JSON with machine info, versions, figures, baseline and targets, and
every figure that is a rate or a time is positive. No timing thresholds: benchmarks are separate."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bench.cli import bench

pytestmark = [pytest.mark.postgres]

TARGET_FIELDS = {"metric", "value", "unit", "target", "meets"}
HEADLINES = {  # figures that must be positive, per benchmark
    "write_path": (
        "cases_per_s",
        "events_per_s",
        "ratio_to_raw_same_transactions",
        "ratio_to_in_process_floor",
        "mean_state_bytes",
    ),
    "intake": ("calls_per_s", "ratio_to_raw_consume"),
    "catchup": ("events_per_s", "peak_rss_mib", "seconds"),
    "rebuild": ("events_per_s", "peak_rss_mib", "seconds"),
    "pages": ("p50_ms", "p95_ms"),
    "pages_intake": ("p50_ms", "p95_ms", "calls_per_s_during_pages", "calls_per_s_alone"),
    "kb_search": ("p50_ms", "p95_ms"),
    "reports": ("seconds",),
}


def numbers(tree, keys=None):
    """Every number in a nested dict (only under ``keys`` names if given), with its path."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if isinstance(value, (dict, list)):
                yield from ((f"{key}.{path}", n) for path, n in numbers(value, keys))
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and (keys is None or key in keys):
                yield key, value
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from ((f"{index}.{path}", n) for path, n in numbers(value, keys))


@pytest.mark.parametrize(
    "name",
    [
        "write_path",
        pytest.param("intake", marks=pytest.mark.kafka),
        "catchup",
        "rebuild",
        "pages",
        pytest.param("pages_intake", marks=pytest.mark.kafka),
        "kb_search",
        "reports",
    ],
)
def test_smoke_run_writes_its_result(name, tmp_path):
    outcome = CliRunner().invoke(bench, [name, "--smoke", "--out", str(tmp_path)])
    assert outcome.exit_code == 0, outcome.output + repr(outcome.exception)
    result = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))

    assert result["benchmark"] == name and result["quick"] is True
    assert {"cpu_model", "cores", "memory_gb", "python", "os"} <= result["machine"].keys()
    assert result["machine"]["cores"] >= 1
    versions = result["versions"]
    for package in ("eventsourcing", "psycopg", "kafka-python", "flask", "sqlite", "postgres_server"):
        assert versions[package], package
    assert result["targets"]
    for item in result["targets"]:
        assert set(item) == TARGET_FIELDS
        assert isinstance(item["meets"], bool) and item["value"] > 0
    headline = list(numbers(result["figures"], HEADLINES[name]))
    assert headline, "no headline figures"
    assert all(value > 0 for _, value in headline), headline
    baseline = list(numbers(result["baseline"]))
    assert baseline and all(value > 0 for _, value in baseline), baseline
