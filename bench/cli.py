"""``python -m bench …`` (run from the repository): the benchmarks and the generator of their data sets.

    python -m bench write_path [--quick]     cases opened and dispatched per second, beside raw inserts
    python -m bench intake [--quick]         Kafka intake calls/s on PostgreSQL, beside the raw consume rate;
                                             then 1, 2 and 3 consumer processes on the same messages
    python -m bench catchup [--quick]        read-model rebuild events/s at 100k and 1M events, peak RSS
    python -m bench rebuild [--quick]        set-based rebuild beside the replayed one, SQLite and PostgreSQL
    python -m bench pages [--quick]          p50/p95 over HTTP of the inbox, deadline queue and 督办台账
    python -m bench pages_intake [--full]   the same pages quiet and while one consumer stores calls at full speed
                                             (quick size by default: 100k events on this 2-core machine)
    python -m bench kb_search [--quick]      the as-you-type knowledge-base suggestion at 5,000 articles
    python -m bench reports [--quick]        the monthly report at 200k cases, hotspots over a day of 5,000 cases
    python -m bench all [--quick]            all of them, in that order (``make bench``)
    python -m bench generate --events 1000000 --cases 200000

Each writes bench/results/<name>.json (``--out`` elsewhere). PostgreSQL is HOTLINE_BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test); runs use schemas of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from tqdm import tqdm

SIZE_HELP = "--quick：缩小规模，几十秒内跑完；--smoke：最小规模，只检查能否运行"


def _size(quick: bool, smoke: bool) -> str:
    return "smoke" if smoke else "quick" if quick else "full"


def _options(command: Callable) -> Callable:
    command = click.option(
        "--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="结果目录（默认 bench/results）"
    )(command)
    command = click.option("--smoke", is_flag=True, help="最小规模（测试用）")(command)
    return click.option("--quick", is_flag=True, help="缩小规模")(command)


def _report(result, out: Path | None) -> None:
    path = result.write(out)
    for item in result.targets:
        mark = "达标" if item["meets"] else "未达标"
        click.echo(f"  [{mark}] {item['metric']}: {item['value']:,} {item['unit']}（目标 {item['target']}）")
    click.echo(f"结果已写入 {path}")


def _run_write_path(size: str, out: Path | None) -> None:
    from bench import write_path

    repeats = 1 if size == "smoke" else 3
    with tqdm(total=2 * 4 * repeats, desc="write_path", unit="run", file=sys.stderr) as bar:
        result = write_path.run(size, repeats=repeats, progress=bar.update)
    _report(result, out)


def _run_intake(size: str, out: Path | None) -> None:
    from bench import intake

    repeats = 1 if size == "smoke" else 3
    with tqdm(total=repeats, desc="intake", unit="run", file=sys.stderr) as bar:
        result = intake.run(size, repeats=repeats, progress=bar.update)
    _report(result, out)


def _run_catchup(size: str, out: Path | None) -> None:
    from bench import catchup

    total = sum(events * repeats * catchup.PASSES for events, _, repeats in catchup.SIZES[size])
    with tqdm(total=total, desc="catchup", unit="event", unit_scale=True, file=sys.stderr) as bar:
        result = catchup.run(size, progress=bar.update)
    _report(result, out)


def _run_pages(size: str, out: Path | None) -> None:
    from bench import pages

    with tqdm(total=pages.SIZES[size][2], desc="pages", unit="round", file=sys.stderr) as bar:
        result = pages.run(size, progress=bar.update)
    _report(result, out)


def _run_pages_intake(size: str, out: Path | None) -> None:
    from bench import pages_intake

    rounds = 3 * pages_intake.SIZES[size].requests
    with tqdm(total=rounds, desc="pages_intake", unit="round", file=sys.stderr) as bar:
        result = pages_intake.run(size, progress=bar.update)
    _report(result, out)


def _run_kb_search(size: str, out: Path | None) -> None:
    from bench import kb_search

    with tqdm(total=2 * kb_search.SIZES[size], desc="kb_search", unit="article", file=sys.stderr) as bar:
        result = kb_search.run(size, progress=bar.update)
    _report(result, out)


def _run_reports(size: str, out: Path | None) -> None:
    from bench import reports

    with tqdm(total=reports.SIZES[size][0], desc="reports", unit="case", file=sys.stderr) as bar:
        result = reports.run(size, progress=bar.update)
    _report(result, out)


def _run_rebuild(size: str, out: Path | None) -> None:
    from bench import rebuild

    repeats = rebuild.SIZES[size][2]
    with tqdm(total=len(rebuild.STORES) * (4 * repeats + 5), desc="rebuild", unit="run", file=sys.stderr) as bar:
        result = rebuild.run(size, progress=bar.update)
    _report(result, out)


RUNNERS = {
    "write_path": _run_write_path,
    "intake": _run_intake,
    "catchup": _run_catchup,
    "rebuild": _run_rebuild,
    "pages": _run_pages,
    "pages_intake": _run_pages_intake,
    "kb_search": _run_kb_search,
    "reports": _run_reports,
}


@click.group(help="性能基准：写入、Kafka 接入、读模型重建、页面响应时间，各与同次运行的原始基线对比。")
def bench() -> None:
    pass


def _command(name: str, help_text: str) -> None:
    @bench.command(name, help=f"{help_text}（{SIZE_HELP}）")
    @_options
    def command(quick: bool, smoke: bool, out: Path | None) -> None:
        try:
            RUNNERS[name](_size(quick, smoke), out)
        except RuntimeError as error:
            raise click.ClickException(f"基准 {name} 运行失败：{error}") from None


_command("write_path", "写入：每秒受理并派单的工单数（逐件与批量，SQLite 与 PostgreSQL），对比原始插入")
_command("intake", "Kafka 接入：PostgreSQL 上每秒入库并派单的来电数，对比原始消费速度")
_command("catchup", "读模型重建：10 万与 100 万事件时每秒处理的事件数及峰值内存")
_command("rebuild", "重建：cases 以集合运算重建与逐个事件重放对比（SQLite 与 PostgreSQL），每秒事件数及峰值内存")
_command("pages", "页面：承办单位待办、期限队列、督办台账的 HTTP 响应时间 p50/p95")
_command("reports", "报告与热点：20 万件工单的月报生成时间、一天 5000 件新工单的热点与集中诉求检测时间")


@bench.command(
    "pages_intake",
    help="页面与接入同时运行：同一次运行中先空闲、再在一个消费者全速入库来电时、再空闲，测承办单位待办、期限队列、"
    "督办台账的 p50/p95/max，并记录同时的入库速度与读模型滞后"
    "（默认 --quick：10 万事件，适合本机 2 核；--full：100 万）",
)
@click.option("--full", is_flag=True, help="完整规模（100 万事件、20 万件工单）")
@_options
def pages_intake_command(full: bool, quick: bool, smoke: bool, out: Path | None) -> None:
    size = "smoke" if smoke else "full" if full and not quick else "quick"
    try:
        _run_pages_intake(size, out)
    except RuntimeError as error:
        raise click.ClickException(f"基准 pages_intake 运行失败：{error}") from None


_command("kb_search", "知识库：5000 条时边输入边推荐的响应时间 p50/p95（SQLite 与 PostgreSQL），对比无索引的 LIKE 扫描")


@bench.command("all", help=f"依次运行全部基准（{SIZE_HELP}）")
@_options
def run_all(quick: bool, smoke: bool, out: Path | None) -> None:
    for name, runner in RUNNERS.items():
        click.echo(f"== {name}")
        size = _size(quick, smoke)
        if name == "pages_intake" and size == "full":
            size = "quick"  # 1M events generated afresh and intake beside it: too much for 2 cores (--full alone)
        try:
            runner(size, out)
        except RuntimeError as error:
            raise click.ClickException(f"基准 {name} 运行失败：{error}") from None


@bench.command(help="生成基准数据集（PostgreSQL，分批保存），保留在以规模命名的 schema 中供 catchup/pages 复用。")
@click.option("--events", default=1_000_000, show_default=True, type=click.IntRange(1_000, 50_000_000))
@click.option("--cases", default=200_000, show_default=True, type=click.IntRange(100, 10_000_000))
@click.option("--fresh", is_flag=True, help="已有同规模数据集时删除重建")
@click.option("--seed", default=7, show_default=True)
def generate(events: int, cases: int, fresh: bool, seed: int) -> None:
    from bench.dataset import generate_dataset

    if events < cases * 2:
        raise click.BadParameter("每件工单至少 2 个事件（编号与受理），--events 须不少于 --cases 的 2 倍")
    with tqdm(total=cases, desc="生成工单", unit="件", unit_scale=True, file=sys.stderr) as bar:
        dataset = generate_dataset(events, cases, fresh=fresh, seed=seed, progress=bar.update)
    click.echo(f"数据集 {dataset.schema}：{dataset.events} 个事件、{dataset.cases} 件工单；密钥在 {dataset.data_dir}")
