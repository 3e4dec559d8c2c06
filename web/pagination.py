"""Page numbers for long lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import request

PAGE_SIZE = 30


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def requested_page(values: Mapping[str, str] | None = None, size: int = PAGE_SIZE) -> tuple[int, int]:
    """(page number, offset) from ?page= (or a posted ``page``), forgiving nonsense (page=abc, page=-3 → 1)."""
    try:
        number = max(1, min(int((request.args if values is None else values).get("page", 1)), 100_000))
    except ValueError:
        number = 1
    return number, (number - 1) * size


def page_of(number: int, total: int, size: int = PAGE_SIZE) -> Page:
    return Page(number=number, size=size, total=total)


def page_url(endpoint: str, number: int) -> str:
    """This page's URL with the same filters and another page number."""
    from flask import url_for

    args = {**request.args.to_dict(), **(request.view_args or {}), "page": number}
    return url_for(endpoint, **args)
