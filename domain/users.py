"""User accounts: who may sign in, with which role, bound to which department.

Passwords arrive already hashed (argon2, an adapter's business): the domain never sees one in clear.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, DEPARTMENT, ROLES, SYSTEM, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import InvalidInput, InvalidTransition
from hotline.domain.text import check_characters

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")
ACCOUNT_ROLES = tuple(r for r in ROLES if r != SYSTEM)
CAN_MANAGE_USERS = (ADMIN, SYSTEM)


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/user/{username.lower()}")


class User(HotlineAggregate):
    TOPIC = "hotline:User"

    class Event(Aggregate.Event):
        TOPIC = "hotline:User.Event"
        actor_id: str
        actor_role: str

    class Created(Event, Aggregate.Created):
        TOPIC = "hotline:User.Created"

    class Registered(Created):
        TOPIC = "hotline:User.Registered"
        username: str
        display_name: str
        role: str
        department: str | None
        password_hash: str

    @staticmethod
    def create_id(username: str, **_: Any) -> UUID:
        return user_id(username)

    @classmethod
    def register(
        cls,
        username: str,
        display_name: str,
        role: str,
        department: str | None,
        password_hash: str,
        actor: Actor,
        at: datetime | None = None,
    ) -> User:
        require_role(actor, CAN_MANAGE_USERS, "管理账号")
        if not USERNAME.match(username or ""):
            raise InvalidInput("用户名须为 2–32 位字母、数字、点、下划线或短横线")
        check_role(role, department)
        if not password_hash:
            raise InvalidInput("密码不能为空")
        return cls._create(
            cls.Registered,
            id=user_id(username),
            timestamp=at,
            username=username.lower(),
            display_name=check_characters((display_name or username).strip(), "显示名称")[:50],
            role=role,
            department=department or None,
            password_hash=password_hash,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    @event(Registered)
    def __init__(self, username: str, display_name: str, role: str, department: str | None, password_hash: str) -> None:
        self.username = username
        self.display_name = display_name
        self.role = role
        self.department = department
        self.password_hash = password_hash
        self.active = True
        self.session_version = 0
        self.demo = False

    # Every session signed in before one of these events is over: logout, a new password, a new
    # role or department, deactivation (the web app compares the version a session was given).
    def _end_sessions(self) -> None:
        self.session_version += 1

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.department)

    class PasswordChanged(Event):
        TOPIC = "hotline:User.PasswordChanged"
        password_hash: str

    def change_password(self, password_hash: str, actor: Actor, at: datetime | None = None) -> None:
        if actor.id != self.username:
            require_role(actor, CAN_MANAGE_USERS, "修改他人密码")
        if not password_hash:
            raise InvalidInput("密码不能为空")
        self._record(self.PasswordChanged, actor, at, password_hash=password_hash)

    @event(PasswordChanged)
    def _password_changed(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self._end_sessions()

    class Deactivated(Event):
        TOPIC = "hotline:User.Deactivated"

    def deactivate(self, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_USERS, "停用账号")
        if not self.active:
            raise InvalidTransition(f"账号 {self.username} 已停用")
        self._record(self.Deactivated, actor, at)

    @event(Deactivated)
    def _deactivated(self) -> None:
        self.active = False
        self._end_sessions()

    class Reactivated(Event):
        TOPIC = "hotline:User.Reactivated"

    def reactivate(self, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_USERS, "启用账号")
        if self.active:
            raise InvalidTransition(f"账号 {self.username} 已是启用状态")
        self._record(self.Reactivated, actor, at)

    @event(Reactivated)
    def _reactivated(self) -> None:
        self.active = True

    class RoleChanged(Event):
        TOPIC = "hotline:User.RoleChanged"
        role: str
        department: str | None

    def change_role(self, role: str, department: str | None, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_USERS, "更改角色")
        check_role(role, department)
        if (role, department or None) == (self.role, self.department):
            raise InvalidInput(f"账号 {self.username} 的角色和单位没有变化")
        self._record(self.RoleChanged, actor, at, role=role, department=department or None)

    @event(RoleChanged)
    def _role_changed(self, role: str, department: str | None) -> None:
        self.role = role
        self.department = department
        self._end_sessions()

    class MarkedAsDemo(Event):
        """A demo account (README's table, ``hotline demo`` on an empty store): the app shows 演示数据."""

        TOPIC = "hotline:User.MarkedAsDemo"

    def mark_as_demo(self, actor: Actor, at: datetime | None = None) -> None:
        require_role(actor, CAN_MANAGE_USERS, "标记演示账号")
        self._record(self.MarkedAsDemo, actor, at)

    @event(MarkedAsDemo)
    def _marked_as_demo(self) -> None:
        self.demo = True

    class SignedOut(Event):
        """The user signed out: every session of the account ends, on every device."""

        TOPIC = "hotline:User.SignedOut"

    def sign_out(self, actor: Actor, at: datetime | None = None) -> None:
        if actor.id != self.username:
            require_role(actor, CAN_MANAGE_USERS, "结束他人的登录")
        self._record(self.SignedOut, actor, at)

    @event(SignedOut)
    def _signed_out(self) -> None:
        self._end_sessions()


def check_role(role: str, department: str | None) -> None:
    if role not in ACCOUNT_ROLES:
        raise InvalidInput(f"未知角色：{role}（可选：{'、'.join(ACCOUNT_ROLES)}）")
    if (role == DEPARTMENT) != bool(department):
        raise InvalidInput("承办单位账号必须绑定一个单位，其他角色不能绑定单位")
