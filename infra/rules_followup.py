"""Reads the supervision and metrics rule tables: rules/follow_up.csv and rules/metrics.csv.

A rules directory without these files (an older city copy) gets the defaults written in them.
"""

from __future__ import annotations

from pathlib import Path

from domain.follow_up import CALLBACK, MINUTES_SIGNING, WEEKLY_PROGRESS, FollowUpRules
from infra.rules_files import RulesFileError, _rows
from projections.metrics import MetricWeights

FOLLOW_UP_FIELDS = {CALLBACK: "callback_days", WEEKLY_PROGRESS: "progress_days", MINUTES_SIGNING: "minutes_days"}
METRIC_FIELDS = {"响应率": "response", "解决率": "resolution", "满意率": "satisfaction"}


def load_follow_up(path: Path) -> FollowUpRules:
    if not path.exists():
        return FollowUpRules()
    values: dict[str, int] = {}
    for line, row in _rows(path, ["期限代码", "期限名称", "工作日数"]):
        name = FOLLOW_UP_FIELDS.get(row["期限代码"])
        if name is None:
            raise RulesFileError(f"{path.name} 第 {line} 行：未知期限代码 {row['期限代码']}")
        try:
            days = int(row["工作日数"])
        except ValueError:
            raise RulesFileError(f"{path.name} 第 {line} 行：工作日数必须是整数") from None
        if not 0 <= days <= 60:
            raise RulesFileError(f"{path.name} 第 {line} 行：工作日数必须在 0 到 60 之间")
        values[name] = days
    return FollowUpRules(**values)


def load_metric_weights(path: Path) -> MetricWeights:
    if not path.exists():
        return MetricWeights()
    values: dict[str, float] = {}
    for line, row in _rows(path, ["指标", "权重"]):
        name = METRIC_FIELDS.get(row["指标"])
        if name is None:
            raise RulesFileError(f"{path.name} 第 {line} 行：未知指标 {row['指标']}，应为响应率、解决率或满意率")
        try:
            values[name] = float(row["权重"])
        except ValueError:
            raise RulesFileError(f"{path.name} 第 {line} 行：权重必须是数字") from None
    weights = MetricWeights(**values)
    if any(w < 0 for w in (weights.response, weights.resolution, weights.satisfaction)) or abs(weights.total - 100) > 1e-6:
        raise RulesFileError(f"{path.name}：三项权重须为非负数且合计 100（现为 {weights.total:g}）")
    return weights
