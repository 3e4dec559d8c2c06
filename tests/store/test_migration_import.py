"""The migration of the city's previous 12345 system (``hotline import cases``, docs/import.md), on
both stores: each case keeps its original times as reported times and is recorded at the import;
rows that break the rules are refused with their line and reason; a second import of the same file
creates nothing; the cases are marked 迁移数据 and kept out of the 三率 of the previous system's
handling."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from hotline.application import clocked
from hotline.domain.actors import ADMIN, SUPERVISOR, Actor
from hotline.domain.case import CLOSED, OPENED, Case
from hotline.entrypoints.cli import main
from hotline.infra.migration import ImportFileError, import_file
from hotline.projections.case_lists import CaseFilter, csv_lines, every
from hotline.web.open311.representation import RequestView, as_request
from tests.conftest import OPERATOR_ACTOR, department
from tests.support.paths import PROJECT_DIR

SAMPLE = PROJECT_DIR / "docs" / "samples" / "migration-sample.csv"
T = datetime.fromisoformat("2026-12-02T10:00:00+08:00")  # the moment of the import (a Wednesday)
IMPORTER = Actor("cli:import", ADMIN)
REFUSED = {  # the sample's deliberately bad rows: physical line → what the report says
    6: "办结时间 2025-03-02 09:00:00 早于受理时间 2025-03-06 11:20:00",
    7: "受理时间 2035-01-01 09:00:00 晚于导入时间",
    8: "区县“火星区”不在 rules/districts.csv 中",
}


def imported(hotline, path: Path = SAMPLE):
    return import_file(clocked(hotline, T), path, IMPORTER)


def by_source(hotline) -> dict[str, Case]:
    cases = [hotline.repository.get(case_id) for case_id in hotline.case_ids()]
    return {case.migrated_from: case for case in cases if case.migrated_from}


def test_each_case_keeps_its_times_as_reported_and_is_recorded_at_the_import(hotline):
    report = imported(hotline)

    assert [source for source, _ in report.created] == [f"JZ12345-2025-00010{n}" for n in (1, 2, 3, 4)]
    assert [ticket for _, ticket in report.created] == [f"20261202-00000{n}" for n in (1, 2, 3, 4)]
    cases = by_source(hotline)
    noise = cases["JZ12345-2025-000101"]
    event = hotline.case_events(noise.ticket_no)[0]
    assert isinstance(event, Case.Migrated)
    assert event.timestamp == T  # recorded: the clock's now, whatever the file says
    assert event.reported_at == datetime.fromisoformat("2025-03-03T09:12:00+08:00")
    assert event.finished_at == datetime.fromisoformat("2025-03-07T16:40:00+08:00")
    assert (noise.status, noise.department, noise.source_status) == (CLOSED, "HBJ", "已办结")
    assert noise.closed_at == event.finished_at
    # Still open there: in the dispatch centre's queue here, the old department not assumed.
    manhole = cases["JZ12345-2025-000103"]
    assert (manhole.status, manhole.department, manhole.urgency) == (OPENED, None, "urgent")
    assert manhole.source_received_at == datetime.fromisoformat("2025-03-04T14:30:00+08:00")  # 2025/3/4 14:30


def test_rows_that_break_the_rules_are_refused_with_their_line_and_reason(hotline):
    report = imported(hotline)

    assert {refusal.place for refusal in report.refused} == set(REFUSED)
    for refusal in report.refused:
        assert REFUSED[refusal.place] in refusal.reason
        assert str(refusal).startswith(f"第 {refusal.place} 行（工单编号 JZ12345-2025-00010")
    assert set(by_source(hotline)) == {source for source, _ in report.created}  # nothing of them recorded


def test_a_second_import_of_the_same_file_creates_nothing_and_says_so(hotline, tmp_path):
    imported(hotline)
    head = hotline.recorder.max_notification_id()

    again = imported(hotline)

    assert again.created == [] and len(again.known) == 4
    assert hotline.recorder.max_notification_id() == head
    assert "此前已导入 4 件（未重复创建）" in again.summary()
    clean = tmp_path / "clean.csv"  # only the good rows: the report says nothing new was made
    clean.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:5]) + "\n", encoding="utf-8")
    assert imported(hotline, clean).summary() == "本文件的 4 件工单此前均已导入，未新建任何工单。"


def test_an_excel_export_is_read_with_its_row_numbers_and_cell_types(hotline, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["工单编号", "受理时间", "来电人", "来电号码", "诉求内容", "诉求类型", "事项分类", "状态", "办结时间"])
    sheet.append(["X-1", datetime(2025, 6, 1, 8, 30), "钱先", 13800000201.0, "停水三天", "求助", "供水问题", "已派单"])
    sheet.append([])  # an empty row is skipped, its number still counts
    sheet.append(["X-2", "2020-01-01 08:00", "", "", "咨询养老金", "咨询", "社保业务", "已办结", "2020-01-02 09:00"])
    sheet.append(["X-3", datetime(2025, 6, 2), "", "", "路灯不亮", "建议", "不存在的事项", "待派单"])
    sheet.append(["X-1", datetime(2025, 6, 1, 8, 30), "", "", "重复的行", "求助", "供水问题", "已派单"])
    path = tmp_path / "export.xlsx"
    book.save(path)

    report = imported(hotline, path)

    assert [source for source, _ in report.created] == ["X-1"]
    water = by_source(hotline)["X-1"]
    assert water.caller_phone == "13800000201"  # a number cell reads as its digits
    assert water.source_received_at == datetime.fromisoformat("2025-06-01T08:30:00+08:00")
    reasons = {refusal.place: refusal.reason for refusal in report.refused}
    assert set(reasons) == {4, 5, 6}
    assert "早于导入时间超过 1827 天" in reasons[4]  # rules/time_plausibility.toml [migration]
    assert "事项分类“不存在的事项”不在服务事项目录" in reasons[5]
    assert reasons[6] == "工单编号与第 2 行重复，未导入"


def test_a_file_without_the_required_columns_imports_nothing(hotline, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("编号,时间\nA,2025-01-01\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="缺少列：工单编号、受理时间"):
        imported(hotline, path)
    gbk = tmp_path / "gbk.csv"  # older systems write GB18030
    gbk.write_bytes("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:2]).encode("gb18030"))
    assert len(imported(hotline, gbk).created) == 1


def test_migrated_cases_are_marked_in_the_lists_exports_and_open311(services):
    hotline, models = services.app, services.read_models
    imported(hotline)
    models.catch_up()

    rows = {row.migrated_from: row for row in every(models.cases, CaseFilter(), T)}
    assert set(rows) == {f"JZ12345-2025-00010{n}" for n in (1, 2, 3, 4)}
    row = rows["JZ12345-2025-000101"]
    assert (row.status, row.department, row.opened_at) == (CLOSED, "HBJ", T)
    assert row.source_opened_at == datetime.fromisoformat("2025-03-03T09:12:00+08:00")
    found, _ = models.cases.search(ticket_no="JZ12345-2025-000101")  # found by its old number too
    assert [r.ticket_no for r in found] == [row.ticket_no]
    lines = list(csv.reader(io.StringIO("".join(csv_lines([row], services.rules, T)).lstrip("\ufeff"))))
    heading = lines[0]
    assert lines[1][heading.index("数据来源")] == "迁移数据"
    assert lines[1][heading.index("原工单编号")] == "JZ12345-2025-000101"
    assert lines[1][heading.index("原受理时间")] == "2025-03-03 09:12"
    request = as_request(RequestView.from_row(row), services.rules)
    assert request["service_notice"].startswith("【迁移数据】自原 12345 系统导入，原工单编号 JZ12345-2025-000101")


def test_the_previous_systems_handling_is_not_counted_in_the_three_rates(services):
    """docs/metrics.md: a migrated case counts only from a dispatch here, in that dispatch's month."""
    hotline, models = services.app, services.read_models
    imported(hotline)
    models.catch_up()
    for month in ("2025-03", "2026-12"):
        assert [row.department for row in models.metrics(month)] == []  # 市生态环境局's closed case: not counted

    manhole = by_source(hotline)["JZ12345-2025-000103"]
    clocked(hotline, T + timedelta(minutes=10)).dispatch(manhole.ticket_no, OPERATOR_ACTOR, department="JTJ")
    clocked(hotline, T + timedelta(minutes=40)).sign(manhole.ticket_no, department("JTJ"))
    models.catch_up()
    (row,) = models.metrics("2026-12")
    assert (row.department, row.dispatched, row.responded) == ("JTJ", 1, 1)


def test_the_cli_reports_each_refused_row_and_a_repeat(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    for name in ("HOTLINE_DATABASE_URL", "HOTLINE_RULES_DIR"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    first = runner.invoke(main, ["import", "cases", str(SAMPLE), "--no-progress"])
    assert first.exit_code == 1, first.output
    assert "新导入 4 件，此前已导入 0 件（未重复创建），拒收 3 行" in first.output
    for line, reason in REFUSED.items():
        assert f"拒收 第 {line} 行（工单编号 JZ12345-2025-00010{line - 1}）：{reason}" in first.output
    second = runner.invoke(main, ["import", "cases", str(SAMPLE), "--no-progress"])
    assert "新导入 0 件，此前已导入 4 件（未重复创建）" in second.output
    listed = runner.invoke(main, ["cases"])
    assert listed.output.count("[迁移数据 JZ12345-2025-") == 4


def test_only_an_administrator_imports(hotline):
    from hotline.domain.errors import NotPermitted

    with pytest.raises(NotPermitted, match="导入迁移数据"):
        import_file(clocked(hotline, T), SAMPLE, Actor("sup-01", SUPERVISOR))


def test_a_migrated_callers_personal_data_is_sealed_with_the_cases_own_key(hotline):
    """As for a call logged here (crypto-shredding, infra/store/personal_keys.py): the import issues
    each case its own key, and the stored event holds the caller's fields only sealed with it."""
    from hotline.infra.store.personal_keys import SEALED

    imported(hotline)
    noise = by_source(hotline)["JZ12345-2025-000101"]
    assert noise.personal_key and noise.caller_name == "王先生"
    (stored,) = hotline.recorder.select_events(noise.id, lte=1)
    mapper = hotline.mapper
    state = mapper.transcoder.decode(
        mapper.compressor.decompress(mapper.cipher.decrypt(stored.state))
        if mapper.compressor
        else mapper.cipher.decrypt(stored.state)
    )
    assert SEALED in state and "caller_name" not in state and "caller_phone" not in state
    assert state["source_no"] == "JZ12345-2025-000101"  # the case's facts stay readable


def test_cases_logged_elsewhere_during_an_import_move_its_numbers_on_and_nothing_unstored_is_kept(services):
    """Another worker took the day's next number after this process last saw the day's row: the
    import's cases are built again with the numbers after it (on PostgreSQL, where the store asks
    with the numbers it expects), and only what was stored stays in this process's memory."""
    from hotline.domain.case import Call, case_id
    from hotline.infra.bootstrap import bootstrap

    hotline = clocked(services.app, T)
    call = Call(channel="phone", category="complaint", service_code="noise", description="施工噪音", district="城东区")
    mine = hotline.open_case(call, OPERATOR_ACTOR).ticket_no
    other = bootstrap(services.config)
    try:
        theirs = clocked(other.app, T).open_case(call, OPERATOR_ACTOR).ticket_no
    finally:
        other.close()

    report = imported(hotline)

    assert [mine, theirs] == ["20261202-000001", "20261202-000002"]
    assert [ticket for _, ticket in report.created] == [f"20261202-00000{n}" for n in (3, 4, 5, 6)]

    def cached(ticket_no: str):
        try:
            return hotline.repository.cache.get(case_id(ticket_no))
        except KeyError:
            return None

    assert cached(theirs) is None  # the other worker's case: never built here (a first build may have made one)
    assert [cached(ticket).ticket_no for _, ticket in report.created] == [t for _, t in report.created]
