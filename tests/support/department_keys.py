"""A department system's credential, as the tests' messages on hotline.replies carry it."""

from __future__ import annotations

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.intake.messages import API_KEY_HEADER


def department_key(app, code: str) -> tuple[tuple[str, bytes], ...]:
    """The headers of a message signed with a key issued just now for department ``code``'s system."""
    key = app.issue_api_key(f"{code} 业务系统", SYSTEM_ACTOR, department=code).key
    return ((API_KEY_HEADER, key.encode()),)
