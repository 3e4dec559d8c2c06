"""Codes the whole system shares, with the Chinese names users read.

Category and channel codes match the intake message schema (docs/messages.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
}
CHANNELS = {
    "phone": "电话",
    "web": "网站",
    "wechat": "微信",
    "app": "移动应用",
    "letter": "来信",
    "open311": "Open311 接口",
}
URGENCIES = {"normal": "一般", "urgent": "紧急"}
SATISFACTION = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
}

# The dispatch centre's own queue: cases no routing rule matched wait here for a person.
DISPATCH_CENTRE = "DISPATCH"


@dataclass(frozen=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True)
class District:
    """A district (区县) of the city; routing rules may name one, callers say which they are in."""

    name: str
    description: str = ""


# How the levels of a catalogue path are joined where users read it (大类 › 小类 › 细项).
PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class Service:
    """A 细项 of the dispatch catalogue (派单目录): the service code a case carries, under a 小类
    (``minor``) of a 大类 (``major``). Open311 serves the same list."""

    code: str
    name: str
    major: str = ""
    minor: str = ""
    description: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)

    @property
    def path(self) -> str:
        """大类 › 小类 › 细项, as the pickers and lists show it."""
        return PATH_SEPARATOR.join(level for level in (self.major, self.minor, self.name) if level)

    @property
    def minor_path(self) -> str:
        """大类 › 小类: the 小类 named so that it cannot be mistaken for one of another 大类."""
        return PATH_SEPARATOR.join(level for level in (self.major, self.minor) if level)


def code_for(names: dict[str, str], value: str) -> str | None:
    """Accept either the code or its Chinese name (data files and forms use both)."""
    value = value.strip()
    if value in names:
        return value
    for code, name in names.items():
        if name == value:
            return code
    return None
