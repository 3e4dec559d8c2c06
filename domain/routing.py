"""Routing as data: service code (and district, where given) to the responsible department.

The rules live in ``rules/routing.csv``. The most specific rule wins: a rule for the service
in the caller's district beats the service's city-wide rule. No rule: the dispatch centre's
manual queue decides (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoutingRule:
    service_code: str
    department: str
    district: str = ""  # empty: the whole city


class RoutingTable:
    def __init__(self, rules: list[RoutingRule]):
        self._rules: dict[tuple[str, str], str] = {}
        for rule in rules:
            self._rules[(rule.service_code, rule.district)] = rule.department
        self.rules = list(rules)

    def route(self, service_code: str, district: str | None = None) -> str | None:
        if district:
            department = self._rules.get((service_code, district))
            if department:
                return department
        return self._rules.get((service_code, ""))
