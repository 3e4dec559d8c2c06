"""``hotline deadline``, ``hotline demo``, ``hotline cases`` (lists and their exports) and ``hotline serve``."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click
from werkzeug.serving import WSGIRequestHandler

from hotline.domain.case import STATUS_NAMES
from hotline.domain.catalogue import CATEGORIES, codes_named
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
        has_cases = next(services.app.case_ids(), None) is not None
        has_users = next(services.app.all_users(), None) is not None
        if not has_cases and not has_users:
            # Only a store made for the demo gets the README's accounts, never one with real data.
            ensure_demo_users(services.app, services.passwords)
            click.echo("已创建演示账号（见 README）；正式使用前请用 hotline users deactivate 停用")
        elif not force:
            click.echo(
                f"{services.config.store_description()} 中已有工单或账号，跳过演示数据与演示账号（--force 可追加演示工单）。"
            )
            return
        started = services.clock.now()  # before the demo replays its history on the clock
        with tqdm(total=cases, desc="载入演示工单", unit="件", file=sys.stderr) as bar:
            result = DemoLoader(services.app, seed=seed).load(cases, progress=bar.update)
        click.echo(f"已载入 {result.cases} 件演示工单、{result.events} 个事件到 {services.config.store_description()}")
        from hotline.infra.demo.hotspots import plant_hotspots

        water, bikes = plant_hotspots(services.app, started)
        click.echo(
            f"另有集中诉求一起（{len(water)} 位来电人反映解放路与中山路口水管爆裂，{water[0]} 等）"
            f"和上升话题一个（共享单车乱停放，{len(bikes)} 件），见“热点与集中诉求”页面"
        )
        from hotline.infra.demo.telephony import encoded, telephony_day
        from hotline.intake.telephony import parse_telephony

        for day, calls in ((started.date() - timedelta(days=1), 900), (started.date(), 600)):  # the switch's feed too
            feed = [parse_telephony(value) for _, value in encoded(telephony_day(day, calls, seed))]
            services.read_models.telephony.record(e for e in feed if e.at <= started)
    finally:
        services.close()


@click.command(help="列出工单（可按条件筛选），或导出为 Excel / CSV。状态名同 --json 的 status。")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
@click.option("--from", "opened_from", type=click.DateTime(["%Y-%m-%d"]), help="受理日期起，如 2025-10-01")
@click.option("--to", "opened_to", type=click.DateTime(["%Y-%m-%d"]), help="受理日期止（含当日）")
@click.option("--status", "statuses", multiple=True, type=click.Choice(list(STATUS_NAMES)), help="状态，可重复")
@click.option("--category", type=click.Choice(list(CATEGORIES)), help="诉求类别")
@click.option("--service", "service_code", help="服务代码，或大类、小类名称（rules/services.csv）：该级下的全部细项")
@click.option("--district", help="区县名称")
@click.option("--department", help="承办单位代码")
@click.option("--overdue", is_flag=True, help="仅当前期限已过的工单")
@click.option("--urgent", is_flag=True, help="仅紧急工单")
@click.option("--confidential", is_flag=True, help="仅保密来电人的工单")
@click.option("--format", "export_format", type=click.Choice(["xlsx", "csv"]), help="导出格式（需 --out）")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="导出文件")
def cases(
    as_json: bool,
    opened_from: datetime | None,
    opened_to: datetime | None,
    statuses: tuple[str, ...],
    category: str | None,
    service_code: str | None,
    district: str | None,
    department: str | None,
    overdue: bool,
    urgent: bool,
    confidential: bool,
    export_format: str | None,
    out: Path | None,
) -> None:
    from hotline.domain.errors import InvalidInput
    from hotline.projections.case_lists import CaseFilter, csv_lines, every, write_xlsx

    if (export_format is None) != (out is None):
        raise click.UsageError("导出需同时给出 --format 与 --out")
    services = build_services()
    try:
        rules = services.rules
        service_codes = codes_named(rules.services, service_code) if service_code else ()
        if service_code and not service_codes:
            raise click.BadParameter(f"未知服务代码或大类、小类名称：{service_code}", param_hint="--service")
        if district and district not in rules.districts:
            raise click.BadParameter(f"未知区县：{district}", param_hint="--district")
        if department and department not in rules.departments:
            raise click.BadParameter(f"未知承办单位代码：{department}", param_hint="--department")
        try:
            chosen = CaseFilter(
                statuses=statuses,
                category=category,
                service_codes=service_codes,
                district=district,
                department=department,
                opened_from=opened_from.date() if opened_from else None,
                opened_to=opened_to.date() if opened_to else None,
                overdue=overdue,
                urgent=urgent,
                confidential=confidential,
            )
        except InvalidInput as error:
            raise click.UsageError(str(error)) from None
        models = services.read_models
        models.catch_up()
        now = services.clock.now()
        rows = every(models.cases, chosen, now)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            if export_format == "csv":
                count = 0
                with out.open("w", encoding="utf-8", newline="") as file:
                    for count, line in enumerate(csv_lines(rows, rules, now)):  # noqa: B007 - the count is wanted
                        file.write(line)
            else:
                count = write_xlsx(rows, out, rules, now, f"工单列表（导出于 {now:%Y-%m-%d %H:%M}）")
            click.echo(f"已导出 {count} 件工单到 {out}")
            return
        for row in rows:
            if as_json:
                record = {
                    "ticket_no": row.ticket_no,
                    "call_id": row.call_id,
                    "status": row.status,
                    "department": row.department,
                    "sign_by": row.sign_by.isoformat() if row.sign_by else None,
                    "reply_by": row.reply_by.isoformat() if row.reply_by else None,
                    "deadline_provisional": row.deadline_provisional,
                    "category": row.category,
                    "service_code": row.service_code,
                    "channel": row.channel,
                    "urgency": row.urgency,
                    "district": row.district,
                    "opened_at": row.opened_at.isoformat(),
                    "version": row.version,
                    "migrated_from": row.migrated_from,  # 迁移数据: the previous system's 工单编号
                }
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                reply_by = row.reply_by.isoformat() if row.reply_by else ""
                click.echo(
                    f"{row.ticket_no}  {row.status_name:<8}  {rules.department_name(row.department):<14}"
                    f"  {reply_by:<25}  {row.description[:24]}"
                    + (f"  [迁移数据 {row.migrated_from}]" if row.migrated else "")
                )
    finally:
        services.close()


@click.command(help="启动网页服务（同时在后台发送到期的短信与邮件通知）。")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--notify/--no-notify", default=True, show_default=True, help="是否在本进程发送通知")
@click.option("--reports/--no-reports", default=True, show_default=True, help="是否在本进程按时生成每日要情")
@click.option(
    "--projections/--no-projections",
    default=True,
    show_default=True,
    help="是否在本进程后台更新读模型（否则每个页面在请求中自行更新）",
)
@click.option("--demo", is_flag=True, help="允许演示账号仍在启用时启动（make run 使用；页面显示“演示数据”）")
def serve(host: str, port: int, notify: bool, reports: bool, projections: bool, demo: bool) -> None:
    import threading

    from hotline.entrypoints.report_jobs import start_daily_reports
    from hotline.infra.bootstrap import demo_refusal
    from hotline.web import create_app

    services = build_services()
    if refused := demo_refusal(services, demo or services.config.demo):
        services.close()
        raise click.ClickException(refused)
    app = create_app(services)
    stop = threading.Event()
    if projections:  # the projection runner: pages read the views, waiting only for their own writes
        threading.Thread(target=services.read_models.follow, args=(stop,), name="projections", daemon=True).start()
    if notify:
        threading.Thread(target=services.notifier().run, args=(stop,), name="notifier", daemon=True).start()
    if reports:
        start_daily_reports(services, stop)  # 每日要情 at the time rules/analysis.toml names
    # The audit chain checked in the background: a break shows as a red banner on supervisor pages.
    threading.Thread(target=services.integrity.run, args=(stop,), name="integrity", daemon=True).start()
    if host in ("127.0.0.1", "localhost", "::1") and app.config["SESSION_COOKIE_SECURE"]:
        # Plain HTTP on this machine only: Secure cookies would never come back over it.
        app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    click.echo(f"工单系统已启动：http://{host}:{port}/  （数据：{services.config.store_description()}）")
    app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=QuietHandler)


class QuietHandler(WSGIRequestHandler):
    """The development server's handler, naming no server or Python version in its replies."""

    def version_string(self) -> str:
        return "hotline"
