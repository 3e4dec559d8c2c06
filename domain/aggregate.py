"""What every hotline aggregate shares: who did it and when, written once.

Each aggregate's base event declares ``actor_id`` and ``actor_role``; the event's own timestamp
says when. A command checks its rules, then records its event with ``_record``, which adds the
actor and the time; the ``@event`` method that applies the event names only the fields it uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from hotline.domain.actors import Actor


class HotlineAggregate(Aggregate):
    def _record(self, event_class: type[Any], actor: Actor, at: datetime | None, **fields: Any) -> None:
        """Trigger ``event_class`` with ``fields``, done by ``actor`` at ``at``."""
        self.trigger_event(event_class, timestamp=at, actor_id=actor.id, actor_role=actor.role, **fields)
