"""``hotline audit verify``: recompute the keyed hash chain over the stored events (infra/store/audit_chain.py)."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from hotline.application import HotlineApplication
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.config import Config, ConfigError
from hotline.infra.store.anchors import AnchorFileBroken, anchors_file, latest_anchor, record_anchor
from hotline.infra.store.audit_chain import DELETED, INSERTED, REORDERED, Finding, Verification, verify

KIND_NAMES = {
    "altered": "被改动 altered",
    DELETED: "被删除 deleted",
    INSERTED: "被插入 inserted",
    REORDERED: "被调换次序 reordered",
}
TAMPERED = 1


@click.group(help="审计：核验事件是否被绕过应用篡改（防止数据造假）。")
def audit() -> None:
    pass


def _anchor(text: str | None) -> tuple[int, bytes] | None:
    if not text:
        return None
    try:
        seq, mac = text.split(":", 1)
        anchor = int(seq), bytes.fromhex(mac)
    except ValueError:
        raise click.BadParameter(f"锚点格式应为 序号:摘要（上次核验输出的“链头”），而不是 {text!r}") from None
    if anchor[0] < 1 or len(anchor[1]) != 32:
        raise click.BadParameter(f"锚点格式应为 序号:64 位十六进制摘要，而不是 {text!r}")
    return anchor


@audit.command(
    "verify",
    help="重新计算审计链。完整时退出码 0；否则退出码 1，并指出第一个被改动、删除、插入或调换次序的事件。"
    "只需审计密钥（HOTLINE_AUDIT_KEY，或由加密密钥派生），不解密任何个人信息。",
)
@click.option(
    "--anchor",
    help="上次核验记下的链头（序号:摘要）：可发现链尾被截断或整条链被重写；不给时用锚点文件中最新的锚点",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def verify_command(anchor: str | None, as_json: bool) -> None:
    config = Config.from_env()
    expected = _anchor(anchor)
    try:
        key = config.audit_key_bytes()
        env = Environment(HotlineApplication.name, config.event_store_env(encrypted=False))
        factory = InfrastructureFactory.construct(env)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    anchors = anchors_file(config.data_dir)
    try:
        latest = latest_anchor(anchors, key)
    except AnchorFileBroken as error:
        factory.close()
        click.echo(f"发现篡改 / TAMPERING DETECTED：{error}")
        sys.exit(TAMPERED)
    if expected is None and latest is not None:
        expected = latest.as_pair
    try:
        result = verify(factory.application_recorder(), key, expected)
    finally:
        factory.close()
    click.echo(_json(result) if as_json else _text(result, config))
    if not result.intact:
        sys.exit(TAMPERED)
    head = result.head
    if head is not None and (latest is None or head.seq > latest.seq):
        # The head just verified becomes the anchor the next verification is held to.
        record_anchor(anchors, key, (head.seq, head.mac, head.notification_id), datetime.now(CHINA_TZ), "verify")
    if not as_json:
        click.echo(f"锚点 / anchors：{anchors}（最新锚点 {latest.seq if latest else '无'}，核验后已记下当前链头）")


def _head(result: Verification) -> str | None:
    return f"{result.head.seq}:{result.head.mac.hex()}" if result.head else None


def _json(result: Verification) -> str:
    finding = result.finding
    return json.dumps(
        {
            "intact": result.intact,
            "checked": result.checked,
            "head": _head(result),
            "finding": finding.__dict__ if finding else None,
        },
        ensure_ascii=False,
    )


def _text(result: Verification, config: Config) -> str:
    if result.intact:
        return (
            f"审计链完整 / intact：{config.store_description()} 中 {result.checked} 个事件全部核验通过。\n"
            f"链头 / head（请另行保存，下次用 --anchor 核对）：{_head(result) or '（空）'}"
        )
    finding: Finding = result.finding  # type: ignore[assignment]
    lines = [
        f"发现篡改 / TAMPERING DETECTED：第一个问题是事件{KIND_NAMES[finding.kind]}",
        f"  通知编号 notification id：{finding.notification_id if finding.notification_id is not None else '未知'}",
    ]
    if finding.originator_id:
        lines += [
            f"  聚合 aggregate id：{finding.originator_id}  版本 version：{finding.originator_version}",
            f"  主题 topic：{finding.topic}",
        ]
    lines += [f"  说明：{finding.detail}", f"此前 {result.checked} 个事件核验通过。"]
    return "\n".join(lines)
