"""``hotline users …``: accounts for the web app."""

from __future__ import annotations

import sys

import click

from domain.actors import ADMIN, DEPARTMENT, OPERATOR, SUPERVISOR, SYSTEM, Actor
from domain.errors import DomainError
from domain.users import ACCOUNT_ROLES
from infra.bootstrap import Services
from infra.passwords import WeakPassword, hash_password

CLI_ACTOR = Actor("cli", SYSTEM)

# One account per role for the demo data set (README lists them). Never use these in production.
DEMO_USERS = [
    ("operator", "hotline-operator", OPERATOR, None, "话务员 小王"),
    ("hbj", "hotline-department", DEPARTMENT, "HBJ", "市生态环境局 联络员"),
    ("cgj", "hotline-department", DEPARTMENT, "CGJ", "市城管局 联络员"),
    ("supervisor", "hotline-supervisor", SUPERVISOR, None, "督办科 李科长"),
    ("admin", "hotline-admin", ADMIN, None, "系统管理员"),
]


def ensure_demo_users(services: Services) -> int:
    created = 0
    for username, password, role, department, name in DEMO_USERS:
        if services.app.get_user(username) is None:
            services.app.register_user(
                username, role, hash_password(password), CLI_ACTOR, department=department, display_name=name
            )
            created += 1
    return created


@click.group(help="管理网页登录账号。")
def users() -> None:
    pass


@users.command("add", help="新增账号；密码从标准输入读取（--password-stdin）。")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ACCOUNT_ROLES))
@click.option("--department", help="承办单位代码（角色为 department 时必填）")
@click.option("--name", "display_name", default="", help="显示名称")
@click.option("--password-stdin", is_flag=True, required=True, help="从标准输入读取密码")
def add(username: str, role: str, department: str | None, display_name: str, password_stdin: bool) -> None:
    from infra.cli import _services

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        password_hash = hash_password(password)
        services = _services()
        services.app.register_user(
            username, role, password_hash, CLI_ACTOR, department=department, display_name=display_name
        )
    except (WeakPassword, DomainError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"已新增账号 {username.lower()}（{role}{'，' + department if department else ''}）")
