"""Routing as data: service code (and district, where given) to the responsible department.

The rules live in ``rules/routing.csv``. The most specific rule wins: a rule for the service
in the caller's district beats the service's city-wide rule. A rule naming the dispatch centre
(``DISPATCH``: 派单中心人工派单), or no rule at all: the dispatch centre's manual queue decides
(``None``). The shipped catalogue gives every 细项 a rule, so that leaving one to a person is a
choice written down, not an omission.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.catalogue import DISPATCH_CENTRE


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
                return None if department == DISPATCH_CENTRE else department
        department = self._rules.get((service_code, ""))
        return None if department == DISPATCH_CENTRE else department

    def has_rule(self, service_code: str) -> bool:
        """Whether a rule names this service, city-wide (the dispatch centre counts as a rule)."""
        return (service_code, "") in self._rules
