"""The monthly 考核 of departments (三率) as rules: which counts make each rate, and its weight.

``rules/metrics.csv`` names, for each rate, its numerator and denominator from the counts below
and its weight in the overall score; its 说明 column must begin with "numerator ÷ denominator",
so the text a city official reads cannot drift from what the code computes. docs/metrics.md
gives the sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import InvalidInput

# The counts the metrics view keeps per department and month, by the name rules/metrics.csv uses.
COUNTS = {
    "派单数": "dispatched",  # cases dispatched (派单 or 改派) to the department in the month
    "应签收数": "due_for_response",  # dispatched, minus those still inside their signing limit
    "按时签收数": "responded",  # signed no later than the signing deadline
    "回访联系上数": "callbacks",  # callbacks that reached the caller
    "来电人认为已解决数": "resolved",  # of those, the caller said it is solved
    "满意和基本满意数": "satisfied",  # of those, rated 满意 or 基本满意
    "先行联系作答数": "contact_answers",  # reached callbacks where the caller answered 是否先行联系
    "先行联系数": "contacted_first",  # of those, the caller said the department contacted them first
    "应办结数": "due_for_reply",  # replied, or the reply deadline has passed
    "按时办结数": "replied_on_time",  # replied no later than the reply deadline
    # Counted by the month the step happened, from the dispatches and returns themselves (the facts
    # above follow each case to the department now handling it, so a return would leave with it):
    "收到派单数": "dispatches_received",  # 派单 and 改派 the department received in the month
    "退回数": "returned",  # its 退单 that took effect in the month (approved, or from before review)
    "重办数": "rehandled",  # 重办 of its handling in the month (回访不满意或未解决)
    # 协办, counted for the cooperating department, by the month of the case's dispatch like the facts:
    "协办应报送数": "parts_due",  # its parts reported, or whose case's reply deadline has passed
    "协办按时报送数": "parts_on_time",  # its parts reported no later than the case's reply deadline
}
# The rates the ranking shows, by the name rules/metrics.csv uses.
RATES = {
    "响应率": "response",
    "及时签收率": "timely_signing",
    "解决率": "resolution",
    "满意率": "satisfaction",
    "按时办结率": "on_time",
    "回退率": "return",
    "重办率": "rehandling",
    "协办按时报送率": "part_on_time",
}
# Rates where less is better: listed, never weighted into the score (a weight must be 0).
LOWER_IS_BETTER = ("return", "rehandling")


@dataclass(frozen=True)
class RateRule:
    name: str  # 响应率
    key: str  # response
    weight: float  # percent of the overall score
    numerator: str  # a name in COUNTS
    denominator: str  # a name in COUNTS
    description: str

    def __post_init__(self) -> None:
        if self.name not in RATES or RATES[self.name] != self.key:
            raise InvalidInput(f"未知指标 {self.name}，应为{'、'.join(RATES)}")
        for count in (self.numerator, self.denominator):
            if count not in COUNTS:
                raise InvalidInput(f"{self.name} 的分子、分母须为以下计数之一：{'、'.join(COUNTS)}（而不是 {count}）")
        if self.weight < 0:
            raise InvalidInput(f"{self.name} 的权重不能为负数")
        if self.key in LOWER_IS_BETTER and self.weight != 0:
            raise InvalidInput(f"{self.name} 越低越好，只列出、不计入综合得分：权重须为 0")
        if not self.description.startswith(f"{self.numerator} ÷ {self.denominator}"):
            raise InvalidInput(f"{self.name} 的说明须以“{self.numerator} ÷ {self.denominator}”开头，与计算口径一致")

    def rate(self, counts: dict[str, int]) -> float | None:
        return percent(counts[COUNTS[self.numerator]], counts[COUNTS[self.denominator]])


@dataclass(frozen=True)
class MetricRules:
    rates: tuple[RateRule, ...]
    min_cases: int  # a department with fewer cases in the month is listed but not ranked

    def __post_init__(self) -> None:
        names = [rule.name for rule in self.rates]
        if sorted(names) != sorted(RATES):
            raise InvalidInput(f"每项指标须各有一行：{'、'.join(RATES)}（现有 {'、'.join(names) or '无'}）")
        total = sum(rule.weight for rule in self.rates)
        if abs(total - 100) > 1e-6:
            raise InvalidInput(f"各项权重须合计 100（现为 {total:g}）")
        if isinstance(self.min_cases, bool) or not isinstance(self.min_cases, int) or self.min_cases < 1:
            raise InvalidInput("参加排名的最少件数须为正整数")

    def rule(self, key: str) -> RateRule:
        return next(rule for rule in self.rates if rule.key == key)

    def rates_of(self, counts: dict[str, int]) -> dict[str, float | None]:
        """Each rate in percent, by key; None where its denominator is 0."""
        return {rule.key: rule.rate(counts) for rule in self.rates}

    def score(self, rates: dict[str, float | None]) -> float | None:
        """Weighted mean of the rates that can be computed (a rate with no cases carries no weight)."""
        pairs = [(rule.weight, rates[rule.key]) for rule in self.rates if rates[rule.key] is not None]
        total = sum(weight for weight, _ in pairs)
        return round(sum(weight * rate for weight, rate in pairs if rate is not None) / total, 2) if total else None


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None
