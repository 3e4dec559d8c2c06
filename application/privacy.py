"""Callers' personal data: erasure (crypto-shredding), the retention period, and a person's export.

Erasing a case records ``Case.PersonalDataErased`` (actor and reason, in the audit) and then
destroys the case's own key (infra/store/personal_keys.py): the name, phone, description and
address sealed with it are unreadable wherever the event is, history included. The case's facts,
deadlines and figures stay. A case opened before the per-case keys has no key: the event alone
erases it from the aggregate and the read models (docs/privacy.md says what the old bytes keep).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.application.cases import CaseCommands
from hotline.domain.actors import SYSTEM_ACTOR, Actor
from hotline.domain.case import Case
from hotline.domain.catalogue import CATEGORIES


@dataclass(frozen=True)
class Erasure:
    ticket_no: str
    recorded: bool  # False: erased before (its key destroyed again, if it was still there)
    key_destroyed: bool  # the case had its own key, and it is gone now


class PrivacyCommands(CaseCommands):
    def erase_personal_data(self, ticket_no: str, actor: Actor, reason: str) -> Erasure:
        """删除个人信息: the event first (so the audit shows who and why), then the key."""
        case = self.get_case(ticket_no)
        recorded = not case.personal_data_erased
        if recorded:
            case = self._change(ticket_no, lambda c, at: c.erase_personal_data(actor, reason, at=at))
        destroyed = bool(case.personal_key and self.personal_keys and self.personal_keys.destroy([case.personal_key]))
        return Erasure(ticket_no, recorded, destroyed)

    def erase_if_retention_over(self, ticket_no: str, now: datetime | None = None) -> Erasure | None:
        """The retention job's step for one case: erased when the case itself (not a read model
        that may lag behind a reopening) says it finished before the retention period's start."""
        privacy = self.rules.privacy
        if not self.get_case(ticket_no).retention_over(privacy.retention_cutoff(now or self.now())):
            return None
        return self.erase_personal_data(ticket_no, SYSTEM_ACTOR, privacy.retention_reason())


def personal_record(case: Case) -> dict[str, Any]:
    """What the hotline holds about the caller of ``case``, for the person's own request (export)."""
    return {
        "ticket_no": case.ticket_no,
        "opened_at": case.created_on.isoformat(),
        "channel": case.channel,
        "category": CATEGORIES.get(case.category, case.category),
        "service_code": case.service_code,
        "caller_name": case.caller_name,
        "caller_phone": case.caller_phone,
        "description": case.description,
        "address": case.address,
        "district": case.district,
        "status": case.status_name,
        "department": case.department,
        "answer": case.answer,
        "reply": case.reply_result,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "confidential": case.confidential,
        "personal_data_erased": case.personal_data_erased,
    }
