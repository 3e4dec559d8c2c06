"""The composition root: the only place that builds adapters and wires them together."""

from __future__ import annotations

from dataclasses import dataclass

from domain.application import HotlineApplication
from domain.rules import Rules
from infra.audit_chain import seal_writes
from infra.config import Config, ConfigError
from infra.keys import unreadable_event
from infra.read_models import build_read_models
from infra.rules_files import load_rules
from infra.schema_lock import schema_setup_lock
from intake.bus import InProcessBus, in_process_bus
from projections.read_models import ReadModels


@dataclass
class Services:
    """What the web app, the CLI and the consumers receive, already built."""

    config: Config
    rules: Rules
    app: HotlineApplication
    bus: InProcessBus | None = None  # no Kafka configured: intake messages run in this process
    read_models: ReadModels | None = None  # projections: inboxes, deadlines, 督办台账, 三率, caller history

    def close(self) -> None:
        if self.read_models is not None:
            self.read_models.close()
        self.app.close()


def bootstrap(config: Config | None = None) -> Services:
    config = config or Config.from_env()
    rules = load_rules(config.rules_dir)
    with schema_setup_lock(config):  # tables are created here: one process at a time
        app = HotlineApplication(rules=rules, env=config.event_store_env())
        seal_writes(app.recorder, config.audit_key_bytes())
        if problem := unreadable_event(app.mapper, app.recorder):
            app.close()
            raise ConfigError(problem)
        read_models = build_read_models(config, rules, app)
        bus = None if config.kafka_bootstrap else in_process_bus(app)  # its outbox position table too
    return Services(config=config, rules=rules, app=app, bus=bus, read_models=read_models)
