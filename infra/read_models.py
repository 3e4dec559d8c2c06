"""Builds the read models (projections) for a configuration: their store, key and weights."""

from __future__ import annotations

from domain.application import HotlineApplication
from domain.rules import Rules
from infra.config import Config, ConfigError
from infra.rules_followup import load_metric_weights
from projections.caller_key import CallerKey
from projections.read_models import ReadModels
from projections.store import open_view_recorder


def views_env(config: Config) -> dict[str, str]:
    """SQLite: a views file of its own beside the events; PostgreSQL: the events' schema."""
    env = dict(config.event_store_env())
    if not config.uses_postgres:
        env["SQLITE_DBNAME"] = str(config.sqlite_path("views"))
    return env


def build_read_models(config: Config, rules: Rules, app: HotlineApplication) -> ReadModels:
    key = config.caller_key()
    if len(key) < 16:
        raise ConfigError("HOTLINE_CALLER_HASH_KEY 太短：至少 16 个字符（建议 64 位十六进制随机数）")
    return ReadModels(
        app,
        rules,
        open_view_recorder(views_env(config)),
        CallerKey(key),
        load_metric_weights(config.rules_dir / "metrics.csv"),
    )
