"""A report as an Excel workbook: the figures, each breakdown, 三率 and the cases for leaders."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.projections.ledger_export import FORMULA_STARTS
from hotline.projections.reports import FLOW_NAMES, Count, Report


def _table(sheet, headings: list[str], rows: list[list]) -> None:
    sheet.append(headings)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"  # text someone typed, never a formula
                cell.quotePrefix = True
    sheet.append([])


def write_report_xlsx(report: Report, out: Path | IO[bytes], department_name, service_name) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "概况"
    sheet.append([report.period.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [f"统计区间 {report.period.first} 至 {report.period.last}，生成于 {report.generated_at:%Y-%m-%d %H:%M}"]
    )
    sheet.append([])
    figures = [["诉求总量", report.total], *([FLOW_NAMES[k], v] for k, v in report.flows.items())]
    figures.append(["直办率（%）", report.direct_answer_rate])
    figures.extend([f"{name}（%，{report.metrics_month}）", value] for name, value in report.city_rates.items())
    figures.append(["重复来电人", report.repeat_callers])
    phone = report.telephony
    if phone is not None:
        figures.extend(
            [
                ["来电（话务）", phone.offered],
                ["接通率（%）", phone.answer_rate],
                [f"{phone.answer_within_seconds:g} 秒接通率（%）", phone.in_time_rate],
                ["平均等待（秒）", phone.average_wait_seconds],
                ["漏接未按时回拨", sum(1 for m in phone.callbacks_due if m.overdue)],
            ]
        )
    _table(sheet, ["指标", "数值"], figures)
    sheet.column_dimensions["A"].width = 28
    breakdowns: list[tuple[str, list[Count]]] = [
        ("渠道", report.by_channel),
        ("诉求类别", report.by_category),
        ("服务大类", report.by_major),
        ("服务小类", report.by_minor),
        ("服务事项", report.by_service),
        ("区县", report.by_district),
        ("承办单位", report.by_department),
    ]
    sheet = book.create_sheet("分类统计")
    for title, counts in breakdowns:
        _table(sheet, [title, "件数"], [[c.name, c.count] for c in counts])
    sheet.column_dimensions["A"].width = 28
    sheet = book.create_sheet("上升诉求")
    _table(sheet, ["服务事项", "本期", "上期", "增加"], [[r.name, r.now, r.before, r.change] for r in report.rising])
    sheet = book.create_sheet("三率排名")
    _table(
        sheet,
        ["名次", "承办单位", "派单数", "响应率", "解决率", "满意率", "综合得分"],
        [
            [r.rank, r.department_name, r.dispatched, r.response_rate, r.resolution_rate, r.satisfaction_rate, r.score]
            for r in report.departments
        ],
    )
    sheet = book.create_sheet("领导关注")
    for title, rows in (
        (f"紧急工单（{report.urgent_total} 件）", report.urgent),
        (f"超期逾 {report.red_card_hours:g} 小时（{report.red_card_total} 件）", report.red_card),
    ):
        sheet.append([title])
        _table(
            sheet,
            ["工单编号", "受理时间", "服务事项", "区县", "承办单位", "状态", "诉求内容"],
            [
                [
                    r.ticket_no,
                    f"{r.opened_at:%Y-%m-%d %H:%M}",
                    service_name(r.service_code),
                    r.district,
                    department_name(r.department),
                    r.status_name,
                    r.description,
                ]
                for r in rows
            ],
        )
    sheet = book.create_sheet("热点与集中诉求")
    sheet.append(["热点话题"])
    _table(
        sheet,
        ["词", "本期", "基线期件数", "期望值", "z"],
        [[t.word, t.now, t.baseline, t.expected, t.z] for t in report.topics],
    )
    sheet.append(["集中诉求"])
    _table(
        sheet,
        ["地点", "服务事项", "来电人", "件数", "关键词", "工单"],
        [
            [
                c.place,
                service_name(c.service_code),
                c.callers,
                len(c.cases),
                "、".join(c.words),
                "、".join(x.ticket_no for x in c.cases),
            ]
            for c in report.clusters
        ],
    )
    for extra in report.extras.values():
        if hasattr(extra, "sheet"):
            extra.sheet(book)
    book.save(out)
