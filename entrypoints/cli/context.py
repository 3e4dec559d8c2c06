"""What every command needs: the services, built once per command, with clear Chinese errors."""

from __future__ import annotations

from datetime import datetime

import click

from hotline.infra.bootstrap import Services, bootstrap
from hotline.infra.config import Config, ConfigError
from hotline.infra.rule_files import RulesFileError


def build_services() -> Services:
    try:
        return bootstrap(Config.from_env())
    except (ConfigError, RulesFileError) as error:
        raise click.ClickException(str(error)) from None


def parse_moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"无法识别的时间：{text!r}，请写成 2025-09-30 16:00 这样的格式") from None
