"""The composition root: the only place that builds adapters and wires them together.

Entry points (the CLI, the WSGI app, tests) call ``bootstrap`` and hand the ``Services`` it returns
to what they serve: ``create_app(services)``, the intake consumer, a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotline.application import Clock, HotlineApplication, SystemClock
from hotline.domain.actors import Actor
from hotline.domain.month import MonthClose
from hotline.domain.rules import Rules
from hotline.infra.config import Config, ConfigError
from hotline.infra.integrity import IntegrityWatch
from hotline.infra.keys import private_file, unreadable_event
from hotline.infra.months import close_month
from hotline.infra.notify import Notifier, channels_for
from hotline.infra.passwords import Passwords
from hotline.infra.rule_files import load_rules
from hotline.infra.store.anchors import anchors_file, record_anchor
from hotline.infra.store.audit_chain import seal_writes
from hotline.infra.store.pg_pool import most_recent_first
from hotline.infra.store.schema_lock import schema_setup_lock
from hotline.intake.bus import InProcessBus, in_process_bus
from hotline.projections.caller_key import CallerKey
from hotline.projections.read_models import ReadModels
from hotline.projections.store import open_view_recorder

MIN_CALLER_KEY = 16


@dataclass
class Services:
    """What the web app, the CLI and the consumers receive, already built."""

    config: Config
    rules: Rules
    app: HotlineApplication
    read_models: ReadModels  # inboxes, deadlines, 督办台账, 三率, caller history
    bus: InProcessBus | None = None  # no Kafka configured: intake messages run in this process
    passwords: Passwords = field(default_factory=Passwords)
    limit_store: Any = None  # sign-in slow-down and rate limits: None keeps them in each web process
    _integrity: IntegrityWatch | None = None

    @property
    def trusted_proxies(self) -> tuple[str, ...]:
        return self.config.trusted_proxies

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def secret_key(self) -> str:
        return self.config.flask_secret_key()

    @property
    def cookie_secure(self) -> bool:
        return self.config.cookie_secure

    @property
    def sms_callback_secret(self) -> str | None:
        return self.config.sms_callback_secret

    def notifier(self) -> Notifier:
        """Sends the messages that are due (``hotline notify run``, and inside serve and consume)."""
        return Notifier(self.app, self.read_models, channels_for(self.config))

    @property
    def integrity(self) -> IntegrityWatch:
        """The audit chain checked in the background (``hotline serve``) and on demand."""
        if self._integrity is None:
            self._integrity = IntegrityWatch(
                self.app.recorder, self.config.audit_key_bytes(), anchors_file(self.config.data_dir), self.app.clock
            )
        return self._integrity

    def integrity_problem(self) -> str | None:
        """The first problem the last check of the audit chain found (None: none found)."""
        return self._integrity.problem if self._integrity is not None else None

    def close_month(self, month: str, actor: Actor) -> MonthClose:
        """月度结账 (``hotline month close``, the supervisor's button): infra/months.py."""
        closed = close_month(self.app, self.read_models, self.config.rules_dir, month, actor)
        head = self.app.recorder.select_head()  # type: ignore[attr-defined]
        if head is not None:  # the log the month was closed on, anchored outside the events database
            key, path = self.config.audit_key_bytes(), anchors_file(self.config.data_dir)
            record_anchor(path, key, (head.seq, head.mac, head.notification_id), self.app.now(), f"month-close:{month}")
        return closed

    def close(self) -> None:
        if self.limit_store is not None:
            self.limit_store.close()
        self.read_models.close()
        self.app.close()


def bootstrap(config: Config | None = None, clock: Clock | None = None) -> Services:
    config = config or Config.from_env()
    rules = load_rules(config.rules_dir)
    with schema_setup_lock(config):  # tables are created here: one process at a time
        app = HotlineApplication(rules=rules, env=config.event_store_env(), clock=clock or SystemClock())
        seal_writes(app.recorder, config.audit_key_bytes())
        if problem := unreadable_event(app.mapper, app.recorder):
            app.close()
            raise ConfigError(problem)
        read_models = build_read_models(config, app)
        bus = None if config.kafka_bootstrap else in_process_bus(app)  # its outbox position table too
    if config.uses_postgres:
        for datastore in (app.recorder.datastore, read_models.recorder.datastore):  # type: ignore[attr-defined]
            most_recent_first(datastore.pool)
    services = Services(config=config, rules=rules, app=app, read_models=read_models, bus=bus)
    if config.redis_url:  # sign-in slow-down and Open311 limits shared by every web process
        from hotline.infra.redis_limits import RedisLimitStore

        services.limit_store = RedisLimitStore(config.redis_url)
    return services


def demo_refusal(services: Services, allowed: bool) -> str | None:
    """Why a server must not start on this store: demo accounts (their passwords are in the README)
    still active, unless the demo is what is served (``hotline serve --demo``, ``HOTLINE_DEMO=1``
    for gunicorn). One rule for every way of serving the web app."""
    accounts = services.app.active_demo_accounts()
    if allowed or not accounts:
        return None
    return (
        f"演示账号 {'、'.join(accounts)} 仍在启用，密码公开在 README 中。正式使用前请逐个停用："
        "hotline users deactivate 用户名；只是演示时请加 --demo（gunicorn：HOTLINE_DEMO=1）。"
    )


def views_env(config: Config) -> dict[str, str]:
    """SQLite: a views file of its own beside the events; PostgreSQL: the events' schema."""
    env = dict(config.event_store_env())
    if not config.uses_postgres:
        env["SQLITE_DBNAME"] = str(private_file(config.sqlite_path("views")))
    return env


def build_read_models(config: Config, app: HotlineApplication) -> ReadModels:
    key = config.caller_key()
    if len(key) < MIN_CALLER_KEY:
        raise ConfigError(f"HOTLINE_CALLER_HASH_KEY 太短：至少 {MIN_CALLER_KEY} 个字符（建议 64 位十六进制随机数）")
    return ReadModels(app, open_view_recorder(views_env(config)), CallerKey(key))
