"""API keys for machine clients (the Open311 GeoReport v2 API).

A key is a random 32-byte token shown once when it is issued; only its SHA-256 hash is stored.
Keys are high-entropy, so a fast hash is enough: nobody can guess a key from its hash, and a fast
hash lets every request be checked by one lookup. The aggregate's id derives from the hash, so
checking a key is a read of one aggregate, and two keys can never share an id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from domain.actors import ADMIN, SYSTEM, Actor, require_role
from domain.errors import InvalidInput, InvalidTransition

KEY_BYTES = 32
MAX_NAME = 100
CAN_MANAGE_KEYS = (ADMIN, SYSTEM)
_HASH = re.compile(r"^[0-9a-f]{64}$")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_id(key_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/api-key/{key_hash}")


class ApiKey(Aggregate):
    TOPIC = "hotline:ApiKey"

    class Event(Aggregate.Event):
        TOPIC = "hotline:ApiKey.Event"
        actor_id: str
        actor_role: str

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:ApiKey.Created"

    class Issued(Created):
        TOPIC = "hotline:ApiKey.Issued"
        name: str
        key_hash: str

    class Revoked(Event):
        TOPIC = "hotline:ApiKey.Revoked"

    @staticmethod
    def create_id(key_hash: str, **_: Any) -> UUID:
        return api_key_id(key_hash)

    @classmethod
    def issue(cls, name: str, key_hash: str, actor: Actor, at: datetime | None = None) -> ApiKey:
        require_role(actor, CAN_MANAGE_KEYS, "签发接口密钥")
        name = (name or "").strip()
        if not name:
            raise InvalidInput("密钥名称不能为空")
        if len(name) > MAX_NAME:
            raise InvalidInput(f"密钥名称不能超过 {MAX_NAME} 个字")
        if not _HASH.match(key_hash):
            raise InvalidInput("密钥摘要格式不正确")
        return cls._create(
            cls.Issued, id=api_key_id(key_hash), timestamp=at or _now(), name=name, key_hash=key_hash, **actor.fields
        )

    @event(Issued)
    def __init__(self, name: str, key_hash: str, actor_id: str, actor_role: str) -> None:
        self.name = name
        self.key_hash = key_hash
        self.issued_by = actor_id
        self.revoked = False
        self.revoked_at: datetime | None = None

    def revoke(self, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_KEYS, "吊销接口密钥")
        if self.revoked:
            raise InvalidTransition(f"密钥“{self.name}”已被吊销")
        self._revoked(timestamp=at or _now(), **actor.fields)

    @event(Revoked)
    def _revoked(self, actor_id: str, actor_role: str, timestamp: datetime) -> None:
        self.revoked = True
        self.revoked_at = timestamp


@dataclass(frozen=True)
class IssuedKey:
    """A newly issued key: the only moment its plain text exists."""

    id: UUID
    name: str
    key: str


class ApiKeyRegistry:
    """Issue, find, list and revoke keys, stored in the given application's event store."""

    def __init__(self, app: Application):
        self.app = app

    def issue(self, name: str, actor: Actor, at: datetime | None = None) -> IssuedKey:
        key = new_key()
        api_key = ApiKey.issue(name, hash_key(key), actor, at=at)
        self.app.save(api_key)
        return IssuedKey(api_key.id, api_key.name, key)

    def authenticate(self, key: str | None) -> ApiKey | None:
        """The active key with this plain text, or None (unknown, revoked or not given)."""
        if not key or len(key) > 200:
            return None
        try:
            api_key: ApiKey = self.app.repository.get(api_key_id(hash_key(key)))
        except AggregateNotFoundError:
            return None
        return None if api_key.revoked else api_key

    def all(self) -> list[ApiKey]:
        keys = []
        start = None
        while True:
            page = self.app.recorder.select_notifications(
                start, 500, topics=[ApiKey.Issued.TOPIC], inclusive_of_start=False
            )
            if not page:
                return keys
            keys.extend(self.app.repository.get(n.originator_id) for n in page)
            start = page[-1].id

    def find(self, id_or_prefix: str) -> ApiKey:
        """A key by its id, or by an unambiguous prefix of at least 8 characters of it."""
        wanted = (id_or_prefix or "").strip().lower()
        if len(wanted) < 8:
            raise InvalidInput("请给出密钥编号（至少前 8 位）")
        matches = [key for key in self.all() if str(key.id).startswith(wanted)]
        if not matches:
            raise InvalidInput(f"找不到编号为 {id_or_prefix} 的密钥")
        if len(matches) > 1:
            raise InvalidInput(f"编号前缀 {id_or_prefix} 对应多个密钥，请写得更长一些")
        return matches[0]

    def revoke(self, id_or_prefix: str, actor: Actor, at: datetime | None = None) -> ApiKey:
        api_key = self.find(id_or_prefix)
        api_key.revoke(actor, at=at)
        self.app.save(api_key)
        return api_key


__all__ = ["ApiKey", "ApiKeyRegistry", "IssuedKey", "api_key_id", "hash_key", "new_key"]
