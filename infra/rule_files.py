"""Reads the city's rule tables (rules/) into the domain's ``Rules``: the one loader.

The files are meant to be opened and edited by a city official in a spreadsheet or text editor:
CSV with Chinese headings (UTF-8, with or without BOM; lines starting with # are comments) and
one TOML file for the calendar. Every file is required, and a mistake stops start-up with a
message naming the file and its physical line, as an editor shows it. Loading rules imports the
domain only: no database driver, no aggregate.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from chinese_calendar import constants as calendar_constants

from hotline.domain.analysis import AnalysisRules, DailyReport, HotspotRules, Recipient, TelephonyRules
from hotline.domain.catalogue import (
    CATEGORIES,
    DISPATCH_CENTRE,
    SATISFACTION,
    URGENCIES,
    Department,
    District,
    Service,
    code_for,
)
from hotline.domain.emergency import EmergencyRules, EmergencyService
from hotline.domain.errors import DomainError
from hotline.domain.follow_up import CALLBACK, MINUTES_SIGNING, WEEKLY_PROGRESS, FollowUpRules
from hotline.domain.formats import PHONE
from hotline.domain.handling import CallbackRules, DispatchRules, HandlingRules
from hotline.domain.metrics import RATES, MetricRules, RateRule
from hotline.domain.migration_rules import MigrationRules
from hotline.domain.notifications import (
    Contact,
    NotificationRules,
    NotificationSettings,
    QuietHours,
    SmsReplyRules,
    Template,
    reply_words,
)
from hotline.domain.open311 import DATATYPES, EVERY_OTHER_SERVICE, LIST_TYPES, Attribute, Open311Catalogue
from hotline.domain.privacy import PrivacyRules
from hotline.domain.routing import RoutingRule, RoutingTable
from hotline.domain.rules import Rules
from hotline.domain.terms import Terms
from hotline.domain.time_limits import HOURS, WORKING_DAYS, TimeLimit, TimeLimitTable
from hotline.domain.timing import TimePlausibility
from hotline.domain.workdays import NATURAL, WORKING, WorkingDayCalendar
from hotline.infra.statutory_holidays import FIRST_YEAR, LAST_YEAR, statutory_holidays

# The rules shipped with the package: the repository's rules/ (installed as hotline/rules).
DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

CLOCK_WORDS = {"工作时间": WORKING, "自然时间": NATURAL, WORKING: WORKING, NATURAL: NATURAL}
UNIT_WORDS = {"工作日": WORKING_DAYS, "小时": HOURS, WORKING_DAYS: WORKING_DAYS, HOURS: HOURS}
FOLLOW_UP_FIELDS = {CALLBACK: "callback_days", WEEKLY_PROGRESS: "progress_days", MINUTES_SIGNING: "minutes_days"}
YES = {"是": True, "否": False, "true": True, "false": False}
_ATTRIBUTE_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLOCK_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class RulesFileError(Exception):
    """A rule file is missing or wrong; the message names the file and line and says what to fix."""


# ---- the one CSV reader ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    path: Path
    line: int  # the physical line the row starts on (1 = the file's first line)
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def error(self, message: str) -> RulesFileError:
        return RulesFileError(f"{self.path.name} 第 {self.line} 行：{message}")


def read_table(path: Path, required: list[str]) -> list[Row]:
    """The data rows of a CSV rule file, each with its physical line number, values trimmed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesFileError(f"找不到规则文件 {path}（可用 hotline rules init 复制一份默认规则）") from None
    except UnicodeDecodeError:
        raise RulesFileError(f"{path.name} 不是 UTF-8 编码的文本，请另存为 UTF-8 CSV") from None
    starts: list[int] = []

    def lines() -> Iterator[str]:
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                starts.append(number)
                yield line

    reader = csv.reader(lines())
    header = next(reader, None)
    if header is None:
        raise RulesFileError(f"{path.name} 是空文件：第一行（注释之外）应为列名")
    header = [name.strip() for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise RulesFileError(f"{path.name} 第 {starts[0]} 行（列名）缺少列：{'、'.join(missing)}")
    rows: list[Row] = []
    consumed = len(starts)
    for cells in reader:
        line = starts[consumed]  # the first physical line this row was read from
        consumed = len(starts)
        if len(cells) > len(header):
            raise RulesFileError(f"{path.name} 第 {line} 行：有 {len(cells)} 列，多于列名的 {len(header)} 列")
        values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header) if name}
        rows.append(Row(path, line, values))
    return rows


# ---- one function per table -------------------------------------------------------------------


def load_departments(path: Path) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for row in read_table(path, ["单位代码", "单位名称"]):
        code = row["单位代码"]
        if not code or not row["单位名称"]:
            raise row.error("单位代码和单位名称都不能为空")
        if code in departments:
            raise row.error(f"单位代码 {code} 重复")
        departments[code] = Department(code=code, name=row["单位名称"])
    return departments


def load_districts(path: Path) -> dict[str, District]:
    districts: dict[str, District] = {}
    for row in read_table(path, ["区县名称", "说明"]):
        name = row["区县名称"]
        if not name:
            raise row.error("区县名称不能为空")
        if name in districts:
            raise row.error(f"区县 {name} 重复")
        districts[name] = District(name, row["说明"])
    return districts


SERVICE_COLUMNS = ["服务代码", "大类", "小类", "服务名称", "说明", "关键词"]


def load_services(path: Path) -> dict[str, Service]:
    """The three-level catalogue: each row a 细项 (its 服务代码 is what cases carry) under a 小类
    of a 大类; a 小类 belongs to one 大类 only."""
    return _read_services(path)[0]


def _read_services(path: Path) -> tuple[dict[str, Service], dict[str, int]]:
    """The catalogue, and the physical line of each 细项 (for errors other files find about it)."""
    services: dict[str, Service] = {}
    lines: dict[str, int] = {}
    rows = _service_rows(path)
    minors: dict[str, tuple[str, int]] = {}  # 小类 -> (its 大类, the line that first named it)
    for row in rows:
        code = row["服务代码"]
        if not code or not row["服务名称"]:
            raise row.error("服务代码和服务名称都不能为空")
        if code in services:
            raise row.error(f"服务代码 {code} 重复")
        major, minor = row["大类"], row["小类"]
        if not major or not minor:
            raise row.error(f"{code} 的大类和小类都不能为空（每个细项属于一个小类，每个小类属于一个大类）")
        first = minors.setdefault(minor, (major, row.line))
        if first[0] != major:
            raise row.error(
                f"小类 {minor} 在第 {first[1]} 行属于大类 {first[0]}，这里又写作属于 {major}；一个小类只属于一个大类"
            )
        keywords = tuple(word for word in row["关键词"].replace("，", " ").replace(",", " ").split() if word)
        services[code] = Service(code, row["服务名称"], major, minor, row["说明"], keywords)
        lines[code] = row.line
    return services, lines


def _service_rows(path: Path) -> list[Row]:
    try:
        return read_table(path, SERVICE_COLUMNS)
    except RulesFileError as error:
        # A copy made before the catalogue had three levels has one column 分组 instead of 大类 and 小类.
        if "缺少列" in str(error) and "分组" in _header(path):
            raise RulesFileError(f"{error}（原来的“分组”一列已分为“大类”“小类”两列，见 rules/README.md）") from None
        raise


def _header(path: Path) -> list[str]:
    """The column names of a CSV rule file (its first line that is not a comment)."""
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return [name.strip() for name in next(csv.reader([line]))]
    return []


def load_routing(
    path: Path,
    departments: dict[str, Department],
    services: dict[str, Service],
    districts: dict[str, District],
    service_lines: dict[str, int] | None = None,
) -> RoutingTable:
    """The routing rules; every 细项 of the catalogue needs a city-wide rule (DISPATCH: the dispatch
    centre decides), so that a 细项 added without one is caught here, not by a case left waiting."""
    rules = []
    seen = set()
    for row in read_table(path, ["服务代码", "区县", "承办单位代码"]):
        service, district, department = row["服务代码"], row["区县"], row["承办单位代码"]
        if service not in services:
            raise row.error(f"未知服务代码 {service}")
        if district and district not in districts:
            raise row.error(f"未知区县 {district}（区县须列在 districts.csv 中）")
        if department not in departments and department != DISPATCH_CENTRE:
            raise row.error(
                f"未知承办单位代码 {department}（须列在 departments.csv 中，或写 {DISPATCH_CENTRE} 由派单中心人工派单）"
            )
        if (service, district) in seen:
            raise row.error(f"{service} {district or '全市'} 的规则重复")
        seen.add((service, district))
        rules.append(RoutingRule(service_code=service, department=department, district=district))
    for code, service in services.items():
        if (code, "") not in seen:
            where = f"（services.csv 第 {service_lines[code]} 行）" if service_lines and code in service_lines else ""
            raise RulesFileError(
                f"{path.name}：细项 {code} {service.name}{where}没有全市派单规则；"
                f"请加一行 {code},,承办单位代码（写 {DISPATCH_CENTRE} 表示由派单中心人工派单）"
            )
    return RoutingTable(rules)


# The signing limit's columns. A table written before the signing limit had a unit of its own has
# one column of hours instead (签收时限(小时)): still read, as hours.
SIGN_COLUMNS = ["签收时限", "签收时限单位", "签收计时"]
SIGN_COLUMNS_IN_HOURS = ["签收时限(小时)", "签收计时"]


def load_time_limits(path: Path) -> TimeLimitTable:
    rest = [
        "办理时限",
        "办理时限单位",
        "办理计时",
        "最长延期(工作日)",
        "累计延期上限(工作日)",
        "依据",
    ]
    rows = read_table(path, ["诉求类别", "紧急程度", *rest])
    in_hours = bool(rows) and "签收时限(小时)" in rows[0].values and "签收时限" not in rows[0].values
    rows = read_table(path, ["诉求类别", "紧急程度", *(SIGN_COLUMNS_IN_HOURS if in_hours else SIGN_COLUMNS), *rest])
    limits = []
    for row in rows:
        try:
            category = code_for(CATEGORIES, row["诉求类别"])
            urgency = code_for(URGENCIES, row["紧急程度"])
            if category is None or urgency is None:
                raise DomainError(f"未知诉求类别或紧急程度：{row['诉求类别']}/{row['紧急程度']}")
            sign = ("签收时限(小时)", "小时") if in_hours else ("签收时限", row["签收时限单位"])
            limits.append(
                TimeLimit(
                    category=category,
                    urgency=urgency,
                    sign_amount=_number(row[sign[0]]),
                    sign_unit=UNIT_WORDS.get(sign[1], sign[1]),
                    sign_clock=CLOCK_WORDS.get(row["签收计时"], row["签收计时"]),
                    reply_amount=_number(row["办理时限"]),
                    reply_unit=UNIT_WORDS.get(row["办理时限单位"], row["办理时限单位"]),
                    reply_clock=CLOCK_WORDS.get(row["办理计时"], row["办理计时"]),
                    max_extension_days=int(row["最长延期(工作日)"]),
                    max_extension_total=int(row["累计延期上限(工作日)"]),
                    basis=row["依据"],
                )
            )
        except (ValueError, DomainError) as error:
            raise row.error(str(error)) from None
    try:
        return TimeLimitTable(limits)
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def load_follow_up(path: Path) -> FollowUpRules:
    values: dict[str, int] = {}
    for row in read_table(path, ["期限代码", "期限名称", "工作日数"]):
        name = FOLLOW_UP_FIELDS.get(row["期限代码"])
        if name is None:
            raise row.error(f"未知期限代码 {row['期限代码']}，应为 {'、'.join(FOLLOW_UP_FIELDS)} 之一")
        try:
            days = int(row["工作日数"])
        except ValueError:
            raise row.error("工作日数必须是整数") from None
        if not 0 <= days <= 60:
            raise row.error("工作日数必须在 0 到 60 之间")
        values[name] = days
    missing = [code for code, name in FOLLOW_UP_FIELDS.items() if name not in values]
    if missing:
        raise RulesFileError(f"{path.name} 缺少期限：{'、'.join(missing)}")
    return FollowUpRules(**values)


def load_metrics(path: Path, ranking_path: Path) -> MetricRules:
    rates = []
    for row in read_table(path, ["指标", "权重", "分子", "分母", "说明"]):
        if row["指标"] not in RATES:
            raise row.error(f"未知指标 {row['指标']}，应为{'、'.join(RATES)}")
        try:
            weight = float(row["权重"])
        except ValueError:
            raise row.error("权重必须是数字") from None
        try:
            rates.append(RateRule(row["指标"], RATES[row["指标"]], weight, row["分子"], row["分母"], row["说明"]))
        except DomainError as error:
            raise row.error(str(error)) from None
    ranking = _toml(ranking_path)
    min_cases = ranking.get("min_cases")
    if isinstance(min_cases, bool) or not isinstance(min_cases, int):
        raise RulesFileError(f"{ranking_path.name} 第 {_line_of(ranking_path, 'min_cases')} 行：min_cases 必须是整数")
    try:
        return MetricRules(tuple(rates), min_cases)
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def load_open311(attributes_path: Path, categories_path: Path, services: dict[str, Service]) -> Open311Catalogue:
    return Open311Catalogue(
        attributes=load_attributes(attributes_path, services),
        categories=load_categories(categories_path, services),
    )


def load_attributes(path: Path, services: dict[str, Service]) -> dict[str, tuple[Attribute, ...]]:
    columns = ["服务代码", "字段代码", "顺序", "数据类型", "必填", "说明", "数据类型说明", "选项"]
    found: dict[str, list[Attribute]] = {}
    for row in read_table(path, columns):
        service = row["服务代码"]
        if service not in services:
            raise row.error(f"未知服务代码 {service}")
        if not _ATTRIBUTE_CODE.match(row["字段代码"]) or row["字段代码"] == "category":
            raise row.error("字段代码只能用字母、数字、下划线，且不能是 category")
        if row["数据类型"] not in DATATYPES:
            raise row.error(f"数据类型必须是 {'、'.join(DATATYPES)} 之一")
        if row["必填"] not in YES:
            raise row.error("必填一栏写“是”或“否”")
        try:
            order = int(row["顺序"])
        except ValueError:
            order = 0
        if order < 1:
            raise row.error("顺序必须是正整数")
        values = []
        for option in filter(None, (part.strip() for part in row["选项"].split("|"))):
            key, _, name = option.partition(":")
            if not key.strip() or not name.strip():
                raise row.error("选项要写成“键:名称”，以 | 分隔")
            values.append((key.strip(), name.strip()))
        if (row["数据类型"] in LIST_TYPES) != bool(values):
            raise row.error("单选、多选要写选项，其他数据类型不写选项")
        attributes = found.setdefault(service, [])
        if any(a.code == row["字段代码"] or a.order == order for a in attributes):
            raise row.error(f"{service} 的字段代码或顺序重复")
        attributes.append(
            Attribute(
                code=row["字段代码"],
                order=order,
                datatype=row["数据类型"],
                required=YES[row["必填"]],
                description=row["说明"] or row["字段代码"],
                datatype_description=row["数据类型说明"],
                values=tuple(values),
            )
        )
    return {code: tuple(sorted(attrs, key=lambda a: a.order)) for code, attrs in found.items()}


def load_categories(path: Path, services: dict[str, Service]) -> dict[str, str]:
    categories: dict[str, str] = {}
    for row in read_table(path, ["服务代码", "诉求类别"]):
        category = code_for(CATEGORIES, row["诉求类别"])
        code = row["服务代码"]
        if (code not in services and code != EVERY_OTHER_SERVICE) or category is None:
            raise row.error("未知服务代码或诉求类别")
        if code in categories:
            raise row.error(f"服务代码 {code} 重复")
        categories[code] = category
    if EVERY_OTHER_SERVICE not in categories:
        raise RulesFileError(f"{path.name} 缺少服务代码为 * 的一行：其他服务的诉求归入哪一类")
    return categories


def load_calendar(path: Path) -> WorkingDayCalendar:
    """The package's official data, with the city's file laid over it (the file wins)."""
    holidays = {day: _holiday_name(name) for day, name in calendar_constants.holidays.items()}
    workdays = {day: _holiday_name(name) for day, name in calendar_constants.workdays.items()}
    known_years = {day.year for day in holidays}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesFileError(f"找不到规则文件 {path}（可用 hotline rules init 复制一份默认规则）") from None
    except tomllib.TOMLDecodeError as error:
        raise RulesFileError(f"{path.name} 格式错误：{error}") from None
    for entry in data.get("years", []):
        year = entry.get("year")
        if not isinstance(year, int):
            raise RulesFileError(f"{path.name}：每个 [[years]] 都要写 year = 年份")
        for holiday in entry.get("holidays", []):
            start, end = holiday.get("from"), holiday.get("to", holiday.get("from"))
            if not isinstance(start, date) or not isinstance(end, date) or end < start:
                raise RulesFileError(f"{path.name}：{year} 年的假期 from/to 必须是日期，且 to 不早于 from")
            day = start
            while day <= end:
                holidays[day] = holiday.get("name", "节假日")
                workdays.pop(day, None)
                day += timedelta(days=1)
        for day in entry.get("makeup_workdays", []):
            if not isinstance(day, date):
                raise RulesFileError(f"{path.name}：{year} 年的调休工作日必须是日期")
            workdays[day] = "调休"
            holidays.pop(day, None)
        known_years.add(year)
    # A year with no published arrangement: the statutory holidays, no make-up days, provisional.
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        if year not in known_years:
            for day, name in statutory_holidays(year).items():
                holidays.setdefault(day, f"{name}（法定，暂定）")
    try:
        return WorkingDayCalendar(holidays, workdays, known_years)
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def _words(cell: str) -> list[str]:
    return [word for word in cell.replace("，", " ").replace(",", " ").split() if word]


def load_terms(stop_words_path: Path, synonyms_path: Path) -> Terms:
    stop_words: set[str] = set()
    for row in read_table(stop_words_path, ["停用词"]):
        word = row["停用词"]
        if not word:
            raise row.error("停用词不能为空")
        stop_words.add(word)
    synonyms: dict[str, str] = {}
    for row in read_table(synonyms_path, ["标准词", "同义词"]):
        standard, variants = row["标准词"], row["同义词"].replace("，", " ").replace(",", " ").split()
        if not standard or not variants:
            raise row.error("标准词和同义词都不能为空")
        for variant in variants:
            if variant in synonyms and synonyms[variant] != standard:
                raise row.error(f"同义词“{variant}”已属于标准词“{synonyms[variant]}”")
            if variant != standard:
                synonyms[variant] = standard
    try:
        return Terms(frozenset(stop_words), synonyms)
    except DomainError as error:
        raise RulesFileError(f"{synonyms_path.name}：{error}") from None


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesFileError(f"找不到规则文件 {path}（可用 hotline rules init 复制一份默认规则）") from None
    except tomllib.TOMLDecodeError as error:
        raise RulesFileError(f"{path.name} 格式错误：{error}") from None


def _line_of(path: Path, needle: str, occurrence: int = 0) -> int:
    """The physical line of the ``occurrence``-th line containing ``needle`` (for TOML errors)."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    return found[occurrence] if occurrence < len(found) else 1


def _number_in(table: dict, key: str, path: Path, section: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        line = _line_of(path, key) if key in path.read_text(encoding="utf-8") else _line_of(path, f"[{section}]")
        raise RulesFileError(f"{path.name} 第 {line} 行：[{section}] 的 {key} 必须是数字")
    return float(value)


def load_emergency(list_path: Path, limits_path: Path, services: dict[str, Service]) -> EmergencyRules:
    data = _toml(limits_path)
    desks = data.get("desks")
    if not isinstance(desks, dict) or not desks or not all(isinstance(v, str) and v for v in desks.values()):
        raise RulesFileError(
            f"{limits_path.name} 第 {_line_of(limits_path, '[desks]')} 行："
            '[desks] 须列出应急联动席位，如 "110" = "公安报警服务台"'
        )
    handoff, interim = data.get("handoff", {}), data.get("interim_feedback", {})
    if not isinstance(handoff, dict) or not isinstance(interim, dict):
        raise RulesFileError(f"{limits_path.name}：须有 [handoff] 和 [interim_feedback] 两节")
    listed: dict[str, EmergencyService] = {}
    for row in read_table(list_path, ["服务代码", "转接", "说明"]):
        code = row["服务代码"]
        if code not in services:
            raise row.error(f"未知服务代码 {code}（服务代码须列在 services.csv 中）")
        if code in listed:
            raise row.error(f"服务代码 {code} 重复")
        chosen = tuple(_words(row["转接"]))
        unknown = [desk for desk in chosen if desk not in desks]
        if not chosen or unknown:
            raise row.error(f"转接对象 {'、'.join(unknown) or '（空）'} 无效，应为 {'、'.join(desks)} 中的一个或几个")
        listed[code] = EmergencyService(code, chosen, row["说明"])
    try:
        return EmergencyRules(
            desks={str(code): name for code, name in desks.items()},
            services=listed,
            handoff_minutes=_number_in(handoff, "within_minutes", limits_path, "handoff"),
            interim_hours=_number_in(interim, "within_hours", limits_path, "interim_feedback"),
            handoff_basis=str(handoff.get("basis", "")),
            interim_basis=str(interim.get("basis", "")),
        )
    except DomainError as error:
        raise RulesFileError(f"{limits_path.name}：{error}") from None


def load_handling(path: Path) -> HandlingRules:
    data = _toml(path)
    returns, extension = data.get("return"), data.get("extension")
    if not isinstance(returns, dict) or not isinstance(extension, dict):
        raise RulesFileError(f"{path.name}：须有 [return] 和 [extension] 两节")
    days = returns.get("within_working_days")
    if isinstance(days, bool) or not isinstance(days, int):
        raise RulesFileError(f"{path.name} 第 {_line_of(path, 'within_working_days')} 行：退单时限必须是整数个工作日")
    restart = returns.get("restart_deadlines")
    if not isinstance(restart, bool):
        raise RulesFileError(f"{path.name} 第 {_line_of(path, '[return]')} 行：restart_deadlines 须为 true 或 false")
    callback = data.get("callback")
    if not isinstance(callback, dict):
        raise RulesFileError(f"{path.name}：须有 [callback] 一节（回访次数、天数和重启期限）")
    numbers = {}
    for key in ("attempts", "distinct_days", "reopen_within_days"):
        value = callback.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            line = _line_of(path, key) if key in path.read_text(encoding="utf-8") else _line_of(path, "[callback]")
            raise RulesFileError(f"{path.name} 第 {line} 行：[callback] 的 {key} 必须是整数")
        numbers[key] = value
    dispatch = data.get("dispatch")
    if not isinstance(dispatch, dict):
        raise RulesFileError(f"{path.name}：须有 [dispatch] 一节（派单时限）")
    hours = _number_in(dispatch, "within_hours", path, "dispatch")
    day = []
    for key in ("day_starts", "day_ends"):
        match = re.match(r"^(\d{1,2}):(\d{2})$", str(dispatch.get(key, "")))
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise RulesFileError(f'{path.name} 第 {_line_of(path, "[dispatch]")} 行：{key} 须写成 "08:30" 这样的时刻')
        day.append(time(int(match[1]), int(match[2])))
    approvers = extension.get("approvers")
    if not isinstance(approvers, list) or not all(isinstance(role, str) for role in approvers):
        raise RulesFileError(
            f'{path.name} 第 {_line_of(path, "[extension]")} 行：approvers 须列出角色，如 ["supervisor"]'
        )
    try:
        return HandlingRules(
            return_days=days,
            restart_deadlines=restart,
            return_basis=str(returns.get("basis", "")),
            extension_approvers=tuple(approvers),
            extension_basis=str(extension.get("basis", "")),
            callback=CallbackRules(
                attempts=numbers["attempts"],
                distinct_days=numbers["distinct_days"],
                reopen_days=numbers["reopen_within_days"],
                basis=str(callback.get("basis", "")),
            ),
            dispatch=DispatchRules(hours, day[0], day[1], str(dispatch.get("basis", ""))),
        )
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def load_privacy(path: Path, services: dict[str, Service]) -> PrivacyRules:
    """rules/privacy.toml: what the public sees, who is confidential by default, how long data is kept."""
    data = _toml(path)
    sections = {name: data.get(name) for name in ("public", "confidential", "retention")}
    for name, section in sections.items():
        if not isinstance(section, dict):
            raise RulesFileError(f"{path.name}：须有 [{name}] 一节")
    public, confidential, retention = sections["public"], sections["confidential"], sections["retention"]

    def codes(table: dict, key: str, section: str, known: dict, what: str) -> frozenset[str]:
        value = table.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RulesFileError(
                f'{path.name} 第 {_line_of(path, key)} 行：[{section}] 的 {key} 须是代码列表，如 ["consult"]'
            )
        unknown = [v for v in value if v not in known]
        if unknown:
            raise RulesFileError(
                f"{path.name} 第 {_line_of(path, key)} 行：未知{what} {'、'.join(unknown)}（可选：{'、'.join(known)}）"
            )
        return frozenset(value)

    try:
        return PrivacyRules(
            public_categories=codes(public, "categories", "public", CATEGORIES, "诉求类别"),
            withheld_services=codes(public, "withheld_services", "public", services, "服务代码"),
            address_level=str(public.get("address", "")),
            coordinate_decimals=int(_number_in(public, "coordinate_decimals", path, "public")),
            confidential_categories=codes(confidential, "categories", "confidential", CATEGORIES, "诉求类别"),
            retention_years=int(_number_in(retention, "years_after_closing", path, "retention")),
        )
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def load_migration(path: Path) -> MigrationRules:
    statuses: dict[str, bool] = {}
    for row in read_table(path, ["原系统状态", "是否办结", "说明"]):
        status, finished = row["原系统状态"], row["是否办结"]
        if not status:
            raise row.error("原系统状态不能为空")
        if status in statuses:
            raise row.error(f"原系统状态 {status} 重复")
        if finished not in ("是", "否"):
            raise row.error(f"是否办结只能是 是 或 否，不是 {finished!r}")
        statuses[status] = finished == "是"
    try:
        return MigrationRules(statuses)
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def load_time_plausibility(path: Path) -> TimePlausibility:
    data = _toml(path)
    section = data.get("reported_time")
    if not isinstance(section, dict):
        raise RulesFileError(f"{path.name}：须有 [reported_time] 一节")
    migration = data.get("migration")
    if not isinstance(migration, dict):
        raise RulesFileError(f"{path.name}：须有 [migration] 一节（迁移数据的回溯期限）")
    try:
        return TimePlausibility(
            future_skew=timedelta(minutes=_number_in(section, "future_skew_minutes", path, "reported_time")),
            window=timedelta(hours=_number_in(section, "window_hours", path, "reported_time")),
            migration_window=timedelta(days=_number_in(migration, "oldest_days", path, "migration")),
            basis=str(section.get("basis", "")),
            migration_basis=str(migration.get("basis", "")),
        )
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def load_contacts(path: Path, departments: dict[str, Department]) -> dict[str, Contact]:
    columns = ["单位代码", "联络人", "联络人手机", "联络人邮箱", "负责人", "负责人手机", "负责人邮箱"]
    contacts: dict[str, Contact] = {}
    for row in read_table(path, columns):
        code = row["单位代码"]
        if code not in departments:
            raise row.error(f"未知单位代码 {code}（单位须列在 departments.csv 中）")
        if code in contacts:
            raise row.error(f"单位代码 {code} 重复")
        for column in ("联络人手机", "负责人手机"):
            if row[column] and not PHONE.match(row[column]):
                raise row.error(f"{column}格式不正确")
        for column in ("联络人邮箱", "负责人邮箱"):
            if row[column] and not _EMAIL.match(row[column]):
                raise row.error(f"{column}格式不正确")
        contacts[code] = Contact(code, *(row[column] for column in columns[1:]))
    return contacts


def _quiet_hours(text: object, path: Path) -> QuietHours:
    if text in ("", None):
        return QuietHours()
    match = _CLOCK_RANGE.match(str(text))
    hours = [int(part) for part in match.groups()] if match else []
    if not match or hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise RulesFileError(
            f'{path.name} 第 {_line_of(path, "quiet_hours")} 行：quiet_hours 应写成 "22:00-08:00"，或留空'
        )
    return QuietHours(time(hours[0], hours[1]), time(hours[2], hours[3]))


def load_notifications(path: Path, contacts: dict[str, Contact]) -> NotificationRules:
    data = _toml(path)
    settings = data.get("settings")
    if not isinstance(settings, dict):
        raise RulesFileError(f"{path.name}：缺少 [settings] 一节")
    numbers = {
        key: _number_in(settings, key, path, "settings")
        for key in (
            "sign_reminder_hours",
            "yellow_card_hours",
            "red_card_hours",
            "max_attempts",
            "first_retry_seconds",
            "sending_timeout_seconds",
            "expire_hours",
        )
    }
    try:
        parsed = NotificationSettings(
            sign_reminder_hours=numbers["sign_reminder_hours"],
            yellow_card_hours=numbers["yellow_card_hours"],
            red_card_hours=numbers["red_card_hours"],
            quiet_hours=_quiet_hours(settings.get("quiet_hours", ""), path),
            max_attempts=int(numbers["max_attempts"]),
            first_retry_seconds=numbers["first_retry_seconds"],
            sending_timeout_seconds=numbers["sending_timeout_seconds"],
            expire_hours=numbers["expire_hours"],
        )
    except DomainError as error:
        raise RulesFileError(f"{path.name} 第 {_line_of(path, '[settings]')} 行：{error}") from None
    templates: dict[str, Template] = {}
    for number, entry in enumerate(data.get("template", [])):
        line = _line_of(path, "[[template]]", number)
        if not isinstance(entry, dict):
            raise RulesFileError(f"{path.name} 第 {line} 行：[[template]] 格式不正确")
        try:
            template = Template(
                code=str(entry.get("code", "")),
                name=str(entry.get("name", "")),
                recipient=str(entry.get("recipient", "")),
                channels=tuple(str(c) for c in entry.get("channels", [])),
                subject=str(entry.get("subject", "")),
                body=str(entry.get("body", "")),
            )
        except (DomainError, ValueError) as error:
            raise RulesFileError(f"{path.name} 第 {line} 行起的模板：{error}") from None
        if template.code in templates:
            raise RulesFileError(f"{path.name} 第 {line} 行起的模板：模板代码 {template.code} 重复")
        templates[template.code] = template
    return NotificationRules(settings=parsed, templates=templates, contacts=contacts, sms_reply=_sms_reply(data, path))


def _sms_reply(data: dict, path: Path) -> SmsReplyRules:
    section = data.get("sms_reply")
    if not isinstance(section, dict):
        raise RulesFileError(f"{path.name}：缺少 [sms_reply] 一节（来电人回复满意度短信的规则）")
    line = _line_of(path, "[sms_reply.answers]")
    answers = section.get("answers")
    if not isinstance(answers, dict):
        raise RulesFileError(f"{path.name}：缺少 [sms_reply.answers] 一节（回复内容对应的满意度）")
    codes = {name: code for code, name in SATISFACTION.items()}
    parsed: dict[str, str] = {}
    for reply, name in answers.items():
        if name not in codes:
            raise RulesFileError(
                f"{path.name} 第 {line} 行起：回复“{reply}”对应的“{name}”不是满意度（应为 {'、'.join(codes)}）"
            )
        words = reply_words(str(reply))
        if not words or words in parsed:
            raise RulesFileError(f"{path.name} 第 {line} 行起：回复“{reply}”为空或与另一行相同")
        parsed[words] = codes[name]
    try:
        return SmsReplyRules(
            answers=parsed,
            window_hours=_number_in(section, "window_hours", path, "sms_reply"),
            signature_tolerance_seconds=_number_in(section, "signature_tolerance_seconds", path, "sms_reply"),
        )
    except DomainError as error:
        raise RulesFileError(f"{path.name} 第 {_line_of(path, '[sms_reply]')} 行：{error}") from None


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(name: object) -> str:
    text = str(name)
    return _HOLIDAY_NAMES.get(text, text)


# ---- the data analysis (analysis.toml) -----------------------------------------------------------


def load_analysis(path: Path) -> AnalysisRules:
    data = _toml(path)
    sections = {}
    for section in ("daily_report", "hotspots", "telephony"):
        table = data.get(section)
        if not isinstance(table, dict):
            raise RulesFileError(f"{path.name}：须有 [{section}] 一节")
        sections[section] = table
    daily = sections["daily_report"]
    try:
        at = datetime.strptime(str(daily.get("at", "")), "%H:%M").time()
    except ValueError:
        raise RulesFileError(
            f"{path.name} 第 {_line_of(path, 'at =')} 行：[daily_report] 的 at 须写成 07:30 这样的时刻"
        ) from None
    recipients = []
    for number, entry in enumerate(daily.get("recipients", [])):
        if not isinstance(entry, dict) or "@" not in str(entry.get("email", "")) or not entry.get("name"):
            line = _line_of(path, "[[daily_report.recipients]]", number)
            raise RulesFileError(f"{path.name} 第 {line} 行：每位收件人须有 name 和有效的 email")
        recipients.append(Recipient(str(entry["name"]), str(entry["email"])))

    def numbers(section: str, names: tuple[str, ...]) -> dict[str, float]:
        return {name: _number_in(sections[section], name, path, section) for name in names}

    try:
        hotspot = numbers(
            "hotspots",
            (
                "baseline_days",
                "min_count",
                "min_ratio",
                "min_z",
                "cluster_days",
                "cluster_radius_m",
                "cluster_similarity",
                "cluster_min_callers",
            ),
        )
        phone = numbers("telephony", ("callback_within_minutes", "answer_within_seconds", "target_answer_rate"))
        return AnalysisRules(
            daily_report=DailyReport(at, tuple(recipients), str(daily.get("basis", ""))),
            hotspots=HotspotRules(
                baseline_days=int(hotspot["baseline_days"]),
                min_count=int(hotspot["min_count"]),
                min_ratio=hotspot["min_ratio"],
                min_z=hotspot["min_z"],
                cluster_days=int(hotspot["cluster_days"]),
                cluster_radius_m=hotspot["cluster_radius_m"],
                cluster_similarity=hotspot["cluster_similarity"],
                cluster_min_callers=int(hotspot["cluster_min_callers"]),
                basis=str(sections["hotspots"].get("basis", "")),
            ),
            telephony=TelephonyRules(**phone, basis=str(sections["telephony"].get("basis", ""))),
        )
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


# ---- all of them ---------------------------------------------------------------------------------

RULE_FILES = (
    "calendar.toml",
    "departments.csv",
    "districts.csv",
    "services.csv",
    "routing.csv",
    "time_limits.csv",
    "follow_up.csv",
    "metrics.csv",
    "service_attributes.csv",
    "open311_categories.csv",
    "stop_words.csv",
    "synonyms.csv",
    "emergency.csv",
    "emergency.toml",
    "contacts.csv",
    "notifications.toml",
    "handling.toml",
    "ranking.toml",
    "analysis.toml",
    "privacy.toml",
    "time_plausibility.toml",
    "migration.csv",
)


def load_rules(directory: Path) -> Rules:
    if not directory.is_dir():
        raise RulesFileError(
            f"规则目录 {directory} 不存在（HOTLINE_RULES_DIR；可用 hotline rules init {directory} 创建）"
        )
    departments = load_departments(directory / "departments.csv")
    districts = load_districts(directory / "districts.csv")
    services, service_lines = _read_services(directory / "services.csv")
    return Rules(
        calendar=load_calendar(directory / "calendar.toml"),
        time_limits=load_time_limits(directory / "time_limits.csv"),
        routing=load_routing(directory / "routing.csv", departments, services, districts, service_lines),
        departments=departments,
        services=services,
        districts=districts,
        follow_up=load_follow_up(directory / "follow_up.csv"),
        metrics=load_metrics(directory / "metrics.csv", directory / "ranking.toml"),
        open311=load_open311(directory / "service_attributes.csv", directory / "open311_categories.csv", services),
        terms=load_terms(directory / "stop_words.csv", directory / "synonyms.csv"),
        emergency=load_emergency(directory / "emergency.csv", directory / "emergency.toml", services),
        notifications=load_notifications(
            directory / "notifications.toml", load_contacts(directory / "contacts.csv", departments)
        ),
        handling=load_handling(directory / "handling.toml"),
        analysis=load_analysis(directory / "analysis.toml"),
        privacy=load_privacy(directory / "privacy.toml", services),
        plausibility=load_time_plausibility(directory / "time_plausibility.toml"),
        migration=load_migration(directory / "migration.csv"),
    )


__all__ = ["DEFAULT_RULES_DIR", "RULE_FILES", "RulesFileError", "load_calendar", "load_rules", "read_table"]
