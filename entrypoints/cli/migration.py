"""``hotline import cases FILE``: the migration of the city's previous 12345 system (docs/import.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hotline.domain.actors import ADMIN, Actor
from hotline.entrypoints.cli.context import build_services
from hotline.infra.migration import ImportFileError, count_rows, import_file

CLI_ACTOR = Actor("cli:import", ADMIN)


@click.group(name="import", help="导入数据：从本市原 12345 系统迁移工单。")
def import_() -> None:
    pass


@import_.command(
    name="cases",
    help="导入原系统导出的工单（.xlsx 或 .csv，列的写法见 docs/import.md）。原受理、办结时间作为报告时间保存，"
    "记录时间为导入时刻，工单标注“迁移数据”。同一原工单编号只导入一次；不合规的行拒收并列出行号和原因（退出码 1）。",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=True, show_default=True, help="显示进度条")
def cases(file: Path, progress: bool) -> None:
    from tqdm import tqdm

    services = build_services()
    try:
        total = count_rows(file)
        with tqdm(total=total, desc="导入迁移工单", unit="行", file=sys.stderr, disable=not progress) as bar:
            report = import_file(services.app, file, CLI_ACTOR, progress=bar.update)
    except ImportFileError as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.close()
    click.echo(report.summary())
    for refusal in report.refused:
        click.echo(f"拒收 {refusal}")
    if report.refused:
        sys.exit(1)
