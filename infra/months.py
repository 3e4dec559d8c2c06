"""Closing a month from the running system: the figures of the one metrics function, the digest
of the rule files they were computed under, the log position and the audit chain's head
(``hotline month close``, the supervisor's button)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hotline.application import HotlineApplication
from hotline.domain.actors import Actor
from hotline.domain.month import MonthClose
from hotline.infra.rule_files import RULE_FILES
from hotline.projections.read_models import ReadModels


def rules_digest(directory: Path) -> str:
    """SHA-256 over every rule file (name and bytes): which version of the rules was in force."""
    digest = hashlib.sha256()
    for name in RULE_FILES:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")
    return digest.hexdigest()


def close_month(app: HotlineApplication, models: ReadModels, rules_dir: Path, month: str, actor: Actor) -> MonthClose:
    models.catch_up()
    figures = [row.as_dict() for row in models.metrics(month)]
    position = models.metrics_view.position()
    head = app.recorder.select_head()  # type: ignore[attr-defined]
    chain_head = f"{head.seq}:{head.mac.hex()}" if head else "0:"
    return app.close_month(month, figures, rules_digest(rules_dir), position, chain_head, actor)
