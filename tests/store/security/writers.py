"""A writer process for the concurrency test (importable, so that ``spawn`` can run it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.application import clocked
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config


def write_cases(config: Config, name: str, count: int) -> int:
    """Half one call per save, half in batches of ten, all racing for the same day's ticket counter."""
    services = bootstrap(config)
    actor = Actor(f"op-{name}", OPERATOR)
    start = datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)
    try:
        calls = [
            (
                Call(
                    channel="phone",
                    category="complaint",
                    service_code="noise",
                    description=f"{name} 第 {n} 件",
                    caller_name="赵六",
                    caller_phone="13700000000",
                    call_id=f"{name}-{n}",
                ),
                start + timedelta(seconds=n),
            )
            for n in range(count)
        ]
        half = count // 2
        for item, at in calls[:half]:
            clocked(services.app, at).open_case(item, actor)
        for offset in range(half, count, 10):
            services.app.open_cases(calls[offset : offset + 10], actor)
        return count
    finally:
        services.close()
