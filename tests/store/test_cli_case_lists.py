"""``hotline cases`` with filters, and its exports, on a demo store (in-process CLI)."""

from __future__ import annotations

import csv
import json

from openpyxl import load_workbook

from hotline.infra.rule_files import load_rules
from tests.support.cli import hotline
from tests.support.paths import RULES_DIR


def test_cases_filters_and_exports_agree(tmp_path):
    env = {"HOTLINE_DATA_DIR": str(tmp_path)}
    hotline("demo", "--cases", "120", data_dir=tmp_path)
    everything = [json.loads(line) for line in hotline("cases", "--json", env=env).stdout.splitlines()]
    assert len(everything) == 120 + 8 + 12  # with the planted 集中诉求 and rising topic (infra/demo/hotspots.py)
    chosen = hotline("cases", "--json", "--status", "dispatched", "--status", "signed", env=env).stdout.splitlines()
    rows = [json.loads(line) for line in chosen]
    assert rows and {row["status"] for row in rows} <= {"dispatched", "signed"}
    assert len(rows) == sum(1 for row in everything if row["status"] in ("dispatched", "signed"))
    # A 大类 or 小类 name lists every 细项 under it (rules/services.csv).
    rules = load_rules(RULES_DIR)
    for level, belongs in (("城市管理", "major"), ("小类:市容环卫", "minor")):
        name = level.removeprefix("小类:")
        listed = [
            json.loads(line)["ticket_no"]
            for line in hotline("cases", "--json", "--service", level, env=env).stdout.splitlines()
        ]
        expected = [r["ticket_no"] for r in everything if getattr(rules.services[r["service_code"]], belongs) == name]
        assert listed == expected and listed, level
    district = everything[0]["district"]
    in_district = [r["ticket_no"] for r in everything if r["district"] == district]

    out = tmp_path / "list.csv"
    done = hotline("cases", "--district", district, "--format", "csv", "--out", str(out), env=env)
    assert done.returncode == 0 and f"已导出 {len(in_district)} 件" in done.stdout
    with out.open(encoding="utf-8-sig") as file:
        assert [line[0] for line in csv.reader(file)][1:] == in_district

    book = tmp_path / "list.xlsx"
    hotline("cases", "--district", district, "--format", "xlsx", "--out", str(book), env=env)
    sheet = load_workbook(book, read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == in_district


def test_bad_case_filters_are_clear_errors(tmp_path):
    env = {"HOTLINE_DATA_DIR": str(tmp_path)}
    for args, message in (
        (["--status", "lost"], "lost"),
        (["--service", "no_such"], "未知服务代码或大类、小类名称"),
        (["--from", "2025-10-09", "--to", "2025-10-01"], "起始日期晚于截止日期"),
        (["--format", "csv"], "--out"),
    ):
        result = hotline("cases", *args, env=env)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
