"""Cases migrated from the city's previous 12345 system (``hotline import cases``, docs/import.md).

An export of the previous system is read row by row (infra/migration_file.py reads the file);
each row becomes a ``MigratedCase`` here, or is refused with the reason in Chinese. The row's
times (受理时间, 办结时间) are what the previous system reported: they are kept as reported times,
checked against rules/time_plausibility.toml ``[migration]`` by the application, and the case is
recorded at the moment of the import (the clock's now). The old status words and what each means
here are data: rules/migration.csv.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from hotline.domain.case import Call
from hotline.domain.catalogue import CATEGORIES, CHANNELS, URGENCIES
from hotline.domain.errors import InvalidInput
from hotline.domain.migration_rules import MIGRATED, MigrationRules
from hotline.domain.text import text
from hotline.domain.workdays import CHINA_TZ

if TYPE_CHECKING:
    from hotline.domain.rules import Rules

# The documented column layout (docs/import.md): the headings of the previous system's export.
REQUIRED_COLUMNS = ("工单编号", "受理时间", "诉求内容", "诉求类型", "事项分类", "状态")
OPTIONAL_COLUMNS = ("来电人", "来电号码", "来源渠道", "紧急程度", "区县", "地址", "承办单位", "办结时间", "办理结果")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
SOURCE_NO_LIMIT = 64


@dataclass(frozen=True)
class MigratedCase:
    """One case of the previous system, as its export says it was."""

    source_no: str  # the previous system's 工单编号: what makes a second import create nothing
    received_at: datetime  # 受理时间, reported
    call: Call
    source_status: str  # 状态 as the previous system wrote it
    finished: bool
    department: str | None  # 承办单位 (a code of rules/departments.csv)
    finished_at: datetime | None  # 办结时间, reported
    result: str  # 办理结果

    @property
    def receipt_key(self) -> str:
        """The call receipt that remembers which case this old number became."""
        return f"migrated:{self.source_no}"


def parse_time(value: object, label: str) -> datetime | None:
    """A time cell: an Excel date, or text in one of ``TIME_FORMATS``; Beijing time if it says none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    else:
        written = str(value).strip()
        for shape in TIME_FORMATS:
            try:
                moment = datetime.strptime(written, shape)
                break
            except ValueError:
                continue
        else:
            raise InvalidInput(f"{label}“{written[:40]}”无法识别，请写成 2025-03-01 09:15 这样的格式")
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def read_row(cells: Mapping[str, object], rules: Rules) -> MigratedCase:
    """The row's case, or ``InvalidInput`` saying what is wrong with it (the first thing found)."""

    def cell(name: str) -> str:
        value = cells.get(name)
        return "" if value is None else str(value).strip()

    for name in REQUIRED_COLUMNS:
        if not cell(name):
            raise InvalidInput(f"{name}不能为空")
    source_no = text(cell("工单编号"), "工单编号", limit=SOURCE_NO_LIMIT)
    received_at = parse_time(cells.get("受理时间"), "受理时间")
    assert received_at is not None  # required above
    category = _code_of(cell("诉求类型"), CATEGORIES, "诉求类型")
    service = _service_of(cell("事项分类"), rules)
    channel = _code_of(cell("来源渠道") or CHANNELS["phone"], CHANNELS, "来源渠道")
    urgency = _code_of(cell("紧急程度") or URGENCIES["normal"], URGENCIES, "紧急程度")
    district = cell("区县")
    if district and district not in rules.districts:
        raise InvalidInput(f"区县“{district}”不在 rules/districts.csv 中")
    department = _department_of(cell("承办单位"), rules) if cell("承办单位") else None
    status = cell("状态")
    finished = rules.migration.finished(status)
    finished_at = parse_time(cells.get("办结时间"), "办结时间")
    if finished and finished_at is None:
        raise InvalidInput(f"状态为“{status}”，但办结时间为空")
    if not finished and finished_at is not None:
        raise InvalidInput(f"状态为“{status}”（未办结），却填了办结时间")
    call = Call(
        channel=channel,
        category=category,
        service_code=service,
        description=cell("诉求内容"),
        caller_name=cell("来电人"),
        caller_phone=cell("来电号码"),
        urgency=urgency,
        address=cell("地址"),
        district=district,
    )
    result = text(cell("办理结果"), "办理结果", required=False)
    return MigratedCase(source_no, received_at, call, status, finished, department, finished_at, result)


def _code_of(written: str, names: Mapping[str, str], label: str) -> str:
    for code, name in names.items():
        if written in (code, name):
            return code
    raise InvalidInput(f"{label}“{written}”无法识别（可用：{'、'.join(names.values())}）")


def _service_of(written: str, rules: Rules) -> str:
    for code, service in rules.services.items():
        if written in (code, service.name):
            return code
    raise InvalidInput(f"事项分类“{written}”不在服务事项目录（rules/services.csv）中")


def _department_of(written: str, rules: Rules) -> str:
    for code, department in rules.departments.items():
        if written in (code, department.name):
            return code
    raise InvalidInput(f"承办单位“{written}”不在 rules/departments.csv 中")


__all__ = ["COLUMNS", "MIGRATED", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "MigratedCase", "MigrationRules", "read_row"]
