"""What Open311 adds to the routing catalogue, as data the city edits:
``rules/service_attributes.csv`` (the service definitions' extra fields) and
``rules/open311_categories.csv`` (which category a request of each service is filed under)."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from domain.catalogue import CATEGORIES, code_for
from domain.rules import Rules
from infra.rules_files import RulesFileError
from web.open311.errors import bad_request

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
TEXT_LIMITS = {"string": 200, "text": 1000}
DEFAULT_CATEGORY = "complaint"
YES = {"是": True, "否": False, "true": True, "false": False}
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


@dataclass(frozen=True)
class Attribute:
    code: str
    order: int
    datatype: str
    required: bool
    description: str
    datatype_description: str
    values: tuple[tuple[str, str], ...]

    def as_spec(self) -> dict[str, object]:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": self.order,
            "description": self.description,
            "values": [{"key": key, "name": name} for key, name in self.values],
        }

    def check(self, values: list[str]) -> str:
        """The submitted value(s) as text for the case, or a 400 naming the field."""
        label = f"attribute[{self.code}]（{self.description}）"
        values = [value.strip() for value in values if value.strip()]
        if not values:
            if self.required:
                raise bad_request(f"{label}为必填项")
            return ""
        if len(values) > 1 and self.datatype != "multivaluelist":
            raise bad_request(f"{label}只能填一个值")
        names = dict(self.values)
        if self.datatype in LIST_TYPES:
            unknown = [value for value in values if value not in names]
            if unknown:
                raise bad_request(f"{label}的取值 {unknown[0][:50]} 不在可选项中：{'、'.join(names)}")
            return "、".join(names[value] for value in dict.fromkeys(values))
        value = values[0]
        if self.datatype == "number":
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise bad_request(f"{label}必须是数字")
            return value
        if self.datatype == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise bad_request(f"{label}必须是 W3C 日期时间，如 2025-10-09T08:00:00+08:00") from None
            return value
        limit = TEXT_LIMITS[self.datatype]
        if len(value) > limit:
            raise bad_request(f"{label}不能超过 {limit} 个字")
        return value


@dataclass(frozen=True)
class Open311Catalogue:
    attributes: dict[str, tuple[Attribute, ...]]
    categories: dict[str, str]

    def has_metadata(self, service_code: str) -> bool:
        return bool(self.attributes.get(service_code))

    def category_for(self, service_code: str, requested: str = "") -> str:
        if requested.strip():
            category = code_for(CATEGORIES, requested)
            if category is None:
                raise bad_request(f"attribute[category] 必须是 {'、'.join(CATEGORIES)} 之一（或其中文名称）")
            return category
        return self.categories.get(service_code, DEFAULT_CATEGORY)


def _rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesFileError(f"找不到规则文件 {path}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1)]
    kept = [(n, line) for n, line in numbered if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(line for _, line in kept)
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        raise RulesFileError(f"{path.name} 缺少列：{'、'.join(missing)}")
    rows = []
    for (number, _), row in zip(kept[1:], reader, strict=False):
        rows.append((number, {k: (v or "").strip() for k, v in row.items() if k}))
    return rows


def load_attributes(path: Path, rules: Rules) -> dict[str, tuple[Attribute, ...]]:
    columns = ["服务代码", "字段代码", "顺序", "数据类型", "必填", "说明", "数据类型说明", "选项"]
    found: dict[str, list[Attribute]] = {}
    for line, row in _rows(path, columns):
        where = f"{path.name} 第 {line} 行"
        service = row["服务代码"]
        if service not in rules.services:
            raise RulesFileError(f"{where}：未知服务代码 {service}")
        if not _CODE.match(row["字段代码"]) or row["字段代码"] == "category":
            raise RulesFileError(f"{where}：字段代码只能用字母、数字、下划线，且不能是 category")
        if row["数据类型"] not in DATATYPES:
            raise RulesFileError(f"{where}：数据类型必须是 {'、'.join(DATATYPES)} 之一")
        if row["必填"] not in YES:
            raise RulesFileError(f"{where}：必填一栏写“是”或“否”")
        try:
            order = int(row["顺序"])
        except ValueError:
            order = 0
        if order < 1:
            raise RulesFileError(f"{where}：顺序必须是正整数")
        values = []
        for option in filter(None, (part.strip() for part in row["选项"].split("|"))):
            key, _, name = option.partition(":")
            if not key.strip() or not name.strip():
                raise RulesFileError(f"{where}：选项要写成“键:名称”，以 | 分隔")
            values.append((key.strip(), name.strip()))
        if (row["数据类型"] in LIST_TYPES) != bool(values):
            raise RulesFileError(f"{where}：单选、多选要写选项，其他数据类型不写选项")
        attributes = found.setdefault(service, [])
        if any(a.code == row["字段代码"] or a.order == order for a in attributes):
            raise RulesFileError(f"{where}：{service} 的字段代码或顺序重复")
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


def load_categories(path: Path, rules: Rules) -> dict[str, str]:
    categories = {}
    for line, row in _rows(path, ["服务代码", "诉求类别"]):
        category = code_for(CATEGORIES, row["诉求类别"])
        if row["服务代码"] not in rules.services or category is None:
            raise RulesFileError(f"{path.name} 第 {line} 行：未知服务代码或诉求类别")
        categories[row["服务代码"]] = category
    return categories


def load_catalogue(rules_dir: Path, rules: Rules) -> Open311Catalogue:
    return Open311Catalogue(
        attributes=load_attributes(rules_dir / "service_attributes.csv", rules),
        categories=load_categories(rules_dir / "open311_categories.csv", rules),
    )
