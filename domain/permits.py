"""Who may run which command in which state: one table per aggregate, asked by commands and pages.

A command calls ``_permit(name, actor)`` before anything else; a page asks ``may(name, actor)``
to decide which buttons to offer. Both read the same table, so a page never offers a button
whose command the domain would refuse for the actor or the state (what the user types into the
form is still checked by the command itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from hotline.domain.actors import DEPARTMENT, Actor, role_refusal
from hotline.domain.errors import DomainError, InvalidInput, InvalidTransition


@dataclass(frozen=True)
class Permit:
    action: str  # the verb in a refusal: "不能签收"
    roles: tuple[str, ...]
    statuses: tuple[str, ...] = ()  # empty: any state
    department_bound: bool = False  # department staff must belong to the aggregate's department(s)
    state_action: str = ""  # the verb when the state refuses, if it differs from ``action``


class Permitted:
    """Mixed into an aggregate: ``PERMITS`` is its table; subclasses add what a table cannot say."""

    PERMITS: ClassVar[Mapping[str, Permit]] = {}
    status: str

    def refusal(self, command: str, actor: Actor, moment: datetime | None = None) -> DomainError | None:
        """Why ``actor`` may not run ``command`` now, or None if the rules allow it."""
        try:
            permit = self.PERMITS[command]
        except KeyError:
            return InvalidInput(f"未知操作：{command}")
        refused: DomainError | None = role_refusal(actor, permit.roles, permit.action)
        if refused is None and permit.department_bound and actor.role == DEPARTMENT:
            refused = self._department_refusal(command, actor, permit.action)
        if refused is None:
            refused = self._state_refusal(command, permit, actor, moment)
        return refused

    def may(self, command: str, actor: Actor, moment: datetime | None = None) -> bool:
        return self.refusal(command, actor, moment) is None

    def _permit(self, command: str, actor: Actor, moment: datetime | None = None) -> None:
        refused = self.refusal(command, actor, moment)
        if refused is not None:
            raise refused

    # ---- what each aggregate says for itself -------------------------------------------------

    def _department_refusal(self, command: str, actor: Actor, action: str) -> DomainError | None:
        return None

    def _state_refusal(self, command: str, permit: Permit, actor: Actor, moment: datetime | None) -> DomainError | None:
        if permit.statuses and self.status not in permit.statuses:
            return self._refuse(permit.state_action or permit.action)
        return None

    def _refuse(self, action: str) -> InvalidTransition:
        raise NotImplementedError
