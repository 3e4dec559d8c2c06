"""Callers' personal information: how a name or a phone number is shown to someone who may not see
it in full, and how personal details are taken out of free text before the public sees it.

One place for every page, export and message that shows a caller to someone other than the hotline
(a department handling a confidential case, another department, the public): 王** / 139****5678.
"""

from __future__ import annotations

import re

# What the scrubber recognises in free text (descriptions, replies) before it is published.
MOBILE = re.compile(r"(?<!\d)(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d){8}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[ \-]?\d{7,8}(?!\d)")
ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# "我叫张三", "本人李四", "姓王", "联系人：赵六" and the like: a name the caller gave about themself.
SELF_NAMED = re.compile(r"(我叫|本人|联系人[:：]?|姓名[:：]?|我姓)([\u4e00-\u9fff]{1,3})")

HIDDEN = "＊＊"


def mask_name(name: str) -> str:
    """王** for 王小明; a one-character or empty name becomes **."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 2) if len(name) > 1 else "**"


def mask_phone(phone: str) -> str:
    """139****5678: the first three and last four digits, or **** for a number too short to keep any."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def scrub(text: str, names: tuple[str, ...] = ()) -> str:
    """The text without phone numbers, ID-card numbers, e-mail addresses, the given names, or a
    name the caller gave about themself ("我叫张三" → "我叫＊＊")."""
    if not text:
        return ""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, HIDDEN)
    text = ID_CARD.sub(HIDDEN, text)
    text = EMAIL.sub(HIDDEN, text)
    text = MOBILE.sub(HIDDEN, text)
    text = LANDLINE.sub(HIDDEN, text)
    return SELF_NAMED.sub(lambda m: m.group(1) + HIDDEN, text)
