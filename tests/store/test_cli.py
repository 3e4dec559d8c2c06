"""The hotline command as a user runs it (in-process, real files)."""

import json

import pytest

from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.projections.hotspots import Hotspots
from tests.support.cli import hotline as run


def hotline(*args, env=None, check=True):
    result = run(*args, env=env)
    if check and result.returncode:
        raise AssertionError(result.stderr)
    return result


def test_deadline_prints_iso_8601():
    out = hotline("deadline", "--from", "2025-09-30 16:00", "--working-days", "3").stdout
    assert out.strip() == "2025-10-11T23:59:59+08:00"
    out = hotline("deadline", "--from", "2025-09-30 16:00", "--hours", "24", "--clock", "working").stdout
    assert out.strip() == "2025-10-09T16:00:00+08:00"


def test_a_provisional_deadline_says_so():
    out = hotline("deadline", "--from", "2026-12-30 10:00", "--working-days", "5").stdout.splitlines()
    assert out[0] == "2027-01-07T23:59:59+08:00"
    assert "暂定" in out[1] and "2027" in out[1]
    as_json = json.loads(hotline("deadline", "--from", "2026-12-30 10:00", "--working-days", "5", "--json").stdout)
    assert as_json == {"due": "2027-01-07T23:59:59+08:00", "provisional": True}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "yesterday", "--working-days", "3"], "无法识别的时间"),
        (["--from", "2025-09-30 16:00"], "--working-days 或 --hours"),
        (["--from", "2025-09-30 16:00", "--working-days", "-2"], "-2"),
    ],
)
def test_bad_deadline_arguments_are_clear_errors(args, message):
    result = hotline("deadline", *args, check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_demo_then_cases_as_json(tmp_path):
    env = {"HOTLINE_DATA_DIR": str(tmp_path)}
    loaded = hotline("demo", "--cases", "300", env=env).stdout
    assert "已载入 300 件演示工单" in loaded and "集中诉求一起（8 位来电人" in loaded
    assert "跳过" in hotline("demo", env=env).stdout  # loading twice adds nothing
    rows = [json.loads(line) for line in hotline("cases", "--json", env=env).stdout.splitlines()]
    planted = [row for row in rows if row["call_id"].startswith(("demo-water-main-", "demo-bikes-"))]
    assert len(planted) == 8 + 12  # the planted 集中诉求 and rising topic (infra/demo/hotspots.py)
    rows = [row for row in rows if row not in planted]
    assert len(rows) == 300
    assert {"ticket_no", "call_id", "status", "department", "sign_by", "reply_by"} <= set(rows[0])
    statuses = {row["status"] for row in rows}
    assert statuses >= {
        "opened",
        "answered",
        "dispatched",
        "signed",
        "returned",
        "replied",
        "called_back",
        "closed",
        "reopened",
        "merged",
    }
    assert len({row["department"] for row in rows if row["department"]}) >= 10
    assert len({row["ticket_no"] for row in rows}) == 300
    # What `make run` shows on the hotspots page: the planted water main as one cluster of eight callers.
    services = bootstrap(Config(data_dir=tmp_path))
    try:
        services.read_models.catch_up()
        clusters = Hotspots(services.read_models).clusters(services.clock.now())
    finally:
        services.close()
    water = {row["ticket_no"] for row in planted if row["call_id"].startswith("demo-water-main-")}
    assert clusters and clusters[0].callers == 8 and set(clusters[0].open_tickets) == water


def test_a_bad_database_url_is_a_clear_error(tmp_path):
    result = hotline("cases", env={"HOTLINE_DATABASE_URL": "mysql://x@y/z"}, check=False)
    assert result.returncode == 1 and "postgresql://" in result.stderr and "Traceback" not in result.stderr
