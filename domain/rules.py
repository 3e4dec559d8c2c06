"""The rules a city edits as data, gathered in one value the application receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.catalogue import DISPATCH_CENTRE, Department, Service
from domain.follow_up import FollowUpRules
from domain.routing import RoutingTable
from domain.time_limits import TimeLimitTable
from domain.workdays import WorkingDayCalendar


@dataclass(frozen=True)
class Rules:
    calendar: WorkingDayCalendar
    time_limits: TimeLimitTable
    routing: RoutingTable
    departments: dict[str, Department]
    services: dict[str, Service]
    follow_up: FollowUpRules = field(default_factory=FollowUpRules)  # rules/follow_up.csv

    def department_name(self, code: str | None) -> str:
        if not code:
            return ""
        if code == DISPATCH_CENTRE:
            return "派单中心"
        department = self.departments.get(code)
        return department.name if department else code

    def service_name(self, code: str) -> str:
        service = self.services.get(code)
        return service.name if service else code
