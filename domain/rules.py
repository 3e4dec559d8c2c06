"""The rules a city edits as data (rules/), gathered in one value the application receives.

Every field comes from a file; there are no defaults here, so a missing file is a start-up error
rather than a silent fallback. rules/README.md maps each rule to its file, the code that applies
it and the scenario that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.analysis import AnalysisRules
from hotline.domain.catalogue import DISPATCH_CENTRE, Department, District, Service
from hotline.domain.emergency import EmergencyRules
from hotline.domain.follow_up import FollowUpRules
from hotline.domain.handling import HandlingRules
from hotline.domain.metrics import MetricRules
from hotline.domain.migration_rules import MigrationRules
from hotline.domain.notifications import NotificationRules
from hotline.domain.open311 import Open311Catalogue
from hotline.domain.privacy import PrivacyRules
from hotline.domain.routing import RoutingTable
from hotline.domain.terms import Terms
from hotline.domain.time_limits import TimeLimitTable
from hotline.domain.timing import TimePlausibility
from hotline.domain.workdays import WorkingDayCalendar


@dataclass(frozen=True)
class Rules:
    calendar: WorkingDayCalendar  # calendar.toml over the chinese-calendar data
    time_limits: TimeLimitTable  # time_limits.csv
    routing: RoutingTable  # routing.csv
    departments: dict[str, Department]  # departments.csv
    services: dict[str, Service]  # services.csv
    districts: dict[str, District]  # districts.csv
    follow_up: FollowUpRules  # follow_up.csv
    metrics: MetricRules  # metrics.csv
    open311: Open311Catalogue  # service_attributes.csv, open311_categories.csv
    terms: Terms  # stop_words.csv, synonyms.csv
    emergency: EmergencyRules  # emergency.csv, emergency.toml
    notifications: NotificationRules  # notifications.toml, contacts.csv
    handling: HandlingRules  # handling.toml: returns under review, who approves extensions
    analysis: AnalysisRules  # analysis.toml: the daily report, hotspots, the call centre
    privacy: PrivacyRules  # privacy.toml
    plausibility: TimePlausibility  # time_plausibility.toml
    migration: MigrationRules  # migration.csv: the previous system's status words

    def department_name(self, code: str | None) -> str:
        if not code:
            return ""
        if code == DISPATCH_CENTRE:
            return "派单中心"
        department = self.departments.get(code)
        return department.name if department else code

    def services_of(self, department: str) -> set[str]:
        """The services the routing rules send to ``department`` (city-wide or in a district)."""
        return {rule.service_code for rule in self.routing.rules if rule.department == department}

    def service_name(self, code: str) -> str:
        service = self.services.get(code)
        return service.name if service else code

    def service_path(self, code: str) -> str:
        """大类 › 小类 › 细项 of a service code; a code the catalogue does not list, as it is."""
        service = self.services.get(code)
        return service.path if service else code
