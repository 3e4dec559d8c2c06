"""``hotline consume`` and ``hotline produce-demo``: the intake pipeline from the command line."""

from __future__ import annotations

import json
import logging
import random
import signal
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import click

from domain.application import now
from infra.demo import CATEGORY_BY_SERVICE, CHANNEL_WEIGHTS, DESCRIPTIONS, DISTRICTS, GIVEN, STREETS, SURNAMES
from intake.messages import CALL_SCHEMA, Outgoing, Topics, encode

DEFAULT_GROUP = "hotline-intake"

# District centres, so that a share of calls carries coordinates (as app and WeChat ones do).
CENTRES = {"城东区": (30.27, 120.21), "城西区": (30.26, 120.10), "高新区": (30.19, 120.19)}

# How a message can be wrong, and the change that makes it so.
INVALID_KINDS = ("bad_json", "not_utf8", "wrong_type", "unknown_category", "unknown_service",
                 "missing_field", "naive_time", "bad_phone")


@dataclass(frozen=True)
class DemoMessage:
    key: bytes | None
    value: bytes
    call_id: str | None  # None: this message is invalid
    repeat: bool = False  # a redelivery of an earlier valid message


class DemoCalls:
    """Realistic synthetic calls: Chinese text, repeat callers, duplicates and some bad messages."""

    def __init__(self, seed: int | None = None, run_id: str | None = None, reference: datetime | None = None):
        self.rng = random.Random(seed)
        self.run_id = run_id or uuid.UUID(int=self.rng.getrandbits(128)).hex[:8]
        self.now = reference or now()
        self.callers = [self._caller() for _ in range(300)]

    def _caller(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        phone = "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))
        return name, phone

    def call(self, index: int) -> dict:
        rng = self.rng
        # One call in four comes from a frequent caller: history and duplicate detection have work.
        name, phone = rng.choice(self.callers[:40] if rng.random() < 0.25 else self.callers)
        service = rng.choice(list(DESCRIPTIONS))
        district = rng.choice(DISTRICTS)
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        received = self.now - timedelta(seconds=rng.randint(0, 3 * 3600))
        message = {
            "schema": CALL_SCHEMA,
            "call_id": f"{channel}-{self.run_id}-{index:07d}",
            "received_at": received.isoformat(timespec="seconds"),
            "channel": channel,
            "caller": {"name": name if rng.random() > 0.1 else "", "phone": phone},
            "category": CATEGORY_BY_SERVICE.get(service, rng.choice(["complaint", "complaint", "help", "report"])),
            "service_code": service,
            "address": f"{district}{rng.choice(STREETS[district])}{rng.randint(1, 120)}号",
            "description": rng.choice(DESCRIPTIONS[service]),
            "urgency": "urgent" if rng.random() < 0.05 else "normal",
        }
        if channel in ("app", "wechat", "open311"):
            lat, long = CENTRES[district]
            message["lat"] = round(lat + rng.uniform(-0.03, 0.03), 6)
            message["long"] = round(long + rng.uniform(-0.03, 0.03), 6)
        return message

    def spoil(self, message: dict, kind: str) -> bytes:
        message = json.loads(json.dumps(message))
        if kind == "bad_json":
            return encode(message)[:-7]
        if kind == "not_utf8":
            return b"\xff\xfe" + encode(message)  # a byte order mark of UTF-16: not UTF-8
        if kind == "wrong_type":
            message["lat"], message["long"] = "北纬30度", 120.2
        elif kind == "unknown_category":
            message["category"] = "praise"
        elif kind == "unknown_service":
            message["service_code"] = "ufo_sighting"
        elif kind == "missing_field":
            del message[self.rng.choice(["description", "call_id", "caller", "urgency"])]
        elif kind == "naive_time":
            message["received_at"] = message["received_at"][:19]
        elif kind == "bad_phone":
            message["caller"]["phone"] = "请回电"
        return encode(message)

    def messages(self, count: int, invalid_ratio: float = 0.05, duplicate_ratio: float = 0.05) -> list[DemoMessage]:
        out: list[DemoMessage] = []
        valid: list[DemoMessage] = []
        for index in range(count):
            roll = self.rng.random()
            if roll < invalid_ratio:
                kind = INVALID_KINDS[index % len(INVALID_KINDS)]
                out.append(DemoMessage(None, self.spoil(self.call(index), kind), None))
            elif roll < invalid_ratio + duplicate_ratio and valid:
                again = self.rng.choice(valid[-200:])  # a gateway resending a recent call
                out.append(DemoMessage(again.key, again.value, again.call_id, repeat=True))
            else:
                message = self.call(index)
                sent = DemoMessage(message["call_id"].encode(), encode(message), message["call_id"])
                valid.append(sent)
                out.append(sent)
        return out


def _log_setup(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)


@click.command(help="运行 Kafka 消费者：来电入库并自动派单、承办单位回复，以及派单消息发布（outbox）。SIGTERM 时处理完当前批次后退出。")
@click.option("--group", default=DEFAULT_GROUP, show_default=True, help="消费组")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 5000), help="每批最多消息数")
@click.option("--partitions", default=3, show_default=True, type=click.IntRange(1, 256), help="新建主题的分区数")
@click.option("--topic-prefix", default="", help="主题名前缀（共用测试代理或预发布环境时用）")
@click.option("--dispatch/--no-dispatch", default=True, show_default=True, help="是否发布 hotline.dispatch")
@click.option("--log-every", default=10.0, show_default=True, type=click.FloatRange(0.1), help="进度日志间隔（秒）")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"]))
def consume(group: str, batch_size: int, partitions: int, topic_prefix: str, dispatch: bool, log_every: float,
            log_level: str) -> None:
    from infra.cli import _services
    from intake.consumer import IntakeConsumer, send_all
    from intake.dispatch_publisher import DispatchPublisher
    from intake.handlers import Intake
    from intake.kafka_io import ensure_topics, make_producer, wait_for_broker

    _log_setup(log_level)
    services = _services()
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
            services.app, lambda messages: send_all(producer, messages), topics.dispatch,
            position_name=f"kafka:{topics.dispatch}",
        )
        workers.append(threading.Thread(target=publisher.run, args=(stop,), name="dispatch-publisher", daemon=True))
    for worker in workers:
        worker.start()
    consumer = IntakeConsumer(bootstrap, Intake(services.app, topics), group_id=group, batch_size=batch_size,
                              log_every=log_every)
    try:
        consumer.run(stop)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        if producer is not None:
            producer.close(timeout=10)
        services.close()


@click.command("produce-demo", help="发送演示来电消息（中文内容、重复来电人、重复投递、部分无效消息），以便观察处理流程。")
@click.option("--calls", default=1000, show_default=True, type=click.IntRange(1, 1_000_000), help="消息条数")
@click.option("--invalid-ratio", default=0.05, show_default=True, type=click.FloatRange(0, 1), help="无效消息比例")
@click.option("--duplicate-ratio", default=0.05, show_default=True, type=click.FloatRange(0, 1), help="重复投递比例")
@click.option("--seed", type=int, help="随机种子（相同种子生成相同内容）")
@click.option("--topic-prefix", default="", help="主题名前缀")
@click.option("--partitions", default=3, show_default=True, type=click.IntRange(1, 256), help="新建主题的分区数")
@click.option("--expect", type=click.Path(dir_okay=False, writable=True),
              help="把有效 call_id 与无效消息数写入此 JSON 文件（测试核对用）")
def produce_demo(calls: int, invalid_ratio: float, duplicate_ratio: float, seed: int | None, topic_prefix: str,
                 partitions: int, expect: str | None) -> None:
    if invalid_ratio + duplicate_ratio > 1:
        raise click.BadParameter("无效比例与重复比例之和不能超过 1")
    from tqdm import tqdm

    from infra.cli import _services

    services = _services()
    topics = Topics(topic_prefix)
    generated = DemoCalls(seed).messages(calls, invalid_ratio, duplicate_ratio)
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
    click.echo(f"已发送 {len(generated)} 条来电消息到 {where}：有效来电 {len(valid_ids)} 个，重复投递 {repeats} 条，无效 {invalid} 条")
    services.close()


def _produce_to_kafka(bootstrap: str, topics: Topics, partitions: int, messages: list[Outgoing], progress) -> str:
    from intake.consumer import send_all
    from intake.kafka_io import ensure_topics, make_producer

    try:
        ensure_topics(bootstrap, topics.partitions(partitions))
        producer = make_producer(bootstrap)
    except Exception as error:
        raise click.ClickException(f"无法连接 Kafka {bootstrap}：{error}") from None
    try:
        for start in range(0, len(messages), 1000):
            chunk = messages[start:start + 1000]
            send_all(producer, chunk)
            progress(len(chunk))
    finally:
        producer.close(timeout=10)
    return f"Kafka {bootstrap} 主题 {topics.calls}"


def _run_on_bus(services, messages: list[Outgoing], progress) -> str:
    created = dead = 0
    for start in range(0, len(messages), 500):
        chunk = messages[start:start + 500]
        outcome = services.bus.send_many(chunk)
        created += outcome.created
        dead += len(outcome.dead_letters)
        progress(len(chunk))
    return f"进程内总线（新建工单 {created} 件，死信 {dead} 条，{services.config.store_description()}）"
