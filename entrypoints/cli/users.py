"""``hotline users …``: accounts for the web app."""

from __future__ import annotations

import sys

import click

from hotline.domain.actors import SYSTEM, Actor
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
