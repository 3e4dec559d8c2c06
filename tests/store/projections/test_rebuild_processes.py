"""A rebuild in several processes at once (infra/rebuild_processes.py) on PostgreSQL: every view
comes out row for row as the incremental run left it, and a group that cannot be rebuilt is named
in a clear error while the others are rebuilt."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo.cases import DemoLoader
from hotline.infra.rebuild_processes import RebuildFailed, rebuild_in_processes
from hotline.projections.rebuild_plan import groups

pytestmark = pytest.mark.postgres
REFERENCE = datetime(2025, 11, 20, 12, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def store():
    return "postgres"


@pytest.fixture
def loaded(services):
    read_models = services.read_models
    read_models.batch_size = 97  # many pages, boundaries inside the cases' histories
    loader = DemoLoader(services.app, seed=11, reference=REFERENCE)
    loader.load(200, progress=lambda _: read_models.catch_up() if loader.events % 5 == 0 else None)
    read_models.catch_up()
    return services


def test_views_rebuilt_in_two_processes_equal_the_incremental_run(loaded):
    read_models = loaded.read_models
    events = loaded.app.recorder.max_notification_id()
    incremental = {name: read_models.dump(name) for name in read_models.views}
    planned = read_models.rebuild_groups(None, 2)
    assert len(planned) == 2 and sorted(name for group in planned for name in group) == sorted(read_models.views)

    view = read_models.recorder
    with view.writing(None) as cursor:  # rows lost or altered: only a rebuild from the first event restores them
        for table in ("hv_cases", "hv_messages", "hv_report_facts", "hv_items"):
            name = view.table(table)
            view.execute(cursor, f"DELETE FROM {name} WHERE ctid IN (SELECT ctid FROM {name} LIMIT 5)")
    assert {name: read_models.dump(name) for name in read_models.views} != incremental

    pages: list[int] = []
    assert rebuild_in_processes(loaded, None, 2, progress=pages.append) == events
    assert {name: read_models.dump(name) for name in read_models.views} == incremental
    assert read_models.positions() == dict.fromkeys(read_models.views, events)
    assert sum(pages) == events * 3  # the set-based case index's pass, and one pass per group of replayed views
    assert read_models.rollback_problem() is None and read_models.mark.read()[0] == events


def test_a_group_that_cannot_start_is_named_and_the_views_stay_readable(loaded, tmp_path):
    read_models = loaded.read_models
    before = read_models.dump("supervision")
    broken = replace(loaded, config=replace(loaded.config, rules_dir=tmp_path / "no-rules"))
    with pytest.raises(RebuildFailed) as refused:
        rebuild_in_processes(broken, ["supervision", "notifications"], 2)
    told = str(refused.value)
    assert "以下读模型未能重建" in told and "supervision" in told and "notifications" in told and "无法启动" in told
    assert read_models.dump("supervision") == before  # nothing was dropped: no process began


def test_the_groups_balance_the_costliest_views():
    views = ["cases", "supervision", "metrics", "knowledge", "notifications", "reports", "cooperation"]
    assert groups(views, 2, set_based=["cases"]) == [
        ["cases", "supervision", "metrics", "knowledge", "cooperation"],
        ["notifications", "reports"],
    ]
    assert groups(views, 3, set_based=["cases"]) == [
        ["cases"],
        ["notifications"],
        ["supervision", "metrics", "knowledge", "reports", "cooperation"],
    ]
    assert groups(views, 2) == [  # every view replayed: one pass each
        ["supervision", "metrics", "knowledge", "notifications", "cooperation"],
        ["cases", "reports"],
    ]
    assert groups(["metrics"], 3) == [["metrics"]]  # never an empty group
