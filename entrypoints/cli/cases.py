"""``hotline deadline``, ``hotline demo``, ``hotline cases`` and ``hotline serve``."""

from __future__ import annotations

import json
import sys

import click

from hotline.entrypoints.cli.context import build_services, parse_moment
from hotline.infra.config import Config
from hotline.infra.rule_files import RulesFileError, load_calendar


@click.command(help="计算期限：从某一时刻起加若干工作日或小时（起算当日不计）。")
@click.option("--from", "start", required=True, help='起算时刻，如 "2025-09-30 16:00"（北京时间）')
@click.option("--working-days", type=click.IntRange(0, 366), help="工作日数")
@click.option("--hours", type=click.FloatRange(0, 24 * 366), help="小时数")
@click.option(
    "--clock",
    type=click.Choice(["natural", "working"]),
    default="natural",
    show_default=True,
    help="小时的计时方式：natural 自然时间，working 只计工作日",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def deadline(start: str, working_days: int | None, hours: float | None, clock: str, as_json: bool) -> None:
    if (working_days is None) == (hours is None):
        raise click.UsageError("请给出 --working-days 或 --hours 中的一个")
    try:
        calendar = load_calendar(Config.from_env().rules_dir / "calendar.toml")
    except RulesFileError as error:
        raise click.ClickException(str(error)) from None
    moment = parse_moment(start)
    if working_days is not None:
        due = calendar.add_working_days(moment, working_days)
    else:
        assert hours is not None
        due = calendar.add_hours(moment, hours, clock)
    if as_json:
        click.echo(json.dumps({"due": due.isoformat(), "provisional": due.provisional}))
        return
    click.echo(due.isoformat())
    if due.provisional:
        years = sorted({y for y in range(moment.year, due.at.year + 1) if not calendar.is_known(y)})
        click.echo(
            f"暂定（provisional）：{'、'.join(map(str, years))} 年的节假日安排尚未录入，按周一至周五计算。"
            "公布后请在 rules/calendar.toml 中补充。"
        )


@click.command(help="载入演示数据：数百件各种状态的工单，含重复来电人。已有数据时跳过。")
@click.option("--cases", default=400, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=12345, show_default=True)
@click.option("--force", is_flag=True, help="已有数据时仍然追加")
def demo(cases: int, seed: int, force: bool) -> None:
    from tqdm import tqdm

    from hotline.infra.demo import DemoLoader, ensure_demo_users

    services = build_services()
    try:
        if ensure_demo_users(services.app, services.passwords):
            click.echo("已创建演示账号（见 README）")
        if not force and next(services.app.case_ids(), None) is not None:
            click.echo(f"{services.config.store_description()} 中已有工单，跳过演示数据（--force 可追加）。")
            return
        with tqdm(total=cases, desc="载入演示工单", unit="件", file=sys.stderr) as bar:
            result = DemoLoader(services.app, seed=seed).load(cases, progress=bar.update)
        click.echo(f"已载入 {result.cases} 件演示工单、{result.events} 个事件到 {services.config.store_description()}")
    finally:
        services.close()


@click.command(help="列出全部工单。")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
def cases(as_json: bool) -> None:
    services = build_services()
    try:
        for case in services.app.all_cases():
            row = {
                "ticket_no": case.ticket_no,
                "call_id": case.call_id,
                "status": case.status,
                "department": case.department,
                "sign_by": case.sign_by.isoformat() if case.sign_by else None,
                "reply_by": case.reply_by.isoformat() if case.reply_by else None,
                "deadline_provisional": case.deadline_provisional,
                "category": case.category,
                "service_code": case.service_code,
                "channel": case.channel,
                "urgency": case.urgency,
                "opened_at": case.created_on.isoformat(),
                "version": case.version,
            }
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(
                    f"{case.ticket_no}  {case.status_name:<8}  {services.rules.department_name(case.department):<14}"
                    f"  {row['reply_by'] or '':<25}  {case.description[:24]}"
                )
    finally:
        services.close()


@click.command(help="启动网页服务（同时在后台发送到期的短信与邮件通知）。")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--notify/--no-notify", default=True, show_default=True, help="是否在本进程发送通知")
def serve(host: str, port: int, notify: bool) -> None:
    import threading

    from hotline.web import create_app

    services = build_services()
    app = create_app(services)
    if notify:
        stop = threading.Event()
        threading.Thread(target=services.notifier().run, args=(stop,), name="notifier", daemon=True).start()
    if host in ("127.0.0.1", "localhost", "::1") and app.config["SESSION_COOKIE_SECURE"]:
        # Plain HTTP on this machine only: Secure cookies would never come back over it.
        app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    click.echo(f"工单系统已启动：http://{host}:{port}/  （数据：{services.config.store_description()}）")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
