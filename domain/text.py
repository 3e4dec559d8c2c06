"""Checking the free text users type: present when required, within its limit, trimmed, and free
of the characters that break a store, a page or an export.

One check for every channel (forms, Open311, Kafka, the command line): NUL and the other C0 and C1
control characters (tab and newline excepted; a Windows line end becomes a newline) and the
bidirectional embedding, override and isolate characters, which can make a text show something
other than what it says, are refused with a message naming the character and where it is.
"""

from __future__ import annotations

import re
from typing import Any

from hotline.domain.errors import InvalidInput

MAX_TEXT = 4000

# C0 except tab (09) and newline (0A); DEL and C1; LRE RLE PDF LRO RLO; LRI RLI FSI PDI.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NAMES = {
    "\x00": "空字符 NUL",
    "\x0b": "垂直制表符",
    "\x0c": "换页符",
    "\r": "回车符",
    "\x1b": "转义符 ESC",
    "\x7f": "删除符 DEL",
}


def text(value: Any, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label}必须是文字")
    value = check_characters(value.replace("\r\n", "\n"), label).strip()
    if required and not value:
        raise InvalidInput(f"{label}不能为空")
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过 {limit} 个字")
    return value


def check_characters(value: str, label: str) -> str:
    """``value`` unchanged, or ``InvalidInput`` naming the first character it must not contain."""
    found = FORBIDDEN.search(value)
    if found is None:
        return value
    character = found.group()
    name = NAMES.get(character) or ("双向文字控制符" if "\u202a" <= character <= "\u2069" else "控制字符")
    raise InvalidInput(
        f"{label}第 {found.start() + 1} 个字是不可见的{name}（U+{ord(character):04X}），"
        "可能是从其他系统复制时带入的，请删除后重新提交"
    )


def printable(value: Any) -> Any:
    """Text already stored before this check, made safe for an export cell or a read-model row:
    each forbidden character becomes U+FFFD (the replacement character). Not text: unchanged."""
    if isinstance(value, str) and FORBIDDEN.search(value):
        return FORBIDDEN.sub("\ufffd", value.replace("\r\n", "\n"))
    return value
