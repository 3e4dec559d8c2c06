"""The emergency path (紧急通道), as data: rules/emergency.csv and rules/emergency.toml.

A call is an emergency when its urgency is 紧急 or its service is on the emergency list. A
service on the list must also be handed to an emergency desk (110 / 119 / 120 / 122) within the
hand-off limit of its intake; an urgent case routed to a department owes an interim feedback
(阶段性反馈) within the interim limit of its dispatch. docs/time-limits.md gives the sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.domain.errors import InvalidInput

URGENT = "urgent"

# What became of a hand-off: the first two mean the emergency desk has the matter.
HANDOFF_OUTCOMES = {
    "accepted": "对方已接警",
    "already_known": "对方已掌握警情",
    "not_reached": "未接通，需再次转接",
}
HANDED_OVER = ("accepted", "already_known")


@dataclass(frozen=True)
class EmergencyService:
    service_code: str
    desks: tuple[str, ...]  # the desks to hand it to, in order of preference
    note: str = ""


@dataclass(frozen=True)
class EmergencyRules:
    desks: dict[str, str]  # desk code (110 …) → what it is (公安报警 …)
    services: dict[str, EmergencyService]
    handoff_minutes: float  # hand-off within this many minutes of intake (natural clock)
    interim_hours: float  # urgent cases routed to a department: interim feedback within (natural clock)
    handoff_basis: str = ""
    interim_basis: str = ""

    def __post_init__(self) -> None:
        if self.handoff_minutes <= 0 or self.interim_hours <= 0:
            raise InvalidInput("转接时限和阶段性反馈时限必须为正数")
        for service in self.services.values():
            unknown = [desk for desk in service.desks if desk not in self.desks]
            if unknown or not service.desks:
                raise InvalidInput(f"{service.service_code} 的转接对象无效：{'、'.join(unknown) or '（空）'}")

    def needs_handoff(self, service_code: str) -> bool:
        return service_code in self.services

    def is_emergency(self, service_code: str, urgency: str) -> bool:
        return urgency == URGENT or self.needs_handoff(service_code)

    def handoff_due(self, opened_at: datetime) -> datetime:
        return opened_at + timedelta(minutes=self.handoff_minutes)

    def interim_due(self, dispatched_at: datetime) -> datetime:
        return dispatched_at + timedelta(hours=self.interim_hours)

    def desks_for(self, service_code: str) -> tuple[str, ...]:
        service = self.services.get(service_code)
        return service.desks if service else tuple(self.desks)

    def desk_name(self, code: str) -> str:
        name = self.desks.get(code)
        return f"{code} {name}" if name else code
