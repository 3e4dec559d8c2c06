"""``hotline consume`` and ``hotline produce-demo``: the intake pipeline from the command line."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading

import click

from hotline.entrypoints.cli.context import build_services
from hotline.infra.demo import DemoCalls
from hotline.intake.messages import Outgoing, Topics

DEFAULT_GROUP = "hotline-intake"


def _log_setup(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)


@click.command(
    help="运行 Kafka 消费者：来电入库并自动派单、承办单位回复，派单消息发布（outbox）和短信邮件通知。SIGTERM 时处理完当前批次后退出。"
)
@click.option("--group", default=DEFAULT_GROUP, show_default=True, help="消费组")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 5000), help="每批最多消息数")
@click.option("--partitions", default=3, show_default=True, type=click.IntRange(1, 256), help="新建主题的分区数")
@click.option("--topic-prefix", default="", help="主题名前缀（共用测试代理或预发布环境时用）")
@click.option("--dispatch/--no-dispatch", default=True, show_default=True, help="是否发布 hotline.dispatch")
@click.option("--notify/--no-notify", default=True, show_default=True, help="是否在本进程发送短信与邮件通知")
@click.option(
    "--reports/--no-reports", default=False, show_default=True, help="是否在本进程按时生成每日要情（serve 默认生成）"
)
@click.option("--log-every", default=10.0, show_default=True, type=click.FloatRange(0.1), help="进度日志间隔（秒）")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"]))
def consume(
    group: str,
    batch_size: int,
    partitions: int,
    topic_prefix: str,
    dispatch: bool,
    notify: bool,
    reports: bool,
    log_every: float,
    log_level: str,
) -> None:
    from hotline.entrypoints.report_jobs import DailyReports
    from hotline.intake.consumer import IntakeConsumer, send_all
    from hotline.intake.dispatch_publisher import DispatchPublisher
    from hotline.intake.handlers import Intake
    from hotline.intake.kafka_io import ensure_topics, make_producer, wait_for_broker

    _log_setup(log_level)
    services = build_services()
    bootstrap = services.config.kafka_bootstrap
    if not bootstrap:
        raise click.ClickException(
            "未配置 HOTLINE_KAFKA_BOOTSTRAP。没有消息代理时由进程内总线直接处理来电（如 hotline produce-demo），无需运行 consume。"
        )
    topics = Topics(topic_prefix)
    try:
        wait_for_broker(bootstrap, timeout=30)
        ensure_topics(bootstrap, topics.partitions(partitions))
    except Exception as error:
        raise click.ClickException(f"无法连接 Kafka {bootstrap}：{error}") from None

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    workers: list[threading.Thread] = []
    producer = None
    if dispatch:
        producer = make_producer(bootstrap)
        publisher = DispatchPublisher(
            services.app,
            lambda messages: send_all(producer, messages),
            topics.dispatch,
            position_name=f"kafka:{topics.dispatch}",
        )
        workers.append(threading.Thread(target=publisher.run, args=(stop,), name="dispatch-publisher", daemon=True))
    if notify:
        workers.append(threading.Thread(target=services.notifier().run, args=(stop,), name="notifier", daemon=True))
    if reports:
        workers.append(
            threading.Thread(target=DailyReports(services).run, args=(stop,), name="daily-reports", daemon=True)
        )
    for worker in workers:
        worker.start()
    consumer = IntakeConsumer(
        bootstrap,
        Intake(services.app, topics, telephony=services.read_models.telephony.record),
        group_id=group,
        batch_size=batch_size,
        log_every=log_every,
    )
    try:
        consumer.run(stop)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        if producer is not None:
            producer.close(timeout=10)
        services.close()


@click.command(
    "produce-demo", help="发送演示来电消息（中文内容、重复来电人、重复投递、部分无效消息），以便观察处理流程。"
)
@click.option("--calls", default=1000, show_default=True, type=click.IntRange(1, 1_000_000), help="消息条数")
@click.option("--invalid-ratio", default=0.05, show_default=True, type=click.FloatRange(0, 1), help="无效消息比例")
@click.option("--duplicate-ratio", default=0.05, show_default=True, type=click.FloatRange(0, 1), help="重复投递比例")
@click.option("--seed", type=int, help="随机种子（相同种子生成相同内容）")
@click.option("--topic-prefix", default="", help="主题名前缀")
@click.option("--partitions", default=3, show_default=True, type=click.IntRange(1, 256), help="新建主题的分区数")
@click.option(
    "--expect",
    type=click.Path(dir_okay=False, writable=True),
    help="把有效 call_id 与无效消息数写入此 JSON 文件（测试核对用）",
)
@click.option(
    "--telephony-calls",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="同时发送今天话务平台的来电事件（hotline.telephony）条数",
)
def produce_demo(
    calls: int,
    invalid_ratio: float,
    duplicate_ratio: float,
    seed: int | None,
    topic_prefix: str,
    partitions: int,
    expect: str | None,
    telephony_calls: int,
) -> None:
    if invalid_ratio + duplicate_ratio > 1:
        raise click.BadParameter("无效比例与重复比例之和不能超过 1")
    from tqdm import tqdm

    services = build_services()
    topics = Topics(topic_prefix)
    generated = DemoCalls(services.clock.now(), seed).messages(calls, invalid_ratio, duplicate_ratio)
    outgoing = [Outgoing(topics.calls, m.key, m.value) for m in generated]
    with tqdm(total=len(outgoing), desc="发送来电消息", unit="条", file=sys.stderr) as bar:
        if services.config.kafka_bootstrap:
            where = _produce_to_kafka(services.config.kafka_bootstrap, topics, partitions, outgoing, bar.update)
        else:
            where = _run_on_bus(services, outgoing, bar.update)
    valid_ids = sorted({m.call_id for m in generated if m.call_id})
    invalid = sum(1 for m in generated if m.call_id is None)
    repeats = sum(1 for m in generated if m.repeat)
    if expect:
        with open(expect, "w", encoding="utf-8") as file:
            json.dump({"valid_call_ids": valid_ids, "invalid": invalid, "repeats": repeats}, file)
    click.echo(
        f"已发送 {len(generated)} 条来电消息到 {where}：有效来电 {len(valid_ids)} 个，重复投递 {repeats} 条，无效 {invalid} 条"
    )
    if telephony_calls:
        click.echo(_produce_telephony(services, topics, partitions, telephony_calls, seed))
    services.close()


def _produce_telephony(services, topics: Topics, partitions: int, calls: int, seed: int | None) -> str:
    """A day of the switch's messages: to hotline.telephony, or straight into the telephony log."""
    from hotline.infra.demo.telephony import encoded, telephony_day
    from hotline.intake.telephony import parse_telephony

    now = services.clock.now()
    day = telephony_day(now.date(), calls, seed if seed is not None else 12345)
    pairs = encoded([m for m in day if m["at"] <= now.isoformat()])  # what has happened by now
    if services.config.kafka_bootstrap:
        outgoing = [Outgoing(topics.telephony, key, value) for key, value in pairs]
        where = _produce_to_kafka(services.config.kafka_bootstrap, topics, partitions, outgoing, lambda n: None)
        where = where.replace(topics.calls, topics.telephony)
    else:
        services.read_models.telephony.record(parse_telephony(value) for _, value in pairs)
        where = "话务记录（进程内）"
    return f"已发送 {len(pairs)} 条话务事件（{calls} 通来电）到 {where}"


def _produce_to_kafka(bootstrap: str, topics: Topics, partitions: int, messages: list[Outgoing], progress) -> str:
    from hotline.intake.consumer import send_all
    from hotline.intake.kafka_io import ensure_topics, make_producer

    try:
        ensure_topics(bootstrap, topics.partitions(partitions))
        producer = make_producer(bootstrap)
    except Exception as error:
        raise click.ClickException(f"无法连接 Kafka {bootstrap}：{error}") from None
    try:
        for start in range(0, len(messages), 1000):
            chunk = messages[start : start + 1000]
            send_all(producer, chunk)
            progress(len(chunk))
    finally:
        producer.close(timeout=10)
    return f"Kafka {bootstrap} 主题 {topics.calls}"


def _run_on_bus(services, messages: list[Outgoing], progress) -> str:
    created = dead = 0
    for start in range(0, len(messages), 500):
        chunk = messages[start : start + 500]
        outcome = services.bus.send_many(chunk)
        created += outcome.created
        dead += len(outcome.dead_letters)
        progress(len(chunk))
    return f"进程内总线（新建工单 {created} 件，死信 {dead} 条，{services.config.store_description()}）"
