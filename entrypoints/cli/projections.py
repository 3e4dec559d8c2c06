"""``hotline projections run|rebuild|status``, ``hotline ledger export`` and ``hotline metrics``."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path

import click

from hotline.domain.errors import DomainError
from hotline.domain.formats import month_bounds, month_start
from hotline.domain.workdays import as_china_time
from hotline.entrypoints.cli.context import build_services, parse_moment
from hotline.infra.bootstrap import Services
from hotline.infra.rebuild_processes import MAX_JOBS, RebuildFailed, rebuild_in_processes
from hotline.infra.store.anchors import ANCHOR_EVERY, AnchorFileBroken, anchors_file, latest_anchor, record_anchor
from hotline.projections.ledger_export import write_ledger
from hotline.projections.months import month_figures
from hotline.projections.read_models import LogRolledBack, ReadModels


def _services() -> Services:
    return build_services()


def _read_models(services: Services) -> ReadModels:
    return services.read_models


def _month(value: str) -> str:
    try:
        month_start(value)
    except DomainError as error:
        raise click.BadParameter(str(error)) from None
    return value


def anchor_every_n_events(services: Services) -> None:
    """Every ``ANCHOR_EVERY`` events, the chain head goes to the anchor file (infra/store/anchors.py)."""
    head = services.app.recorder.select_head()  # type: ignore[attr-defined]
    if head is None:
        return
    key, path = services.config.audit_key_bytes(), anchors_file(services.config.data_dir)
    try:
        latest = latest_anchor(path, key)
    except AnchorFileBroken as error:
        raise click.ClickException(str(error)) from None
    if head.notification_id - (latest.notification_id if latest else 0) >= ANCHOR_EVERY:  # events, not links
        record_anchor(
            path, key, (head.seq, head.mac, head.notification_id), services.clock.now(), f"every-{ANCHOR_EVERY}"
        )


@click.group(help="读模型（投影）：部门待办、期限队列、督办台账、三率、来电人历史。")
def projections() -> None:
    pass


@projections.command(help="持续追平全部读模型，直到收到 SIGTERM 或 Ctrl-C。")
@click.option(
    "--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600), help="无新事件时的轮询间隔（秒）"
)
@click.option("--once", is_flag=True, help="追平一次后退出")
def run(interval: float, once: bool) -> None:
    services = _services()
    read_models = _read_models(services)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    total = 0
    try:
        click.echo(f"读模型追平中（{services.config.store_description()}），Ctrl-C 停止。", err=True)
        # The beat: pages of other processes (gunicorn) read the views as they are (runner_beat.py).
        beat = (lambda _=0: None) if once else (lambda _=0: read_models.beat.beat(interval))
        while not stop.is_set():
            beat()
            try:
                processed = read_models.catch_up(progress=beat)
            except LogRolledBack as error:
                raise click.ClickException(str(error)) from None
            total += processed
            if processed:
                anchor_every_n_events(services)
                click.echo(f"已处理 {processed} 个事件，位置：{read_models.positions()}", err=True)
            if once:
                break
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not once:
            read_models.retire_runner()
        services.close()
    click.echo(f"已停止，本次共处理 {total} 个事件。")


@projections.command(
    help="从第一个事件重建读模型（NAME：cases、supervision、metrics……；不写则全部）。"
    "cases 以集合运算重建（暂存表在一个事务内，完成后一次替换），其余逐个事件重放。"
    "PostgreSQL 上默认分几个进程同时重建（--jobs）。"
)
@click.argument("names", nargs=-1)
@click.option("--incremental", is_flag=True, help="全部逐个事件重放（不用集合运算），用于核对与比较")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help=f"同时重建的进程数（仅 PostgreSQL；默认为 CPU 核数，最多 {MAX_JOBS}）；SQLite 只有一个写入者，总是一个进程",
)
def rebuild(names: tuple[str, ...], incremental: bool, jobs: int | None) -> None:
    from tqdm import tqdm

    services = _services()
    read_models = _read_models(services)
    try:
        unknown = [n for n in names if n not in read_models.views]
        if unknown:
            raise click.BadParameter(f"没有名为 {'、'.join(unknown)} 的读模型，可选：{'、'.join(read_models.views)}")
        chosen = list(names) or list(read_models.views)
        if jobs and jobs > 1 and not services.config.uses_postgres:
            click.echo("SQLite 只有一个写入者：在一个进程中重建。", err=True)
        jobs = jobs or min(os.cpu_count() or 1, MAX_JOBS)
        in_sql = [] if incremental else read_models.set_based(chosen)
        groups = read_models.rebuild_groups(chosen, jobs, set_based=not incremental)
        # each process reads the whole log once per pass: the set-based one, the replayed views'
        passes = sum(bool(set(group) & set(in_sql)) + bool(set(group) - set(in_sql)) for group in groups)
        total = (services.app.recorder.max_notification_id() or 0) * passes
        with tqdm(total=total, desc="重建读模型", unit="事件", file=sys.stderr) as bar:
            try:
                processed = rebuild_in_processes(services, chosen, jobs, set_based=not incremental, progress=bar.update)
            except RebuildFailed as error:
                raise click.ClickException(str(error)) from None
        how = f"（{'、'.join(in_sql)} 以集合运算重建）" if in_sql else ""
        apart = (
            f"，{len(groups)} 个进程同时进行：" + " | ".join("、".join(g) for g in groups) if len(groups) > 1 else ""
        )
        click.echo(f"已重建 {'、'.join(chosen)}：处理 {processed} 个事件{how}{apart}。")
    finally:
        services.close()


@projections.command(help="各读模型已处理到的位置和待处理事件数。")
def status() -> None:
    services = _services()
    read_models = _read_models(services)
    try:
        latest = services.app.recorder.max_notification_id() or 0
        positions = read_models.positions()
        for name, position in positions.items():
            ahead = "  超出事件日志末尾：日志发生回退" if position > latest else ""
            click.echo(f"{name:<12} 位置 {position:>8}  待处理 {max(0, latest - position)}{ahead}")
        problem = read_models.rollback_problem(positions)  # also a rollback new events have overtaken
        followed = "运行中" if read_models.beat.alive() else "未运行（页面在请求中自行追平）"
        click.echo(f"后台追平进程（hotline serve 或 hotline projections run）：{followed}")
    finally:
        services.close()
    if any(position > latest for position in positions.values()):
        raise click.ClickException(
            f"事件日志只到第 {latest} 个事件，读模型却已处理到更后面：最新的事件被删除或事件库被还原为较早的备份"
        )
    if problem:
        raise click.ClickException(problem)


@click.group(help="督办台账。")
def ledger() -> None:
    pass


@ledger.command(name="export", help="把某月的督办台账导出为 Excel（每类来源一个工作表，超期行标红）。")
@click.option("--month", required=True, callback=lambda _c, _p, v: _month(v), help="月份，如 2025-10")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出文件 .xlsx")
@click.option("--as-of", "as_of", help="台账截至的时刻（如 2025-10-31 23:59）；默认月末，月份未结束时为现在")
def export(month: str, out: Path, as_of: str | None) -> None:
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("输出文件须以 .xlsx 结尾", param_hint="--out")
    services = _services()
    read_models = _read_models(services)
    try:
        end = month_bounds(month)[1] - timedelta(microseconds=1)
        moment = as_china_time(parse_moment(as_of)) if as_of else min(end, services.clock.now())
        # The state at that moment, computed from the event history (not today's state).
        rows = read_models.ledger_as_of(month, moment)
        title = f"{month} 督办台账（截至 {moment:%Y-%m-%d %H:%M}）"
        counts = write_ledger(rows, out, title=title, department_name=services.rules.department_name)
    finally:
        services.close()
    summary = "，".join(f"{sheet} {n} 项" for sheet, n in counts.items())
    click.echo(f"已导出 {out}：{summary}；其中超期 {sum(r.any_overdue for r in rows)} 项。")


@click.command(help="某月各承办单位的三率（响应率、解决率、满意率）、综合得分与排名。")
@click.option("--month", required=True, callback=lambda _c, _p, v: _month(v), help="月份，如 2025-10")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def metrics(month: str, as_json: bool) -> None:
    services = _services()
    read_models = _read_models(services)
    try:
        shown = month_figures(services.app, read_models, month)
    finally:
        services.close()
    rows = shown.rows
    if as_json:
        listed = [{**row.as_dict(), "provisional": shown.provisional} for row in rows]
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"{month} 没有派单记录。")
        return

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}%"

    if shown.closed is not None:
        closed = shown.closed
        adjusted = f"，其后调整 {len(closed.adjustments)} 次" if closed.adjustments else ""
        click.echo(f"{month} 承办单位三率排名（已结账：{closed.created_on:%Y-%m-%d %H:%M} 冻结的数据{adjusted}）")
    else:
        click.echo(
            f"{month} 承办单位三率排名（未结账，暂定数据，随办理情况变化；计算时间 {services.clock.now():%Y-%m-%d %H:%M}）"
        )
    click.echo(f"{'排名':<4}{'承办单位':<16}{'派单':>6}{'响应率':>10}{'解决率':>10}{'满意率':>10}{'综合得分':>10}")
    for row in rows:
        score = "—" if row.score is None else f"{row.score:.2f}"
        click.echo(
            f"{row.rank or ('不排名' if row.ranked is False else '—'):<6}{row.department_name:<16}{row.dispatched:>6}"
            f"{rate(row.response_rate):>12}{rate(row.resolution_rate):>12}{rate(row.satisfaction_rate):>12}{score:>12}"
        )
