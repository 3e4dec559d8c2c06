"""Checking the free text users type: present when required, within its limit, trimmed."""

from __future__ import annotations

from typing import Any

from hotline.domain.errors import InvalidInput

MAX_TEXT = 4000


def text(value: Any, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label}必须是文字")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{label}不能为空")
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过 {limit} 个字")
    return value
