"""The demo's accounts: one per role (README lists them). Never use these in production."""

from __future__ import annotations

from hotline.application import HotlineApplication
from hotline.domain.actors import ADMIN, DEPARTMENT, EDITOR, OPERATOR, SUPERVISOR, SYSTEM, Actor
from hotline.infra.passwords import Passwords

ACCOUNTS_ACTOR = Actor("cli", SYSTEM)

DEMO_USERS = [
    ("operator", "hotline-operator", OPERATOR, None, "话务员 小王"),
    ("hbj", "hotline-department", DEPARTMENT, "HBJ", "市生态环境局 联络员"),
    ("cgj", "hotline-department", DEPARTMENT, "CGJ", "市城管局 联络员"),
    ("supervisor", "hotline-supervisor", SUPERVISOR, None, "督办科 李科长"),
    ("kb", "hotline-editor", EDITOR, None, "知识库编辑 周老师"),
    ("admin", "hotline-admin", ADMIN, None, "系统管理员"),
]


def department_actor(code: str) -> Actor:
    """The demo's member of staff acting for a department."""
    return Actor(f"dept-{code.lower()}-01", DEPARTMENT, code)


def ensure_demo_users(app: HotlineApplication, passwords: Passwords) -> int:
    """Register the demo accounts that do not exist yet; how many were created."""
    created = 0
    for username, password, role, department, name in DEMO_USERS:
        if app.get_user(username) is None:
            app.register_user(
                username,
                role,
                passwords.hash(password),
                ACCOUNTS_ACTOR,
                department=department,
                display_name=name,
                demo=True,
            )
            created += 1
    return created
