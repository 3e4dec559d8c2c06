"""Importing an export of the city's previous 12345 system (``hotline import cases``, docs/import.md).

The file is an Excel workbook (.xlsx, its first sheet) or a CSV file (UTF-8, or GB18030 as older
Chinese systems write it); its first non-empty row names the columns (``domain.migration.COLUMNS``;
other columns are ignored). Each row is read into a case (``domain.migration.read_row``) and the
application records them in batches (``import_cases``); a refused row is reported with its place in
the file: the physical line of a CSV file, the row number Excel shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hotline.application import HotlineApplication
from hotline.domain.actors import Actor
from hotline.domain.errors import DomainError
from hotline.domain.migration import COLUMNS, REQUIRED_COLUMNS, MigratedCase, read_row

BATCH = 200  # rows per transaction


class ImportFileError(Exception):
    """The file cannot be read at all (not a row: the file): nothing was imported."""


@dataclass(frozen=True)
class Refusal:
    place: int  # the CSV file's physical line, or the Excel row
    source_no: str
    reason: str

    def __str__(self) -> str:
        number = f"（工单编号 {self.source_no}）" if self.source_no else ""
        return f"第 {self.place} 行{number}：{self.reason}"


@dataclass
class ImportReport:
    created: list[tuple[str, str]] = field(default_factory=list)  # (old number, ticket here)
    known: list[tuple[str, str]] = field(default_factory=list)  # imported before: nothing created
    refused: list[Refusal] = field(default_factory=list)
    kind: str = "CSV"

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.known) + len(self.refused)

    def summary(self) -> str:
        place = "行" if self.kind == "CSV" else "行（Excel 行号）"
        if not self.created and self.known and not self.refused:
            return f"本文件的 {len(self.known)} 件工单此前均已导入，未新建任何工单。"
        return (
            f"共 {self.rows} 行：新导入 {len(self.created)} 件，"
            f"此前已导入 {len(self.known)} 件（未重复创建），拒收 {len(self.refused)} {place}。"
        )


def count_rows(path: Path) -> int:
    """About how many data rows the file has (for the progress bar)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            return max(0, (workbook.worksheets[0].max_row or 1) - 1)
        finally:
            workbook.close()
    return max(0, _decode(path).count("\n") - 1)


def read_file(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    """Each data row of the file with its place: (line or Excel row, {column: value})."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _read_xlsx(path)
    elif suffix == ".csv":
        yield from _read_csv(path)
    else:
        raise ImportFileError(f"只能导入 .xlsx 或 .csv 文件，不是 {path.name}")


def import_file(
    app: HotlineApplication,
    path: Path,
    actor: Actor,
    progress: Callable[[int], None] = lambda rows: None,
    batch: int = BATCH,
) -> ImportReport:
    """Import every row of ``path``; ``progress`` is told how many rows each batch took."""
    report = ImportReport(kind="Excel" if path.suffix.lower() == ".xlsx" else "CSV")
    seen: dict[str, int] = {}  # old number -> the place of its first row in this file
    pending: list[tuple[int, MigratedCase]] = []

    def flush() -> None:
        outcomes = app.import_cases([item for _, item in pending], actor)
        for (place, item), outcome in zip(pending, outcomes, strict=True):
            if outcome.refusal:
                report.refused.append(Refusal(place, item.source_no, outcome.refusal))
            elif outcome.created:
                report.created.append((item.source_no, outcome.ticket_no or ""))
            else:
                report.known.append((item.source_no, outcome.ticket_no or ""))
        progress(len(pending))
        pending.clear()

    for place, cells in read_file(path):
        source_no = str(cells.get("工单编号") or "").strip()
        try:
            item = read_row(cells, app.rules)
        except DomainError as error:
            report.refused.append(Refusal(place, source_no[:64], str(error)))
            progress(1)
            continue
        if item.source_no in seen:
            reason = f"工单编号与第 {seen[item.source_no]} 行重复，未导入"
            report.refused.append(Refusal(place, item.source_no, reason))
            progress(1)
            continue
        seen[item.source_no] = place
        pending.append((place, item))
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    report.refused.sort(key=lambda refusal: refusal.place)
    return report


def _header(names: list[object], where: str) -> list[str]:
    header = [str(name).strip() if name is not None else "" for name in names]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(f"{where}（列名）缺少列：{'、'.join(missing)}；列的写法见 docs/import.md")
    return header


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path.name} 既不是 UTF-8 也不是 GB18030 编码的文本")


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    header: list[str] | None = None
    line = 1  # the physical line the next row starts on
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = _header(list(cells), f"第 {start} 行")
            continue
        yield start, _cells(header, cells)
    if header is None:
        raise ImportFileError(f"{path.name} 是空文件：第一行应为列名（{'、'.join(COLUMNS)}）")


def _read_xlsx(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError(f"{path.name} 不是可读取的 Excel 工作簿（{type(error).__name__}）") from None
    try:
        header: list[str] | None = None
        for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1):
            if not any(value is not None and str(value).strip() for value in values):
                continue
            if header is None:
                header = _header(list(values), f"第 {number} 行")
                continue
            yield number, _cells(header, list(values))
        if header is None:
            raise ImportFileError(f"{path.name} 的第一个工作表是空的：第一行应为列名")
    finally:
        workbook.close()


def _cells(header: list[str], values: list) -> dict[str, object]:
    return {name: _plain(values[i]) if i < len(values) else None for i, name in enumerate(header) if name in COLUMNS}


def _plain(value: object) -> object:
    """A number Excel stored for a phone or an old case number reads as its digits, not 1.39e10."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
