"""How a case is handled as the published rules say (rules/handling.toml): returns under review,
who approves extensions, how often a caller not reached is tried again, the reopening window.
The numbers come only from the file: no default here shadows a missing one.

The per-request and per-case extension limits depend on the category and urgency, so they live in
``rules/time_limits.csv`` (``TimeLimit.max_extension_days``, ``TimeLimit.max_extension_total``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from hotline.domain.actors import ADMIN, OPERATOR, SUPERVISOR
from hotline.domain.errors import InvalidInput
from hotline.domain.workdays import Deadline, WorkingDayCalendar, as_china_time

# The roles rules/handling.toml may name as approvers of extensions: the hotline's own staff.
DECIDING_ROLES = (OPERATOR, SUPERVISOR, ADMIN)


@dataclass(frozen=True)
class CallbackRules:
    """回访: a caller not reached is tried ``attempts`` times on ``distinct_days`` different days
    before the case may close as 无法联系; a closed case may be reopened by the caller's new call
    within ``reopen_days`` days of closing."""

    attempts: int
    distinct_days: int
    reopen_days: int
    basis: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.attempts <= 10 or not 1 <= self.distinct_days <= self.attempts:
            raise InvalidInput("回访未联系上的次数须为 1 到 10 次，天数须在 1 到次数之间")
        if not 1 <= self.reopen_days <= 366:
            raise InvalidInput("重启期限须为 1 到 366 天")

    def unreachable(self, attempts: list[datetime]) -> bool:
        """Enough failed attempts, on enough different days (Beijing time), to close as 无法联系."""
        days = {as_china_time(moment).date() for moment in attempts}
        return len(attempts) >= self.attempts and len(days) >= self.distinct_days


@dataclass(frozen=True)
class DispatchRules:
    """派单时限 (文不过夜): a call logged between ``day_starts`` and ``day_ends`` is dispatched within
    ``within_hours`` natural hours; one logged outside those hours by the end of the same day."""

    within_hours: float
    day_starts: time
    day_ends: time
    basis: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.within_hours <= 24 or self.day_starts >= self.day_ends:
            raise InvalidInput("派单时限须为 0 到 24 小时，工作时段的开始须早于结束")

    def dispatch_due(self, since: datetime) -> datetime:
        """By when the dispatch centre dispatches a case that entered its queue at ``since``."""
        moment = as_china_time(since)
        if self.day_starts <= moment.time() < self.day_ends:
            return moment + timedelta(hours=self.within_hours)
        return datetime.combine(moment.date(), time(23, 59, 59), moment.tzinfo)


@dataclass(frozen=True)
class HandlingRules:
    return_days: int  # 派单后几个工作日内可申请退单
    restart_deadlines: bool  # 退单审核通过后改派：新单位重新起算办理期限（否则沿用原办理期限）
    return_basis: str
    extension_approvers: tuple[str, ...]  # 可审批延期的角色
    extension_basis: str
    callback: CallbackRules
    dispatch: DispatchRules

    def __post_init__(self) -> None:
        if not 0 < self.return_days <= 30:
            raise InvalidInput("退单时限必须是 1 到 30 个工作日")
        unknown = [role for role in self.extension_approvers if role not in DECIDING_ROLES]
        if not self.extension_approvers or unknown:
            raise InvalidInput(
                f"延期审批角色无效：{'、'.join(unknown) or '（空）'}，应为 {'、'.join(DECIDING_ROLES)} 之一"
            )

    def return_due(self, calendar: WorkingDayCalendar, dispatched_at: datetime) -> Deadline:
        """The last moment a department may ask to return a case dispatched at ``dispatched_at``."""
        return calendar.add_working_days(dispatched_at, self.return_days)
