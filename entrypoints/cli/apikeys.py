"""``hotline apikey``: keys for Open311 clients. A key's plain text is printed once, at creation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from hotline.application import HotlineApplication
from hotline.domain.actors import ADMIN, Actor
from hotline.domain.errors import DomainError
from hotline.entrypoints.cli.context import build_services

CLI_ACTOR = Actor("cli:apikey", ADMIN)


@contextmanager
def _application() -> Iterator[HotlineApplication]:
    services = build_services()
    try:
        yield services.app
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.close()


@click.group(help="管理接口密钥：Open311 对接方的 api_key，以及各承办单位业务系统的密钥（--department）。")
def apikey() -> None:
    pass


@apikey.command(help="签发新密钥。密钥只显示这一次，请立即交给对接方妥善保存。")
@click.option("--name", help="对接方名称，如“市民通 App”（承办单位密钥可省略）")
@click.option(
    "--scope",
    default="own",
    show_default=True,
    help="读取范围：own 只读本密钥提交的诉求；department:单位代码 读该单位的工单；all 读全部工单（均不含来电人姓名电话）",
)
@click.option("--department", help="承办单位代码：签发该单位业务系统在 hotline.replies 上办理工单的密钥")
def create(name: str | None, scope: str, department: str | None) -> None:
    with _application() as app:
        if not name and not department:
            raise click.UsageError("请给出 --name（Open311 对接方）或 --department（承办单位业务系统）")
        label = name or f"{app.rules.department_name(department)}业务系统"
        issued = app.issue_api_key(label, CLI_ACTOR, scope=scope, department=department)
    owner = f"承办单位 {department} 的业务系统（hotline.replies）" if department else f"读取范围 {scope}"
    click.echo(f"已签发密钥“{issued.name}”，编号 {issued.id}，{owner}")
    click.echo("密钥（只显示这一次，系统只保存其摘要）：", err=True)
    click.echo(issued.key)


@apikey.command("list", help="列出全部密钥（不含密钥本身）。")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
def list_keys(as_json: bool) -> None:
    with _application() as app:
        keys = app.api_keys()
    if not keys and not as_json:
        click.echo("还没有签发任何密钥。")
    for key in keys:
        row = {
            "id": str(key.id),
            "name": key.name,
            "created_at": key.created_on.isoformat(),
            "revoked": key.revoked,
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "scope": key.scope,
            "department": key.department,
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            state = f"已吊销 {row['revoked_at']}" if key.revoked else "有效"
            owner = f"承办单位 {key.department}" if key.department else key.scope
            click.echo(f"{row['id']}  {state:<8}  {row['created_at']}  {owner:<16}  {key.name}")


@apikey.command(help="吊销密钥：ID 为 list 显示的编号（至少前 8 位）。吊销后该密钥立即不能再提交诉求。")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    with _application() as app:
        key = app.revoke_api_key(key_id, CLI_ACTOR)
    click.echo(f"已吊销密钥“{key.name}”（{key.id}）")
