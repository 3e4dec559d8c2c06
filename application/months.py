"""Closing a month (月度结账) and adjusting a closed month (申诉/甄别): domain/month.py.

The figures come from the one metrics function (``projections/read_models.py``); the application
records them as they are given, with the rule digest and the log position they were computed from
(``infra/months.py`` gathers them)."""

from __future__ import annotations

from typing import Any, cast

from eventsourcing.application import AggregateNotFoundError

from hotline.application.base import HotlineBase
from hotline.domain.actors import Actor
from hotline.domain.errors import InvalidInput
from hotline.domain.month import MonthClose, month_close_id

MONTH_CHANGED = "该月结账数据已被他人调整，请刷新后重试"


class MonthCommands(HotlineBase):
    def close_month(
        self,
        month: str,
        figures: list[dict[str, Any]],
        rules_digest: str,
        log_position: int,
        chain_head: str,
        actor: Actor,
    ) -> MonthClose:
        closed = MonthClose.close(month, figures, rules_digest, log_position, chain_head, actor, at=self.now())
        self._save_new(closed, message=f"{month} 已结账，结账数据不能重新生成；如需更正请走申诉或甄别调整")
        return closed

    def month_close(self, month: str) -> MonthClose | None:
        """The month's frozen figures, or None when it is still open."""
        try:
            return cast(MonthClose, self.repository.get(month_close_id(month)))
        except AggregateNotFoundError:
            return None

    def adjust_month(
        self,
        month: str,
        kind: str,
        department: str,
        changes: dict[str, Any],
        requested_by: str,
        reason: str,
        actor: Actor,
        **options: Any,
    ) -> MonthClose:
        closed = self.month_close(month)
        if closed is None:
            raise InvalidInput(f"{month} 尚未结账：未结账月份的数据随办理情况变化，无需调整")

        def command(aggregate: MonthClose, at: Any) -> None:
            aggregate.adjust(kind, department, changes, requested_by, reason, actor, at)

        return self._run(closed, command, MONTH_CHANGED, **options)
