"""Follow-up time limits as data (rules/follow_up.csv): callbacks, weekly progress, minutes signing.

The numbers come only from the file: there is no default here to shadow a missing one.

Monthly feedback has no number to configure: it is due on the last working day of each month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.domain.workdays import Deadline, WorkingDayCalendar, as_china_time

CALLBACK = "callback"
WEEKLY_PROGRESS = "weekly_progress"
MINUTES_SIGNING = "minutes_signing"


@dataclass(frozen=True)
class FollowUpRules:
    callback_days: int  # 答复后几个工作日内回访
    progress_days: int  # 每周：上次报送（或登记）后几个工作日内报送进度
    minutes_days: int  # 涉及财务、人事的会议纪要：会后几个工作日内送签

    def callback_due(self, calendar: WorkingDayCalendar, replied_at: datetime) -> Deadline:
        return calendar.add_working_days(replied_at, self.callback_days)

    def progress_due(self, calendar: WorkingDayCalendar, since: datetime) -> Deadline:
        return calendar.add_working_days(since, self.progress_days)

    def minutes_due(self, calendar: WorkingDayCalendar, held_at: datetime) -> Deadline:
        return calendar.add_working_days(held_at, self.minutes_days)

    @staticmethod
    def feedback_due(calendar: WorkingDayCalendar, year: int, month: int) -> Deadline:
        """每月反馈: by the end of the month's last working day."""
        day = calendar.last_working_day_of_month(year, month)
        end = calendar.add_working_days(as_china_time(datetime(day.year, day.month, day.day)), 0)
        return Deadline(end.at, not calendar.is_known(year))
