"""``hotline rules …``: the city's rule tables (rules/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from hotline.infra.config import Config
from hotline.infra.rule_files import DEFAULT_RULES_DIR, RULE_FILES, RulesFileError, load_rules


@click.group(help="规则表（时限、派单、名录、考评口径……）：复制默认规则供本市修改，或检查规则文件。")
def rules() -> None:
    pass


@rules.command(
    "init", help="把随软件发布的默认规则复制到 DIR（须为空目录或不存在），供本市修改；再设 HOTLINE_RULES_DIR=DIR。"
)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise click.ClickException(f"{directory} 不是空目录，不覆盖（以免丢失本市已修改的规则）")
    directory.mkdir(parents=True, exist_ok=True)
    for name in (*RULE_FILES, "README.md"):
        shutil.copy2(DEFAULT_RULES_DIR / name, directory / name)
    click.echo(
        f"已复制 {len(RULE_FILES)} 个规则文件和说明到 {directory}。请设置 HOTLINE_RULES_DIR={directory.absolute()}"
    )


@rules.command("check", help="读取当前规则目录（HOTLINE_RULES_DIR，未设置时为默认规则）并报告第一个错误。")
def check() -> None:
    directory = Config.from_env().rules_dir
    try:
        loaded = load_rules(directory)
    except RulesFileError as error:
        raise click.ClickException(str(error)) from None
    services = loaded.services.values()
    click.echo(
        f"规则目录 {directory} 无误：{len(loaded.departments)} 个承办单位、{len(loaded.services)} 个服务事项（细项，"
        f"分属 {len({s.major for s in services})} 个大类、{len({s.minor for s in services})} 个小类）、"
        f"{len(loaded.routing.rules)} 条派单规则、{len(loaded.districts)} 个区县。"
    )
