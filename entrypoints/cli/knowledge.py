"""``hotline kb search|list``: the knowledge base from a shell."""

from __future__ import annotations

import json

import click

from hotline.entrypoints.cli.context import build_services
from hotline.projections.knowledge import ArticleRow


@click.group(help="知识库：检索已发布条目、列出全部条目。")
def kb() -> None:
    pass


def _row(row: ArticleRow) -> dict:
    return {
        "number": row.number,
        "title": row.title,
        "question": row.question,
        "score": row.score,
        "revision": row.revision,
        "department": row.department,
        "status": row.status,
        "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        "uses": row.uses,
        "reopened": row.reopened,
    }


@kb.command(help="按中文检索今天有效的已发布条目，按匹配度排序（编号、标题、问题、得分）。")
@click.argument("text")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
def search(text: str, limit: int, as_json: bool) -> None:
    services = build_services()
    try:
        services.read_models.catch_up()
        rows = services.read_models.search_articles(text, limit=limit)
        if not rows and not as_json:
            click.echo("没有匹配的已发布条目。")
        for row in rows:
            if as_json:
                click.echo(json.dumps(_row(row), ensure_ascii=False))
            else:
                click.echo(f"{row.number}  {row.score:>8.4f}  {row.title}  —  {row.question}")
    finally:
        services.close()


@kb.command("list", help="列出知识库条目（最新在前），含状态、有效期、引用次数。")
@click.option("--status", help="只列出某一状态：draft、in_review、published、revising、revision_in_review、withdrawn")
@click.option("--department", help="只列出某一单位的条目（单位代码）")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
def list_(status: str | None, department: str | None, as_json: bool) -> None:
    services = build_services()
    try:
        services.read_models.catch_up()
        rows, total = services.read_models.knowledge.list(status=status, department=department, limit=500)
        for row in rows:
            if as_json:
                click.echo(json.dumps(_row(row), ensure_ascii=False))
            else:
                until = row.valid_until.isoformat() if row.valid_until else "长期"
                click.echo(
                    f"{row.number}  {row.status_name:<6}  第{row.revision}版  至 {until}  引用 {row.uses} 次  {row.title}"
                )
        if not as_json:
            click.echo(f"共 {total} 条", err=True)
    finally:
        services.close()
