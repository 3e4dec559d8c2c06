"""``hotline privacy …``: a caller's personal data erased (crypto-shredding), the retention period
applied, and a person's data given back (docs/privacy.md)."""

from __future__ import annotations

import json

import click

from hotline.application import personal_record
from hotline.domain.actors import ADMIN, Actor
from hotline.domain.errors import DomainError
from hotline.domain.formats import PHONE
from hotline.entrypoints.cli.context import build_services
from hotline.infra.bootstrap import Services


@click.group(help="来电人个人信息：依法删除（销毁密钥）、保存期限到期删除、个人信息导出。")
def privacy() -> None:
    pass


def _phone(phone: str) -> str:
    phone = phone.strip()
    if not PHONE.match(phone):
        raise click.BadParameter("联系电话格式不正确：只能包含数字、空格和短横线，可以 + 开头", param_hint="--phone")
    return phone


def _tickets_of(services: Services, phone: str) -> list[str]:
    """The cases of this caller the read models know (by the number's keyed hash), oldest first."""
    services.read_models.catch_up()
    return [row.ticket_no for row in services.read_models.cases.stream(phone=phone)][::-1]


@privacy.command("erase", help="删除来电人的个人信息（姓名、电话、诉求内容、地址）：记录删除事件并销毁工单密钥。")
@click.option("--phone", help="来电号码：删除该号码的全部工单")
@click.option("--ticket", "ticket_no", help="工单编号：只删除这一件")
@click.option("--reason", required=True, help="删除理由和依据，例如：来电人本人申请（个人信息保护法第四十七条）")
@click.option("--by", "by", default="privacy", show_default=True, help="办理人（记入审计：cli:办理人）")
def erase(phone: str | None, ticket_no: str | None, reason: str, by: str) -> None:
    if bool(phone) == bool(ticket_no):
        raise click.UsageError("请给出 --phone 或 --ticket 其中之一")
    services = build_services()
    try:
        tickets = [ticket_no.strip()] if ticket_no else _tickets_of(services, _phone(phone or ""))
        if not tickets:
            raise click.ClickException("没有找到该号码的工单（或其个人信息已删除）")
        actor = Actor(f"cli:{by.strip() or 'privacy'}", ADMIN)
        for ticket in tickets:
            try:
                erasure = services.app.erase_personal_data(ticket, actor, reason)
            except DomainError as error:
                raise click.ClickException(f"工单 {ticket}：{error}") from None
            key = "，工单密钥已销毁" if erasure.key_destroyed else ""
            said = "已删除个人信息" if erasure.recorded else "个人信息此前已删除"
            click.echo(f"{ticket}：{said}{key}")
        services.read_models.catch_up()  # the lists, search and reports no longer show them
        _checkpoint(services)
    finally:
        services.close()


def _checkpoint(services: Services) -> None:
    if not services.read_models.checkpoint():
        click.echo("提示：另有进程正在读取读模型，旧数据页将在下次检查点时清除（可再运行一次本命令）", err=True)


@privacy.group("retention", help="保存期限（rules/privacy.toml）。")
def retention() -> None:
    pass


@retention.command("run", help="删除办结已超过保存期限的工单的个人信息（销毁密钥）。")
@click.option("--dry-run", is_flag=True, help="只列出到期的工单，不删除")
def retention_run(dry_run: bool) -> None:
    services = build_services()
    try:
        rules = services.rules.privacy
        cutoff = rules.retention_cutoff(services.clock.now())
        services.read_models.catch_up()
        due = services.read_models.retention_due(cutoff)
        click.echo(f"保存期限：办结后 {rules.retention_years} 年；{cutoff:%Y-%m-%d %H:%M} 前办结的到期：{len(due)} 件")
        erased = 0
        for ticket in due:
            if dry_run:
                click.echo(ticket)
            elif services.app.erase_if_retention_over(ticket) is not None:
                erased += 1
                click.echo(f"{ticket}：已删除个人信息")
        if not dry_run:
            services.read_models.catch_up()
            _checkpoint(services)
            click.echo(f"共删除 {erased} 件工单的个人信息")
    finally:
        services.close()


@privacy.command("export", help="导出一位来电人的个人信息及其工单（JSON），用于本人查阅、复制的请求。")
@click.option("--phone", required=True, help="来电号码")
def export(phone: str) -> None:
    services = build_services()
    try:
        number = _phone(phone)
        records = [personal_record(services.app.get_case(t)) for t in _tickets_of(services, number)]
        document = {"phone": number, "exported_at": services.clock.now().isoformat(), "cases": records}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    finally:
        services.close()
