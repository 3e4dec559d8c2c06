"""``hotline users …``: accounts for the web app."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from hotline.domain.actors import ROLE_NAMES, SYSTEM, Actor
from hotline.domain.errors import DomainError
from hotline.domain.users import ACCOUNT_ROLES
from hotline.entrypoints.cli.context import build_services
from hotline.infra.passwords import WeakPassword

CLI_ACTOR = Actor("cli", SYSTEM)


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
    password = sys.stdin.readline().rstrip("\r\n")
    services = build_services()
    try:
        services.app.register_user(
            username,
            role,
            services.passwords.hash(password),
            CLI_ACTOR,
            department=department,
            display_name=display_name,
        )
    except (WeakPassword, DomainError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.close()
    click.echo(f"已新增账号 {username.lower()}（{role}{'，' + department if department else ''}）")


def _run(change: Callable[[Any], str]) -> None:
    services = build_services()
    try:
        click.echo(change(services))
    except (WeakPassword, DomainError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.close()


@users.command("list", help="列出全部账号：用户名、角色、单位、状态。")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
def list_users(as_json: bool) -> None:
    services = build_services()
    try:
        for user in services.app.all_users():
            row = {
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "department": user.department,
                "active": user.active,
                "demo": user.demo,
            }
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                state = "启用" if user.active else "停用"
                demo = "  演示账号" if user.demo else ""
                role = ROLE_NAMES.get(user.role, user.role)
                click.echo(
                    f"{user.username:<16} {role:<6} {user.department or '':<6} {state}{demo}  {user.display_name}"
                )
    finally:
        services.close()


@users.command(help="停用账号：立即结束它的全部会话，此后不能登录。")
@click.argument("username")
def deactivate(username: str) -> None:
    _run(lambda services: _done(services.app.deactivate_user(username, CLI_ACTOR), f"已停用账号 {username}"))


@users.command(help="重新启用已停用的账号。")
@click.argument("username")
def reactivate(username: str) -> None:
    _run(lambda services: _done(services.app.reactivate_user(username, CLI_ACTOR), f"已启用账号 {username}"))


def _done(_: None, message: str) -> str:
    """The message once the command (the first argument, already run) has returned."""
    return message


@users.command(help="重设密码（从标准输入读取）；该账号的全部会话随即结束。")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="从标准输入读取新密码")
def reset(username: str, password_stdin: bool) -> None:
    password = sys.stdin.readline().rstrip("\r\n")

    def change(services: Any) -> str:
        services.app.change_password(username, services.passwords.hash(password), CLI_ACTOR)
        return f"已重设账号 {username} 的密码"

    _run(change)


@users.command(help="更改角色或单位；该账号的全部会话随即结束。")
@click.argument("username")
@click.option("--role", "new_role", required=True, type=click.Choice(ACCOUNT_ROLES))
@click.option("--department", help="承办单位代码（角色为 department 时必填）")
def role(username: str, new_role: str, department: str | None) -> None:
    def change(services: Any) -> str:
        services.app.change_role(username, new_role, CLI_ACTOR, department=department)
        return f"账号 {username} 的角色已改为 {new_role}{'（' + department + '）' if department else ''}"

    _run(change)
