"""Two times on every action: the moment the hotline recorded it, and the one a sender reported.

The recorded time is the application's clock (Beijing time): deadlines and 三率 are judged by it,
and nothing a sender writes can set it. Where a sender reports when something happened (an
intake message, a department system's action, a callback made by phone and entered later), the
reported time is kept beside it, if it is plausible (rules/time_plausibility.toml):

- not before the case's previous step (when that step happened: its reported time, or else the
  time it was recorded);
- not in the future, beyond a small skew between the sender's clock and ours;
- at most a window before the recorded time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.domain.errors import ImplausibleTime, InvalidInput
from hotline.domain.workdays import as_china_time

SHOWN = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class TimePlausibility:
    future_skew: timedelta  # a reported time may be this far past the recorded time (clock skew)
    window: timedelta  # and at most this far before it
    # A case migrated from the city's previous system: its 受理时间 may be this far before the import.
    migration_window: timedelta
    basis: str = ""
    migration_basis: str = ""

    def __post_init__(self) -> None:
        if self.future_skew < timedelta(0) or self.window <= timedelta(0) or self.migration_window <= timedelta(0):
            raise InvalidInput("允许的时钟偏差不能为负，回溯窗口必须大于 0")

    def check(
        self,
        reported: datetime,
        recorded: datetime,
        previous: datetime | None,
        migrated: bool = False,
        label: str = "报告时间",
    ) -> datetime:
        """``reported`` in Beijing time if plausible; ``ImplausibleTime`` with the reason if not.
        ``migrated``: a case of the previous system, imported now (``hotline import cases``): its
        times may lie up to the migration window back, not the window of a late message;
        ``label``: what the time is called on the form (转接时间, 回访时间)."""
        reported, recorded = as_china_time(reported), as_china_time(recorded)
        if migrated:
            if reported > recorded + self.future_skew:
                raise ImplausibleTime(f"{label} {reported:{SHOWN}} 晚于导入时间 {recorded:{SHOWN}}，不予导入")
            if reported < recorded - self.migration_window:
                raise ImplausibleTime(
                    f"{label} {reported:{SHOWN}} 早于导入时间超过 {days(self.migration_window)} 天"
                    "（迁移数据的回溯期限，rules/time_plausibility.toml），不予导入"
                )
            if previous is not None and reported < previous:
                raise ImplausibleTime(
                    f"{label} {reported:{SHOWN}} 早于受理时间 {as_china_time(previous):{SHOWN}}，不予导入"
                )
            return reported
        if previous is not None and reported < previous:
            raise ImplausibleTime(
                f"{label} {reported:{SHOWN}} 早于该工单上一步的时间 {as_china_time(previous):{SHOWN}}，不予受理"
            )
        if reported > recorded + self.future_skew:
            raise ImplausibleTime(
                f"{label} {reported:{SHOWN}} 晚于系统当前时间 {recorded:{SHOWN}}"
                f"（允许的时钟偏差为 {minutes(self.future_skew)} 分钟），不予受理"
            )
        if reported < recorded - self.window:
            raise ImplausibleTime(
                f"{label} {reported:{SHOWN}} 早于系统记录时间 {recorded:{SHOWN}} 超过 {hours(self.window)} 小时，"
                "不予受理；如确属补录，请说明情况后由话务员登记"
            )
        return reported


def minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g}"


def days(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:g}"


def hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}"
