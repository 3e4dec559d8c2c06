"""``hotline month close|show|adjust``: 月度结账 (domain/month.py, infra/months.py)."""

from __future__ import annotations

import json

import click

from hotline.domain.actors import SUPERVISOR, Actor
from hotline.domain.errors import DomainError
from hotline.domain.formats import month_start
from hotline.domain.month import ADJUSTABLE, ADJUSTMENT_KINDS
from hotline.entrypoints.cli.context import build_services

CLI_ACTOR = Actor("cli:month", SUPERVISOR)


def _month(_context: object, _parameter: object, value: str) -> str:
    try:
        month_start(value)
    except DomainError as error:
        raise click.BadParameter(str(error)) from None
    return value


@click.group(help="月度结账：冻结某月的三率、排名（申诉、甄别须经调整并留痕）。")
def month() -> None:
    pass


@month.command(help="结账：以当前数据冻结该月三率与排名，记下所用规则版本和事件日志位置。月份结束后才能结账。")
@click.argument("month_text", metavar="MONTH", callback=_month)
def close(month_text: str) -> None:
    services = build_services()
    try:
        closed = services.close_month(month_text, CLI_ACTOR)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.close()
    click.echo(
        f"已结账 {closed.month}：{len(closed.figures)} 个承办单位；事件日志位置 {closed.log_position}，"
        f"审计链头 {closed.chain_head}；规则版本 {closed.rules_digest[:16]}"
    )


@month.command(help="查看结账数据和全部调整记录。")
@click.argument("month_text", metavar="MONTH", callback=_month)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def show(month_text: str, as_json: bool) -> None:
    services = build_services()
    try:
        closed = services.app.month_close(month_text)
    finally:
        services.close()
    if closed is None:
        raise click.ClickException(f"{month_text} 尚未结账")
    if as_json:
        adjustments = [{**a, "at": a["at"].isoformat()} for a in closed.adjustments]
        record = {
            "month": closed.month,
            "closed_at": closed.created_on.isoformat(),
            "closed_by": closed.closed_by,
            "rules_digest": closed.rules_digest,
            "log_position": closed.log_position,
            "chain_head": closed.chain_head,
            "figures": closed.figures,
            "adjustments": adjustments,
        }
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.echo(f"{closed.month} 已于 {closed.created_on:%Y-%m-%d %H:%M} 结账（{closed.closed_by}）")
    for item in closed.adjustments:
        click.echo(
            f"  {ADJUSTMENT_KINDS[item['kind']]} {item['department']}：{item['before']} → {item['after']}；"
            f"提出人 {item['requested_by']}，理由 {item['reason']}，批准人 {item['approved_by']}，{item['at']:%Y-%m-%d %H:%M}"
        )


@month.command(help="调整已结账月份某承办单位的数据（申诉或甄别），记录提出人、理由、批准人和调整前后的数据。")
@click.argument("month_text", metavar="MONTH", callback=_month)
@click.option("--kind", type=click.Choice(list(ADJUSTMENT_KINDS)), required=True, help="appeal 申诉 / review 甄别")
@click.option("--department", required=True, help="承办单位代码")
@click.option(
    "--set", "changes", multiple=True, required=True, help=f"名称=数值，可多次；可调整：{'、'.join(ADJUSTABLE)}"
)
@click.option("--requested-by", required=True, help="提出人（单位、姓名）")
@click.option("--reason", required=True, help="调整理由")
@click.option("--approved-by", required=True, help="批准人（记为本次操作人）")
def adjust(
    month_text: str,
    kind: str,
    department: str,
    changes: tuple[str, ...],
    requested_by: str,
    reason: str,
    approved_by: str,
) -> None:
    values: dict[str, float] = {}
    for change in changes:
        name, _, number = change.partition("=")
        try:
            values[name.strip()] = float(number)
        except ValueError:
            raise click.BadParameter(f"应写成 名称=数值，而不是 {change!r}") from None
    services = build_services()
    try:
        approver = Actor(approved_by, SUPERVISOR)
        closed = services.app.adjust_month(month_text, kind, department, values, requested_by, reason, approver)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.close()
    click.echo(f"已记录{ADJUSTMENT_KINDS[kind]}：{closed.month} {department} {values}")
