"""Open311 errors: a list of {code, description} with the HTTP status the spec assigns."""

from __future__ import annotations


class Open311Error(Exception):
    """Answered as the spec's error list; ``code`` is also the HTTP status."""

    def __init__(self, code: int, description: str, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers or {}

    def as_list(self) -> list[dict[str, object]]:
        return [{"code": self.code, "description": self.description}]


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def forbidden(description: str = "api_key 缺失、无效或已被吊销") -> Open311Error:
    return Open311Error(403, description)
