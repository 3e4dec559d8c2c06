"""The supervision ledger (督办台账) as an Excel workbook: one sheet per source, Chinese headings,
overdue rows filled in light red."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from hotline.domain.supervision import SOURCES
from hotline.domain.text import printable
from hotline.projections.ledger import LedgerRow

HEADINGS = (
    ("序号", 6),
    ("督办编号", 16),
    ("批示领导/会议", 22),
    ("督办内容", 48),
    ("牵头单位", 20),
    ("配合单位", 24),
    ("登记日期", 12),
    ("办结期限", 12),
    ("最新落实进度", 40),
    ("进度报送日期", 12),
    ("最新月度反馈", 40),
    ("反馈月份", 10),
    ("状态", 14),
    ("是否超期", 10),
    ("周进度逾期", 10),
    ("月反馈逾期", 10),
    ("催办次数", 8),
)
OVERDUE_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
HEADING_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
OVERDUE_FONT = Font(color="9C0006")
# CSV/formula injection: a cell starting with one of these would be taken for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def write_ledger(
    rows: Sequence[LedgerRow],
    path: Path,
    *,
    title: str,
    department_name: Callable[[str], str] = str,
) -> dict[str, int]:
    """Write the workbook; returns the number of rows per sheet (every source gets a sheet)."""
    book = Workbook()
    book.remove(book.active)
    counts: dict[str, int] = {}
    for source, sheet_name in SOURCES.items():
        sheet = book.create_sheet(sheet_name)
        sheet.append([f"{title}（{sheet_name}）"])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([heading for heading, _ in HEADINGS])
        for column, (_, width) in enumerate(HEADINGS, 1):
            cell = sheet.cell(row=2, column=column)
            cell.font = Font(bold=True)
            cell.fill = HEADING_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            sheet.column_dimensions[get_column_letter(column)].width = width
        mine = [row for row in rows if row.source == source]
        for number, row in enumerate(mine, 1):
            sheet.append(
                printable(value)  # text stored before it was checked: a control character would fail the export
                for value in [
                    number,
                    row.reference_no,
                    row.leader_or_meeting,
                    row.content,
                    department_name(row.lead_department),
                    "、".join(department_name(code) for code in row.cooperating_departments),
                    _day(row.registered_at),
                    _day(row.due_at) + ("（暂定）" if row.provisional else ""),
                    row.latest_progress,
                    _day(row.latest_progress_at),
                    row.latest_feedback,
                    row.latest_feedback_month or "",
                    row.status_name,
                    _yes(row.overdue),
                    _yes(row.progress_overdue),
                    _yes(row.feedback_overdue),
                    row.urge_count,
                ]
            )
            line = sheet.max_row
            for column in range(1, len(HEADINGS) + 1):
                cell = sheet.cell(row=line, column=column)
                cell.alignment = Alignment(vertical="top", wrap_text=True)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    # Text someone typed, never a formula (openpyxl makes "=…" one; Excel would run it).
                    cell.data_type = "s"
                    cell.quotePrefix = True
                if row.any_overdue:
                    cell.fill = OVERDUE_FILL
                    cell.font = OVERDUE_FONT
        sheet.freeze_panes = "C3"
        counts[sheet_name] = len(mine)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return counts
