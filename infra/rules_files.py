"""Reads the city's rule tables (``rules/``) into the domain's ``Rules``.

The files are meant to be opened and edited by a city official in a spreadsheet or text editor:
CSV with Chinese headings (UTF-8, with or without BOM) and one TOML file for the calendar.
A mistake in a file stops start-up with a message naming the file and line.
"""

from __future__ import annotations

import csv
import tomllib
from datetime import date, timedelta
from pathlib import Path

from chinese_calendar import constants as calendar_constants

from domain.catalogue import CATEGORIES, URGENCIES, Department, Service, code_for
from domain.errors import DomainError
from domain.routing import RoutingRule, RoutingTable
from domain.rules import Rules
from domain.time_limits import HOURS, WORKING_DAYS, TimeLimit, TimeLimitTable
from domain.workdays import NATURAL, WORKING, WorkingDayCalendar


class RulesFileError(Exception):
    pass


CLOCK_WORDS = {"工作时间": WORKING, "自然时间": NATURAL, WORKING: WORKING, NATURAL: NATURAL}
UNIT_WORDS = {"工作日": WORKING_DAYS, "小时": HOURS, WORKING_DAYS: WORKING_DAYS, HOURS: HOURS}


def _rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesFileError(f"找不到规则文件 {path}") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        raise RulesFileError(f"{path.name} 缺少列：{'、'.join(missing)}")
    return [(number, {k: (v or "").strip() for k, v in row.items() if k}) for number, row in enumerate(reader, 2)]


def load_departments(path: Path) -> dict[str, Department]:
    departments = {}
    for line, row in _rows(path, ["单位代码", "单位名称"]):
        code = row["单位代码"]
        if not code or not row["单位名称"]:
            raise RulesFileError(f"{path.name} 第 {line} 行：单位代码和单位名称都不能为空")
        if code in departments:
            raise RulesFileError(f"{path.name} 第 {line} 行：单位代码 {code} 重复")
        departments[code] = Department(code=code, name=row["单位名称"])
    return departments


def load_services(path: Path) -> dict[str, Service]:
    services = {}
    for line, row in _rows(path, ["服务代码", "服务名称", "分组", "说明", "关键词"]):
        code = row["服务代码"]
        if not code or not row["服务名称"]:
            raise RulesFileError(f"{path.name} 第 {line} 行：服务代码和服务名称都不能为空")
        if code in services:
            raise RulesFileError(f"{path.name} 第 {line} 行：服务代码 {code} 重复")
        keywords = tuple(word for word in row["关键词"].replace("，", " ").replace(",", " ").split() if word)
        services[code] = Service(code, row["服务名称"], row["分组"], row["说明"], keywords)
    return services


def load_routing(path: Path, departments: dict[str, Department], services: dict[str, Service]) -> RoutingTable:
    rules = []
    seen = set()
    for line, row in _rows(path, ["服务代码", "区县", "承办单位代码"]):
        service, district, department = row["服务代码"], row["区县"], row["承办单位代码"]
        if service not in services:
            raise RulesFileError(f"{path.name} 第 {line} 行：未知服务代码 {service}")
        if department not in departments:
            raise RulesFileError(f"{path.name} 第 {line} 行：未知承办单位代码 {department}")
        if (service, district) in seen:
            raise RulesFileError(f"{path.name} 第 {line} 行：{service} {district or '全市'} 的规则重复")
        seen.add((service, district))
        rules.append(RoutingRule(service_code=service, department=department, district=district))
    return RoutingTable(rules)


def load_time_limits(path: Path) -> TimeLimitTable:
    columns = ["诉求类别", "紧急程度", "签收时限(小时)", "签收计时", "办理时限", "办理时限单位", "办理计时", "最长延期(工作日)", "依据"]
    limits = []
    for line, row in _rows(path, columns):
        try:
            category = code_for(CATEGORIES, row["诉求类别"])
            urgency = code_for(URGENCIES, row["紧急程度"])
            if category is None or urgency is None:
                raise DomainError(f"未知诉求类别或紧急程度：{row['诉求类别']}/{row['紧急程度']}")
            limits.append(
                TimeLimit(
                    category=category,
                    urgency=urgency,
                    sign_hours=float(row["签收时限(小时)"]),
                    sign_clock=CLOCK_WORDS.get(row["签收计时"], row["签收计时"]),
                    reply_amount=_number(row["办理时限"]),
                    reply_unit=UNIT_WORDS.get(row["办理时限单位"], row["办理时限单位"]),
                    reply_clock=CLOCK_WORDS.get(row["办理计时"], row["办理计时"]),
                    max_extension_days=int(row["最长延期(工作日)"]),
                    basis=row["依据"],
                )
            )
        except (ValueError, DomainError) as error:
            raise RulesFileError(f"{path.name} 第 {line} 行：{error}") from None
    try:
        return TimeLimitTable(limits)
    except DomainError as error:
        raise RulesFileError(f"{path.name}：{error}") from None


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def load_calendar(path: Path | None) -> WorkingDayCalendar:
    """The package's official data, with the city's file laid over it (the file wins)."""
    holidays = {day: _holiday_name(name) for day, name in calendar_constants.holidays.items()}
    workdays = {day: _holiday_name(name) for day, name in calendar_constants.workdays.items()}
    known_years = {day.year for day in holidays}
    if path is not None and path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
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
    return WorkingDayCalendar(holidays, workdays, known_years)


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


def load_rules(directory: Path) -> Rules:
    from infra.rules_followup import load_follow_up  # the supervision rules' own loader

    departments = load_departments(directory / "departments.csv")
    services = load_services(directory / "services.csv")
    return Rules(
        calendar=load_calendar(directory / "calendar.toml"),
        time_limits=load_time_limits(directory / "time_limits.csv"),
        routing=load_routing(directory / "routing.csv", departments, services),
        departments=departments,
        services=services,
        follow_up=load_follow_up(directory / "follow_up.csv"),
    )


__all__ = ["RulesFileError", "load_calendar", "load_rules"]
