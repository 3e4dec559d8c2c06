"""``hotline notify run|failed|retry``: messages out (短信 / 电子邮件) from a shell."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click

from hotline.domain.actors import ADMIN, Actor
from hotline.domain.errors import DomainError
from hotline.entrypoints.cli.context import build_services
from hotline.infra.notify import Round, describe_channels
from hotline.projections.notifications import FAILED


@click.group(help="短信与邮件通知：发送到期的消息，查看和重发发送失败的消息。")
def notify() -> None:
    pass


@notify.command(help="发送到期的通知；--once 发送一轮后退出，否则持续运行直到 SIGTERM 或 Ctrl-C。")
@click.option("--once", is_flag=True, help="发送当前到期的消息后退出")
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(0.2, 3600), help="两轮之间的间隔（秒）"
)
def run(once: bool, interval: float) -> None:
    from tqdm import tqdm

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    services = build_services()
    try:
        notifier = services.notifier()
        click.echo(f"通知发送：{describe_channels(services.config)}", err=True)
        if once:
            services.read_models.catch_up()
            due = len(services.read_models.notifications.due(services.clock.now(), limit=100_000))
            totals = Round()
            with tqdm(total=due, desc="发送通知", unit="条", file=sys.stderr) as bar:
                while True:  # rounds of at most 200, until a round finds nothing more to send
                    outcome = notifier.run_once()
                    bar.update(outcome.sent + outcome.failed)
                    totals.sent, totals.failed = totals.sent + outcome.sent, totals.failed + outcome.failed
                    totals.deferred = outcome.deferred
                    if outcome.sent + outcome.failed == 0:
                        break
            click.echo(str(totals))
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        notifier.run(stop, interval)
    finally:
        services.close()


@notify.command(help="列出发送失败（已用尽重试次数）的消息。")
def failed() -> None:
    services = build_services()
    try:
        services.read_models.catch_up()
        rows, total = services.read_models.notifications.listed(services.clock.now(), status=FAILED, limit=500)
        for row in rows:
            click.echo(
                f"{row.key}  {row.channel_name}  {row.recipient_name} {row.address_shown}  尝试 {row.attempts} 次  {row.last_error}"
            )
        click.echo(f"共 {total} 条发送失败", err=True)
    finally:
        services.close()


@notify.command(help="重新发送一条发送失败的消息（按幂等键）。")
@click.argument("key")
def retry(key: str) -> None:
    services = build_services()
    try:
        try:
            services.app.requeue_message(key, Actor("cli:notify", ADMIN), "命令行重新发送")
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"已重新排队：{key}")
    finally:
        services.close()
