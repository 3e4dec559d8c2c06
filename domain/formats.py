"""The shapes of the identifiers and values users type: one definition each, for every channel.

Forms, the intake messages, Open311 and the CLI check against these; the aggregates check again.
"""

from __future__ import annotations

import re
from datetime import datetime

from hotline.domain.errors import InvalidInput
from hotline.domain.workdays import CHINA_TZ

TICKET_NO = re.compile(r"^\d{8}-\d{6,}$")  # 工单编号: the day it came in and that day's number
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{2,19}$")  # digits, spaces and dashes, an optional leading +
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")  # 2025-10

TICKET_EXAMPLE = "20250101-000001"
MONTH_EXAMPLE = "2025-10"


def is_ticket_no(value: object) -> bool:
    return isinstance(value, str) and bool(TICKET_NO.match(value))


def is_month(value: object) -> bool:
    return isinstance(value, str) and bool(MONTH.match(value))


def month_start(month: str) -> datetime:
    """The first moment of a month (Beijing time); a malformed month is refused in Chinese."""
    match = MONTH.match(month) if isinstance(month, str) else None
    if not match:
        raise InvalidInput(f"月份格式不正确：{month}，请写成 {MONTH_EXAMPLE}")
    return datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=CHINA_TZ)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The month as [start, end) in Beijing time."""
    start = month_start(month)
    year, number = start.year, start.month
    return start, datetime(year + number // 12, number % 12 + 1, 1, tzinfo=CHINA_TZ)
