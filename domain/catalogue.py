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


# A list filter may name a level of the catalogue instead of one 细项: 大类:名称 or 小类:名称.
MAJOR_CHOICE = "大类:"
MINOR_CHOICE = "小类:"


def codes_named(services: dict[str, Service], choice: str) -> tuple[str, ...]:
    """The service codes a filter names: one 细项 by its code, or every 细项 of a 大类 or a 小类 (by
    its name, or written 大类:名称 / 小类:名称, as the case lists offer it). Nothing known: ()."""
    choice = choice.strip()
    if choice in services:
        return (choice,)
    if choice.startswith(MAJOR_CHOICE):
        name = choice.removeprefix(MAJOR_CHOICE)
        return tuple(code for code, s in services.items() if s.major == name)
    if choice.startswith(MINOR_CHOICE):
        name = choice.removeprefix(MINOR_CHOICE)
        return tuple(code for code, s in services.items() if s.minor == name)
    return tuple(code for code, s in services.items() if choice in (s.major, s.minor))


def catalogue_choices(services: dict[str, Service]) -> list[tuple[str, str]]:
    """Every 大类, its 小类 and their 细项 as one list, in the catalogue's order, for a list filter."""
    choices: list[tuple[str, str]] = []
    tree: dict[str, dict[str, list[Service]]] = {}
    for service in services.values():
        tree.setdefault(service.major, {}).setdefault(service.minor, []).append(service)
    for major, minors in tree.items():
        choices.append((MAJOR_CHOICE + major, f"{major}（大类，全部）"))
        for minor, members in minors.items():
            choices.append((MINOR_CHOICE + minor, f"{major}{PATH_SEPARATOR}{minor}（小类，全部）"))
            choices.extend((s.code, s.path) for s in members)
    return choices
