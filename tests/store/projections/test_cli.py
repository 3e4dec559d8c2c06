"""The projections, ledger and metrics commands as a user runs them (in-process), on the SQLite store."""

import json

import pytest
from openpyxl import load_workbook

from tests.support.cli import hotline as run


def hotline(data_dir, *args):
    return run(*args, data_dir=data_dir)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cli-projections")
    result = hotline(data_dir, "demo", "--cases", "80")
    assert result.returncode == 0, result.stderr
    return data_dir


def test_projections_run_once_rebuild_and_status(loaded):
    run = hotline(loaded, "projections", "run", "--once")
    assert run.returncode == 0, run.stderr
    assert "已停止" in run.stdout
    rebuilt = hotline(loaded, "projections", "rebuild", "supervision")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "已重建 supervision" in rebuilt.stdout and "重建读模型" in rebuilt.stderr  # the tqdm bar
    rebuilt = hotline(loaded, "projections", "rebuild", "cases")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "已重建 cases" in rebuilt.stdout and "cases 以集合运算重建" in rebuilt.stdout
    rebuilt = hotline(loaded, "projections", "rebuild", "--incremental", "cases")
    assert rebuilt.returncode == 0 and "集合运算" not in rebuilt.stdout, rebuilt.stderr
    rebuilt = hotline(loaded, "projections", "rebuild", "--jobs", "2", "metrics", "supervision")
    assert rebuilt.returncode == 0 and "SQLite 只有一个写入者：在一个进程中重建" in rebuilt.stderr, rebuilt.stderr
    assert "个进程同时进行" not in rebuilt.stdout
    status = hotline(loaded, "projections", "status").stdout
    assert "cases" in status and "待处理 0" in status
    assert "后台追平进程（hotline serve 或 hotline projections run）：未运行" in status  # run --once beats not
    unknown = hotline(loaded, "projections", "rebuild", "nonsense")
    assert unknown.returncode != 0 and "没有名为 nonsense 的读模型" in unknown.stderr


def test_ledger_export_reads_back_with_chinese_headings_and_highlighted_overdue_rows(loaded, tmp_path):
    out = tmp_path / "ledger.xlsx"
    month = _demo_month(loaded)
    result = hotline(loaded, "ledger", "export", "--month", month, "--out", str(out))
    assert result.returncode == 0, result.stderr
    book = load_workbook(out)
    assert book.sheetnames == ["领导批示", "会议议定事项", "超期工单转督办"]
    sheet = book["领导批示"]
    headings = [cell.value for cell in sheet[2]]
    assert headings[:5] == ["序号", "督办编号", "批示领导/会议", "督办内容", "牵头单位"] and "是否超期" in headings
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert rows and all(row[1].startswith("督〔") for row in rows)
    overdue_column = headings.index("是否超期")
    late = [
        row
        for row in sheet.iter_rows(min_row=3)
        if "是" in (row[overdue_column].value, row[overdue_column + 1].value, row[overdue_column + 2].value)
    ]
    on_time = [row for row in sheet.iter_rows(min_row=3) if row not in late]
    assert late and all(row[0].fill.start_color.rgb.endswith("FFC7CE") for row in late)
    assert all(row[0].fill.fill_type is None for row in on_time)
    assert book["会议议定事项"].max_row >= 3 and "市政府" in book["会议议定事项"]["C3"].value


def test_ledger_export_refuses_bad_input(loaded, tmp_path):
    bad_month = hotline(loaded, "ledger", "export", "--month", "2025-13", "--out", str(tmp_path / "x.xlsx"))
    assert bad_month.returncode != 0 and "月份格式不正确" in bad_month.stderr
    bad_name = hotline(loaded, "ledger", "export", "--month", "2025-10", "--out", str(tmp_path / "x.csv"))
    assert bad_name.returncode != 0 and ".xlsx" in bad_name.stderr


def test_metrics_prints_a_ranking_and_json(loaded):
    month = _demo_month(loaded)
    table = hotline(loaded, "metrics", "--month", month)
    assert table.returncode == 0, table.stderr
    assert "响应率" in table.stdout and "综合得分" in table.stdout
    rows = json.loads(hotline(loaded, "metrics", "--month", month, "--json").stdout)
    ranked = [r for r in rows if r["rank"] is not None]
    assert rows and (not ranked or rows[0]["rank"] == 1)
    # rules/ranking.toml: fewer than 3 cases in the month, listed but not ranked
    assert all(r["dispatched"] >= 3 for r in ranked) and not any(r["ranked"] for r in rows if r["dispatched"] < 3)
    assert {"department", "response_rate", "resolution_rate", "satisfaction_rate", "score", "rank"} <= set(rows[0])
    ranks = [r["rank"] for r in rows if r["rank"] is not None]
    assert ranks == sorted(ranks)
    assert "没有派单记录" in hotline(loaded, "metrics", "--month", "2004-01").stdout


def _demo_month(data_dir) -> str:
    """The demo data is relative to today: this month always has cases and open items."""
    from datetime import datetime

    return datetime.now().strftime("%Y-%m")
