"""``hotline report``: a day's, week's, month's or range's report as PDF, Excel or HTML; and the
daily report (每日要情) made each morning at the time rules/analysis.toml names, into the outbox
for its recipients (run by ``hotline serve`` and ``hotline consume``, or ``hotline report send-daily``
from cron: ``30 7 * * * cd /srv/hotline && .venv/bin/hotline report send-daily``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import click

from hotline.entrypoints.cli.context import build_services
from hotline.entrypoints.report_jobs import DailyReports, write_report

FORMATS = ("pdf", "xlsx", "html")


@click.group(help="统计报告：每日要情、周报、月报、任意区间；PDF、Excel 或 HTML。")
def report() -> None:
    pass


def _output(period, fmt: str, out: Path) -> None:
    from hotline.domain.errors import InvalidInput

    services = build_services()
    try:
        write_report(services, period, fmt, out)
    except InvalidInput as error:
        raise click.UsageError(str(error)) from None
    finally:
        services.close()
    click.echo(f"已生成 {period.title}：{out}")


def _period(make, *args):
    from hotline.domain.errors import InvalidInput

    try:
        return make(*args)
    except InvalidInput as error:
        raise click.UsageError(str(error)) from None


FORMAT = click.option("--format", "fmt", type=click.Choice(FORMATS), default="pdf", show_default=True)
OUT = click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出文件")
DAY = click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="日期，如 2026-11-30（默认昨天/本周/本月）")


@report.command(help="每日要情（某一天）")
@DAY
@FORMAT
@OUT
def daily(on: datetime | None, fmt: str, out: Path) -> None:
    from hotline.projections.reports import day

    _output(_period(day, (on.date() if on else date.today() - timedelta(days=1))), fmt, out)


@report.command(help="周报（周一至周日）")
@DAY
@FORMAT
@OUT
def weekly(on: datetime | None, fmt: str, out: Path) -> None:
    from hotline.projections.reports import week

    _output(_period(week, on.date() if on else date.today()), fmt, out)


@report.command(help="月报")
@click.option("--month", "which", help="月份，如 2026-11（默认本月）")
@FORMAT
@OUT
def monthly(which: str | None, fmt: str, out: Path) -> None:
    from hotline.projections.reports import month

    _output(_period(month, which or f"{date.today():%Y-%m}"), fmt, out)


@report.command(name="range", help="任意区间（含首尾两天）")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
@FORMAT
@OUT
def date_span(first: datetime, last: datetime, fmt: str, out: Path) -> None:
    from hotline.projections.reports import date_range

    _output(_period(date_range, first.date(), last.date()), fmt, out)


@report.command(name="send-daily", help="到点后生成昨天的每日要情并发给 rules/analysis.toml 中的收件人（供 cron 调用）")
def send_daily() -> None:
    services = build_services()
    try:
        day = DailyReports(services).run_once()
    finally:
        services.close()
    click.echo(f"已生成并发送 {day} 的每日要情" if day else "未到生成时间，或当日报告已生成")
