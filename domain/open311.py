"""What Open311 adds to the dispatch catalogue, as data the city edits: the extra fields of each
service's definition (rules/service_attributes.csv) and the category its requests are filed under
(rules/open311_categories.csv, whose row ``*`` gives the category of every other service).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from hotline.domain.catalogue import CATEGORIES, code_for
from hotline.domain.errors import InvalidInput

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
TEXT_LIMITS = {"string": 200, "text": 1000}
EVERY_OTHER_SERVICE = "*"


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
        """The submitted value(s) as text for the case; a bad value is refused naming the field."""
        label = f"attribute[{self.code}]（{self.description}）"
        values = [value.strip() for value in values if value.strip()]
        if not values:
            if self.required:
                raise InvalidInput(f"{label}为必填项")
            return ""
        if len(values) > 1 and self.datatype != "multivaluelist":
            raise InvalidInput(f"{label}只能填一个值")
        names = dict(self.values)
        if self.datatype in LIST_TYPES:
            unknown = [value for value in values if value not in names]
            if unknown:
                raise InvalidInput(f"{label}的取值 {unknown[0][:50]} 不在可选项中：{'、'.join(names)}")
            return "、".join(names[value] for value in dict.fromkeys(values))
        value = values[0]
        if self.datatype == "number":
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise InvalidInput(f"{label}必须是数字")
            return value
        if self.datatype == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidInput(f"{label}必须是 W3C 日期时间，如 2025-10-09T08:00:00+08:00") from None
            return value
        limit = TEXT_LIMITS[self.datatype]
        if len(value) > limit:
            raise InvalidInput(f"{label}不能超过 {limit} 个字")
        return value


@dataclass(frozen=True)
class Open311Catalogue:
    attributes: dict[str, tuple[Attribute, ...]]
    categories: dict[str, str]  # service code (or ``*``) → category code

    def has_metadata(self, service_code: str) -> bool:
        return bool(self.attributes.get(service_code))

    def category_for(self, service_code: str, requested: str = "") -> str:
        if requested.strip():
            category = code_for(CATEGORIES, requested)
            if category is None:
                raise InvalidInput(f"attribute[category] 必须是 {'、'.join(CATEGORIES)} 之一（或其中文名称）")
            return category
        return self.categories.get(service_code) or self.categories[EVERY_OTHER_SERVICE]
