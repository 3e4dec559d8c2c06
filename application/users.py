"""Accounts: registering users, changing passwords and roles, deactivating and reactivating,
signing out everywhere. Each is an event of the ``User`` aggregate, so the audit shows who did it.

Passwords arrive hashed (the composition root's hasher); the application stores only the hash.
"""

from __future__ import annotations

from collections.abc import Iterator

from eventsourcing.application import AggregateNotFoundError

from hotline.application.base import HotlineBase
from hotline.domain.actors import Actor
from hotline.domain.errors import InvalidInput
from hotline.domain.users import USERNAME, User, user_id


class UserCommands(HotlineBase):
    def register_user(
        self,
        username: str,
        role: str,
        password_hash: str,
        actor: Actor,
        department: str | None = None,
        display_name: str = "",
        demo: bool = False,
    ) -> User:
        if department and department not in self.rules.departments:
            raise InvalidInput(f"未知承办单位：{department}")
        user = User.register(username, display_name, role, department, password_hash, actor, at=self.now())
        if demo:
            user.mark_as_demo(actor, at=self.now())
        self._save_new(user, message=f"用户名 {username} 已存在")
        return user

    def get_user(self, username: str) -> User | None:
        if not USERNAME.match(username or ""):
            return None
        try:
            user: User = self.repository.get(user_id(username))
        except AggregateNotFoundError:
            return None
        return user

    def _existing_user(self, username: str) -> User:
        user = self.get_user(username)
        if user is None:
            raise InvalidInput(f"用户 {username} 不存在")
        return user

    def change_password(self, username: str, password_hash: str, actor: Actor) -> None:
        user = self._existing_user(username)
        user.change_password(password_hash, actor, at=self.now())
        self.save(user)

    def deactivate_user(self, username: str, actor: Actor) -> None:
        if actor.id == (username or "").lower():
            raise InvalidInput("不能停用自己正在使用的账号")
        user = self._existing_user(username)
        user.deactivate(actor, at=self.now())
        self.save(user)

    def reactivate_user(self, username: str, actor: Actor) -> None:
        user = self._existing_user(username)
        user.reactivate(actor, at=self.now())
        self.save(user)

    def change_role(self, username: str, role: str, actor: Actor, department: str | None = None) -> None:
        if department and department not in self.rules.departments:
            raise InvalidInput(f"未知承办单位：{department}")
        user = self._existing_user(username)
        user.change_role(role, department, actor, at=self.now())
        self.save(user)

    def sign_out_everywhere(self, username: str, actor: Actor) -> None:
        """End every session of the account (the user signed out, or an admin ended them)."""
        user = self._existing_user(username)
        user.sign_out(actor, at=self.now())
        self.save(user)

    def active_demo_accounts(self) -> list[str]:
        """The demo accounts still active: while there are any, the app shows 演示数据 and
        ``hotline serve`` refuses to start without ``--demo``."""
        return [user.username for user in self.all_users() if user.demo and user.active]

    def all_users(self) -> Iterator[User]:
        """Every account, in the order they were registered."""
        for aggregate_id in self.originator_ids(User.Registered.TOPIC):
            yield self.repository.get(aggregate_id)
