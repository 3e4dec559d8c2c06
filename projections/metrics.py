"""Monthly department metrics (三率, view ``metrics``): one fact row per case, grouped when read.

The view counts, per department and month of dispatch, what rules/metrics.csv makes the rates of
(``domain/metrics.py`` applies it; docs/metrics.md gives the sources); the ranking orders the
departments by the weighted score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.case import Case
from hotline.projections.base import Row, RowView, Table, stamp
from hotline.projections.store import ViewRecorder

FACTS = Table(
    "hv_case_facts",
    (
        "id",
        "ticket_no",
        "department",
        "dispatched_at",
        "sign_by",
        "signed_at",
        "callback_reached",
        "resolved_per_caller",
        "satisfaction",
        "contacted_first",
        "reply_by",
        "replied_at",
    ),
    "id TEXT PRIMARY KEY, ticket_no TEXT NOT NULL, department TEXT, dispatched_at TEXT, sign_by TEXT, "
    "signed_at TEXT, callback_reached INTEGER, resolved_per_caller INTEGER, satisfaction TEXT, "
    "contacted_first INTEGER, reply_by TEXT, replied_at TEXT",
    (
        "month: dispatched_at, department",
        # Covering the month's grouped count (``month``): a month of dispatches without visiting the rows.
        "month_figures: dispatched_at, department, signed_at, sign_by, callback_reached, resolved_per_caller, "
        "satisfaction, contacted_first, reply_by, replied_at",
    ),
)
SATISFIED = ("satisfied", "basically_satisfied")


@dataclass(frozen=True)
class MetricRow:
    month: str
    department: str
    department_name: str
    dispatched: int  # 派单数
    due_for_response: int  # 应签收数: dispatched minus those still inside their signing limit
    responded: int  # 按时签收数
    callbacks: int  # 回访联系上的件数
    resolved: int  # 来电人认为已解决
    satisfied: int  # 满意 + 基本满意
    response_rate: float | None  # 响应率 (先行联系), percent
    resolution_rate: float | None  # 解决率, percent
    satisfaction_rate: float | None  # 满意率, percent
    score: float | None  # 综合得分 0–100
    rank: int | None
    contact_answers: int = 0  # 先行联系作答数
    contacted_first: int = 0  # 先行联系数
    due_for_reply: int = 0  # 应办结数
    replied_on_time: int = 0  # 按时办结数
    timely_signing_rate: float | None = None  # 及时签收率
    on_time_rate: float | None = None  # 按时办结率
    ranked: bool = True  # False: fewer cases than rules/ranking.toml asks, listed without a rank
    dispatches_received: int = 0  # 收到派单数: 派单 and 改派 received in the month
    returned: int = 0  # 退回数: its returns that took effect in the month
    rehandled: int = 0  # 重办数: 重办 of its handling in the month
    return_rate: float | None = None  # 回退率 (less is better; shown, not scored)
    rehandling_rate: float | None = None  # 重办率 (less is better; shown, not scored)
    parts_due: int = 0  # 协办应报送数: its parts (as 协办单位) reported, or past the case's reply deadline
    parts_on_time: int = 0  # 协办按时报送数: reported by the case's reply deadline
    part_on_time_rate: float | None = None  # 协办按时报送率

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rank_rows(rows: list[MetricRow], min_cases: int = 1) -> list[MetricRow]:
    """Highest score first; equal scores share a rank (1, 1, 3); no score, or fewer than ``min_cases``
    cases (rules/ranking.toml), no rank (listed last, marked not ranked)."""
    rows = [r if r.dispatched >= min_cases else MetricRow(**{**r.__dict__, "ranked": False}) for r in rows]
    scored = sorted((r for r in rows if r.score is not None and r.ranked), key=lambda r: (-r.score, r.department))
    ranked: list[MetricRow] = []
    previous: float | None = None
    rank = 0
    for position, row in enumerate(scored, 1):
        if row.score != previous:
            rank, previous = position, row.score
        ranked.append(MetricRow(**{**row.__dict__, "rank": rank}))
    unscored = sorted((r for r in rows if r.score is None or not r.ranked), key=lambda r: r.department)
    return ranked + unscored


class MetricsView(RowView):
    name = "metrics"
    tables = (FACTS,)

    def __init__(self, view: ViewRecorder):
        self.handlers = self._handlers()
        super().__init__(view)

    def _handlers(self) -> dict:
        def opened(row: Row, e: Any) -> None:
            row["ticket_no"] = e.ticket_no

        def dispatched(row: Row, e: Any) -> None:
            row.update(
                department=e.department,
                dispatched_at=stamp(e.timestamp),
                sign_by=stamp(e.sign_by),
                reply_by=stamp(e.reply_by),
                replied_at=None,
                contacted_first=None,
                signed_at=None,
                callback_reached=None,
                resolved_per_caller=None,
                satisfaction=None,
            )

        def signed(row: Row, e: Any) -> None:
            row["signed_at"] = stamp(e.timestamp)

        def called_back(row: Row, e: Any) -> None:
            if not e.reached and not getattr(e, "unreachable", True):
                return  # one attempt that did not reach the caller: no verdict yet
            first = getattr(e, "contacted_first", None)
            row.update(
                contacted_first=None if first is None else int(first),
                callback_reached=int(e.reached),
                satisfaction=e.satisfaction,
                resolved_per_caller=None if e.resolved is None else int(e.resolved),
            )

        def reopened(row: Row, e: Any) -> None:
            row.update(callback_reached=None, resolved_per_caller=None, satisfaction=None, contacted_first=None)

        def replied(row: Row, e: Any) -> None:
            row["replied_at"] = stamp(e.timestamp)

        def extended(row: Row, e: Any) -> None:
            row["reply_by"] = stamp(e.reply_by)

        handlers = {
            Case.Opened: (opened, True),
            # 迁移数据: the previous system's handling is not counted (docs/metrics.md); a migrated
            # case counts from a dispatch here, in that dispatch's month, like any case.
            Case.Migrated: (opened, True),
            Case.Dispatched: (dispatched, False),
            Case.Redispatched: (dispatched, False),
            Case.Signed: (signed, False),
            Case.CallbackRecorded: (called_back, False),
            Case.CalledBack: (called_back, False),
            Case.Reopened: (reopened, False),
            Case.Rehandled: (reopened, False),
            Case.Replied: (replied, False),
            Case.ExtensionApproved: (extended, False),
        }
        return {cls: (FACTS, fn, creates) for cls, (fn, creates) in handlers.items()}

    def month(self, month_start: str, month_end: str, now: datetime) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(SATISFIED))
        sql = (
            "SELECT department, COUNT(*) AS dispatched, "
            "SUM(CASE WHEN signed_at IS NOT NULL AND signed_at <= sign_by THEN 1 ELSE 0 END) AS responded, "
            "SUM(CASE WHEN signed_at IS NULL AND sign_by > ? THEN 1 ELSE 0 END) AS pending, "
            "SUM(CASE WHEN callback_reached = 1 THEN 1 ELSE 0 END) AS callbacks, "
            "SUM(CASE WHEN callback_reached = 1 AND resolved_per_caller = 1 THEN 1 ELSE 0 END) AS resolved, "
            f"SUM(CASE WHEN callback_reached = 1 AND satisfaction IN ({marks}) THEN 1 ELSE 0 END) AS satisfied, "
            "SUM(CASE WHEN callback_reached = 1 AND contacted_first IS NOT NULL THEN 1 ELSE 0 END) AS contact_answers, "
            "SUM(CASE WHEN callback_reached = 1 AND contacted_first = 1 THEN 1 ELSE 0 END) AS contacted_first, "
            "SUM(CASE WHEN replied_at IS NOT NULL OR reply_by <= ? THEN 1 ELSE 0 END) AS due_for_reply, "
            "SUM(CASE WHEN replied_at IS NOT NULL AND replied_at <= reply_by THEN 1 ELSE 0 END) AS replied_on_time "
            f"FROM {self.view.table(FACTS.name)} "
            "WHERE dispatched_at >= ? AND dispatched_at < ? AND department IS NOT NULL GROUP BY department"
        )
        return self.view.query(sql, [stamp(now), *SATISFIED, stamp(now), month_start, month_end])
