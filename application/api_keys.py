"""API keys of machine clients: issue, authenticate, list, find and revoke. An Open311 client's
key files citizens' requests (and reads what its scope allows); a department key (``hotline
apikey create --department CODE``) lets that department's own system act on its cases over
``hotline.replies``, and nothing else.

A key's plain text exists only in the ``IssuedKey`` returned when it is issued; the store keeps its
SHA-256 hash, and the aggregate's id derives from that hash, so checking a key is one read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from hotline.application.base import HotlineBase
from hotline.domain.actors import Actor
from hotline.domain.api_keys import (
    SCOPE_OWN,
    ApiKey,
    api_key_id,
    check_scope,
    hash_key,
    new_key,
    scope_department,
)
from hotline.domain.errors import InvalidInput

MAX_KEY_TEXT = 200


@dataclass(frozen=True)
class IssuedKey:
    """A newly issued key: the only moment its plain text exists."""

    id: UUID
    name: str
    key: str


class ApiKeyCommands(HotlineBase):
    def issue_api_key(
        self, name: str, actor: Actor, scope: str = SCOPE_OWN, department: str | None = None
    ) -> IssuedKey:
        """A new key; ``scope`` says what an Open311 key may read beyond the public's view
        (domain/api_keys.py); ``department``: a department system's key for hotline.replies."""
        for code in (scope_department(check_scope(scope)), department):
            if code is not None and code not in self.rules.departments:
                raise InvalidInput(f"未知承办单位：{code}")
        key = new_key()
        api_key = ApiKey.issue(name, hash_key(key), actor, at=self.now(), department=department)
        if scope != SCOPE_OWN:
            api_key.set_scope(scope, actor, at=self.now())
        self.save(api_key)
        return IssuedKey(api_key.id, api_key.name, key)

    def authenticate_api_key(self, key: str | None) -> ApiKey | None:
        """The active Open311 key with this plain text, or None (unknown, revoked, not given, or a
        department system's key)."""
        api_key = self._active_key(key)
        return api_key if api_key is not None and api_key.department is None else None

    def authenticate_department(self, key: str | None) -> str | None:
        """The department whose active key this is, or None (unknown, revoked, not given, or an
        Open311 client's key)."""
        api_key = self._active_key(key)
        return api_key.department if api_key is not None else None

    def _active_key(self, key: str | None) -> ApiKey | None:
        if not key or len(key) > MAX_KEY_TEXT:
            return None
        try:
            api_key: ApiKey = self.repository.get(api_key_id(hash_key(key)))
        except AggregateNotFoundError:
            return None
        return None if api_key.revoked else api_key

    def api_keys(self) -> list[ApiKey]:
        keys: list[ApiKey] = []
        start = None
        while True:
            page = self.recorder.select_notifications(
                start, 500, topics=[ApiKey.Issued.TOPIC], inclusive_of_start=False
            )
            if not page:
                return keys
            keys.extend(self.repository.get(cast(UUID, n.originator_id)) for n in page)
            start = page[-1].id

    def find_api_key(self, id_or_prefix: str) -> ApiKey:
        """A key by its id, or by an unambiguous prefix of at least 8 characters of it."""
        wanted = (id_or_prefix or "").strip().lower()
        if len(wanted) < 8:
            raise InvalidInput("请给出密钥编号（至少前 8 位）")
        matches = [key for key in self.api_keys() if str(key.id).startswith(wanted)]
        if not matches:
            raise InvalidInput(f"找不到编号为 {id_or_prefix} 的密钥")
        if len(matches) > 1:
            raise InvalidInput(f"编号前缀 {id_or_prefix} 对应多个密钥，请写得更长一些")
        return matches[0]

    def revoke_api_key(self, id_or_prefix: str, actor: Actor) -> ApiKey:
        api_key = self.find_api_key(id_or_prefix)
        api_key.revoke(actor, at=self.now())
        self.save(api_key)
        return api_key
