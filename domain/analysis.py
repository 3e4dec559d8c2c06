"""The rules of the data analysis (rules/analysis.toml): when the daily report is made and who
receives it, when a topic counts as rising and cases as one matter, the call centre's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from hotline.domain.errors import InvalidInput


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


@dataclass(frozen=True)
class DailyReport:
    at: time  # Beijing time
    recipients: tuple[Recipient, ...]
    basis: str


@dataclass(frozen=True)
class HotspotRules:
    baseline_days: int
    min_count: int
    min_ratio: float
    min_z: float
    cluster_days: int
    cluster_radius_m: float
    cluster_similarity: float
    cluster_min_callers: int
    basis: str

    def __post_init__(self) -> None:
        if not 1 <= self.baseline_days <= 90 or not 1 <= self.cluster_days <= 30:
            raise InvalidInput("baseline_days 须在 1 到 90 之间，cluster_days 须在 1 到 30 之间")
        if self.min_count < 1 or self.min_ratio <= 1 or self.min_z <= 0:
            raise InvalidInput("min_count 至少为 1，min_ratio 须大于 1，min_z 须为正数")
        if not 0 < self.cluster_similarity <= 1 or self.cluster_radius_m <= 0 or self.cluster_min_callers < 2:
            raise InvalidInput(
                "cluster_similarity 须在 0 到 1 之间，cluster_radius_m 为正数，cluster_min_callers 至少为 2"
            )


@dataclass(frozen=True)
class TelephonyRules:
    callback_within_minutes: float
    answer_within_seconds: float
    target_answer_rate: float
    basis: str

    def __post_init__(self) -> None:
        if self.callback_within_minutes <= 0 or self.answer_within_seconds <= 0:
            raise InvalidInput("回拨时限与接通秒数须为正数")
        if not 0 < self.target_answer_rate <= 100:
            raise InvalidInput("target_answer_rate 须在 0 到 100 之间")


@dataclass(frozen=True)
class AnalysisRules:
    daily_report: DailyReport
    hotspots: HotspotRules
    telephony: TelephonyRules
