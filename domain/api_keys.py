"""API keys for machine clients: the Open311 GeoReport v2 API, and each department's own system
acting on its cases over ``hotline.replies`` (a department key names its department).

A key is a random 32-byte token shown once when it is issued; only its SHA-256 hash is stored.
Keys are high-entropy, so a fast hash is enough: nobody can guess a key from its hash, and a fast
hash lets every request be checked by one lookup. The aggregate's id derives from the hash, so
checking a key is a read of one aggregate, and two keys can never share an id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, SYSTEM, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import InvalidInput, InvalidTransition
from hotline.domain.text import text

KEY_BYTES = 32
MAX_NAME = 100
CAN_MANAGE_KEYS = (ADMIN, SYSTEM)
_HASH = re.compile(r"^[0-9a-f]{64}$")


# What a key may read beyond what the public sees (rules/privacy.toml): the requests it filed itself,
# one department's cases, or every case. Never a caller's name or phone: no answer carries them.
SCOPE_OWN = "own"
SCOPE_ALL = "all"
DEPARTMENT_SCOPE = "department:"
SCOPE_NAMES = {SCOPE_OWN: "本密钥提交的诉求", SCOPE_ALL: "全部工单"}


def check_scope(scope: str) -> str:
    scope = (scope or "").strip()
    if scope in (SCOPE_OWN, SCOPE_ALL) or (scope.startswith(DEPARTMENT_SCOPE) and len(scope) > len(DEPARTMENT_SCOPE)):
        return scope
    raise InvalidInput(f"密钥范围只能是 {SCOPE_OWN}、{SCOPE_ALL} 或 {DEPARTMENT_SCOPE}单位代码")


def scope_department(scope: str) -> str | None:
    return scope[len(DEPARTMENT_SCOPE) :] if scope.startswith(DEPARTMENT_SCOPE) else None


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_id(key_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/api-key/{key_hash}")


class ApiKey(HotlineAggregate):
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
        department: str | None  # a department system's key; None: an Open311 client's
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Keys issued before department keys existed were Open311 keys."""
            state["department"] = None

    class Revoked(Event):
        TOPIC = "hotline:ApiKey.Revoked"

    @staticmethod
    def create_id(key_hash: str, **_: Any) -> UUID:
        return api_key_id(key_hash)

    @classmethod
    def issue(
        cls, name: str, key_hash: str, actor: Actor, at: datetime | None = None, department: str | None = None
    ) -> ApiKey:
        require_role(actor, CAN_MANAGE_KEYS, "签发接口密钥")
        name = text(name, "密钥名称", limit=MAX_NAME)
        if not _HASH.match(key_hash):
            raise InvalidInput("密钥摘要格式不正确")
        return cls._create(
            cls.Issued,
            id=api_key_id(key_hash),
            timestamp=at,
            name=name,
            key_hash=key_hash,
            department=department,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    @event(Issued)
    def __init__(self, name: str, key_hash: str, department: str | None, actor_id: str) -> None:
        self.name = name
        self.key_hash = key_hash
        self.department = department
        self.issued_by = actor_id
        self.revoked = False
        self.revoked_at: datetime | None = None
        self.scope = SCOPE_OWN

    class ScopeSet(Event):
        TOPIC = "hotline:ApiKey.ScopeSet"
        scope: str

    def set_scope(self, scope: str, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_KEYS, "设定接口密钥的范围")
        self._record(self.ScopeSet, actor, at, scope=check_scope(scope))

    @event(ScopeSet)
    def _scope_set(self, scope: str) -> None:
        self.scope = scope

    def revoke(self, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_KEYS, "吊销接口密钥")
        if self.revoked:
            raise InvalidTransition(f"密钥“{self.name}”已被吊销")
        self._record(self.Revoked, actor, at)

    @event(Revoked)
    def _revoked(self, timestamp: datetime) -> None:
        self.revoked = True
        self.revoked_at = timestamp
