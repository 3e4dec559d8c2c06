"""Case lists: the filters of the search page and ``hotline cases``, and their exports.

One ``CaseFilter`` says which cases a list shows; the page reads one page of it
(``CaseIndex.search``) and the exports stream all of it (``CaseIndex.stream``) through the same
WHERE clause, so an export is exactly the list the page showed, page after page.

The exports come from the case index, which never holds the caller's name or number (only the
keyed hash), so no export carries a caller field, whoever asks for it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from hotline.domain.case import STATUS_NAMES
from hotline.domain.catalogue import CATEGORIES, CHANNELS, URGENCIES
from hotline.domain.deadlines import is_overdue
from hotline.domain.errors import InvalidInput
from hotline.domain.migration_rules import MIGRATED
from hotline.domain.rules import Rules
from hotline.domain.text import printable
from hotline.projections.cases import CaseIndex, CaseRow
from hotline.projections.ledger_export import FORMULA_STARTS


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list shows; every field given must hold (empty means: any)."""

    text: str | None = None
    ticket_no: str | None = None
    phone: str | None = None
    statuses: tuple[str, ...] = ()
    category: str | None = None
    service_code: str | None = None
    service_codes: tuple[str, ...] = ()  # a level of the catalogue: every 细项 of a 大类 or 小类
    district: str | None = None
    department: str | None = None
    opened_from: date | None = None
    opened_to: date | None = None  # inclusive: the whole day
    overdue: bool = False
    urgent: bool = False
    confidential: bool = False  # 保密 callers only

    def __post_init__(self) -> None:
        unknown = [s for s in self.statuses if s not in STATUS_NAMES]
        if unknown:
            raise InvalidInput(f"未知状态：{'、'.join(unknown)}（可选：{'、'.join(STATUS_NAMES)}）")
        if self.category and self.category not in CATEGORIES:
            raise InvalidInput(f"未知诉求类别：{self.category}（可选：{'、'.join(CATEGORIES)}）")
        if self.opened_from and self.opened_to and self.opened_from > self.opened_to:
            raise InvalidInput("起始日期晚于截止日期")

    def for_department(self, department: str) -> CaseFilter:
        """A department user's list: only its own cases, whatever was asked."""
        return replace(self, department=department)

    def where(self, now: datetime) -> dict[str, Any]:
        """The filters as ``CaseIndex.where`` takes them; "overdue" is judged at ``now``."""
        return {
            "text": self.text,
            "ticket_no": self.ticket_no,
            "phone": self.phone,
            "status": list(self.statuses) or None,
            "category": self.category,
            "service_codes": list(self.service_codes) or ([self.service_code] if self.service_code else None),
            "district": self.district,
            "department": self.department,
            "opened_from": self.opened_from,
            "opened_to": self.opened_to,
            "overdue_at": now if self.overdue else None,
            "urgent": self.urgent,
            "confidential": True if self.confidential else None,
        }


def page(index: CaseIndex, chosen: CaseFilter, now: datetime, limit: int, offset: int) -> tuple[list[CaseRow], int]:
    return index.search(limit=limit, offset=offset, **chosen.where(now))


def every(index: CaseIndex, chosen: CaseFilter, now: datetime) -> Iterator[CaseRow]:
    return index.stream(**chosen.where(now))


# ---- exports ----------------------------------------------------------------------------------

HEADINGS = (
    ("工单编号", 16),
    ("状态", 10),
    ("受理时间", 18),
    ("渠道", 8),
    ("诉求类别", 8),
    ("服务事项", 16),
    ("区县", 10),
    ("地址", 30),
    ("诉求内容", 50),
    ("紧急程度", 8),
    ("承办单位", 18),
    ("当前期限", 18),
    ("是否超期", 8),
    ("办结时间", 18),
    ("数据来源", 10),  # 迁移数据: migrated from the previous system (docs/import.md)
    ("原工单编号", 22),
    ("原受理时间", 18),
)


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def export_row(row: CaseRow, rules: Rules, now: datetime) -> list[str]:
    deadline = row.next_deadline
    return [
        row.ticket_no,
        row.status_name,
        _time(row.opened_at),
        CHANNELS.get(row.channel, row.channel),
        row.category_name,
        rules.service_name(row.service_code),
        row.district or "",
        row.address or "",
        row.description or "",
        URGENCIES.get(row.urgency, row.urgency),
        rules.department_name(row.department),
        _time(deadline),
        "是" if is_overdue(deadline, now) else "否",
        _time(row.closed_at),
        MIGRATED if row.migrated else "",
        row.migrated_from or "",
        _time(row.source_opened_at),
    ]


def _safe(value: str) -> str:
    """Text someone typed is never a formula in a spreadsheet (CSV/formula injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_lines(rows: Iterable[CaseRow], rules: Rules, now: datetime) -> Iterator[str]:
    """The list as CSV, one line at a time (UTF-8 with a BOM, which Excel needs for Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[str]) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line([heading for heading, _ in HEADINGS])
    for row in rows:
        yield line([_safe(value) for value in export_row(row, rules, now)])


def write_xlsx(rows: Iterable[CaseRow], out: Path | IO[bytes], rules: Rules, now: datetime, title: str) -> int:
    """The list as a workbook, written row by row (openpyxl's write-only mode keeps memory flat);
    returns the number of cases written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单列表")
    for column, (_, width) in enumerate(HEADINGS):
        sheet.column_dimensions[chr(ord("A") + column)].width = width
    heading = WriteOnlyCell(sheet, value=title)
    heading.font = Font(bold=True, size=14)
    sheet.append([heading])
    bold = []
    for text, _ in HEADINGS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    count = 0
    for row in rows:
        cells = []
        for value in export_row(row, rules, now):
            cell = WriteOnlyCell(sheet, value=printable(value))  # text stored before it was checked
            cell.data_type = "s"  # typed text stays text, never a formula
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(out)
    return count
