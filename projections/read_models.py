"""All read models behind one object (``services.read_models``): catching up, rebuilding, queries.

Catching up pulls the application's notification log from the lowest position among the views,
decodes each notification once for all views, and hands every view the events past its own
position: one transaction per view per batch, rows and position together. It is the same pull
loop on SQLite and PostgreSQL. Two processes catching up at once (the web app and
``hotline projections run``) are safe: the loser of a race gets an IntegrityError on the
tracking row, its transaction rolls back, and it re-reads the positions and carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking

from hotline.application import HotlineApplication
from hotline.domain.case import AWAITING_DISPATCH, DEADLINE_OF_STATUS, DISPATCHED, REPLIED, SIGNED
from hotline.domain.deadlines import is_overdue
from hotline.domain.errors import InvalidInput
from hotline.domain.formats import month_bounds as month_moments
from hotline.domain.workdays import as_china_time
from hotline.projections.base import RowView, stamp
from hotline.projections.caller_key import CallerKey
from hotline.projections.case_rebuild import SET_BASED, CaseRebuild, covers
from hotline.projections.cases import DUPLICATE_WINDOW, CaseIndex, CaseRow
from hotline.projections.cooperation import CooperationView, PartRow
from hotline.projections.knowledge import ArticleRow, KnowledgeIndex
from hotline.projections.ledger import LedgerRow, MeetingRow, SupervisionLedger
from hotline.projections.log_mark import LogMark
from hotline.projections.metrics import MetricRow, MetricsView, rank_rows
from hotline.projections.notifications import NotificationPlan
from hotline.projections.rebuild_plan import groups as rebuild_groups
from hotline.projections.report_view import DISPATCHED as DISPATCHED_STEP
from hotline.projections.report_view import REHANDLED as REHANDLED_STEP
from hotline.projections.report_view import RETURNED as RETURNED_STEP
from hotline.projections.report_view import ReportFacts
from hotline.projections.runner_beat import RunnerBeat
from hotline.projections.store import ViewRecorder, open_view_recorder
from hotline.projections.telephony import TelephonyLog
from hotline.projections.text_search import Segmenter

BATCH_SIZE = 5000
# How long a page waits for the read models to reach the user's own last write (read-your-writes)
# when a runner keeps them up to date outside the request; then it shows what it has, and says so.
WAIT_FOR_OWN_WRITE = 2.0
FOLLOW_INTERVAL = 0.2  # the runner's pause when the log has nothing new
# This many events applied (in one long catch-up: a restored backup, a runner back after an outage,
# a new data set; or in many short ones, as a runner following heavy intake makes) leave the
# planner's statistics and PostgreSQL's visibility map far behind the tables, so the deadline queue's
# counts visit the heap until autovacuum has run (at 1M events, p95 149 ms right after a catch-up
# against 40 ms after a rebuild's VACUUM ANALYZE; autovacuum waits for a fifth of a table to change).
# Then the views' statistics are refreshed, as a rebuild does.
REFRESH_AFTER = 50_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Freshness:
    """How far the read models a page showed had got: ``pending`` notifications not yet in them;
    ``own_write_missing``: the user's last write was not in them yet when the wait ran out."""

    position: int
    pending: int
    own_write_missing: bool = False

    @property
    def lagging(self) -> bool:
        return self.pending > 0


SIGNING = "signing"
REPLYING = "replying"
CALLBACK = "callback"
WEEKLY_PROGRESS = "weekly_progress"
MONTHLY_FEEDBACK = "monthly_feedback"
SUPERVISION_DUE = "supervision_due"
MINUTES_SIGNING = "minutes_signing"
HANDOFF = "handoff"
INTERIM_FEEDBACK = "interim_feedback"
DISPATCHING = "dispatching"  # 派单时限: the dispatch centre's own deadline
DEADLINE_KINDS = {
    HANDOFF: "转警",
    DISPATCHING: "派单",
    INTERIM_FEEDBACK: "阶段性反馈",
    SIGNING: "签收",
    REPLYING: "答复",
    CALLBACK: "回访",
    WEEKLY_PROGRESS: "每周进度报送",
    MONTHLY_FEEDBACK: "每月落实反馈",
    SUPERVISION_DUE: "督办事项办结",
    MINUTES_SIGNING: "会议纪要送签",
}


@dataclass(frozen=True)
class InboxRow:
    ticket_no: str
    status: str
    status_name: str
    category: str
    service_code: str
    urgency: str
    description: str
    address: str
    opened_at: datetime
    deadline_kind: str  # "签收" while unsigned, then "答复"
    next_deadline: datetime | None
    overdue: bool
    provisional: bool
    urge_count: int
    version: int
    interim_by: datetime | None = None  # an urgent case's interim feedback (阶段性反馈), if owed
    interim_given_at: datetime | None = None
    extension_pending: int | None = None  # working days asked for, waiting for approval
    return_pending: bool = False  # a return waiting for the dispatch centre's review
    return_rejection: str | None = None  # why the dispatch centre refused the latest return
    cooperating: int = 0  # 协办单位 named on the case (the lead's inbox)
    parts_outstanding: int = 0  # of those, still to report their part


@dataclass(frozen=True)
class DeadlineRow:
    kind: str
    kind_name: str
    reference: str  # ticket number, supervision item reference or meeting reference
    department: str  # who must act; "" for meeting minutes (the general office)
    due_at: datetime
    overdue: bool
    provisional: bool
    summary: str


def case_deadline_provisional(kind: str, row: CaseRow) -> bool:
    """Whether a case's deadline of ``kind`` rests on a year whose arrangement is not published: the
    signing and reply deadlines as their dispatch records it, the callback deadline as its reply
    does; the 派单时限 runs on natural hours and never is."""
    if kind == CALLBACK:
        return bool(row.callback_provisional)
    if kind == DISPATCHING:
        return False
    return bool(row.deadline_provisional)


def month_bounds(month: str) -> tuple[str, str]:
    """The month as stored-text bounds [start, end)."""
    start, end = month_moments(month)
    return stamp(start) or "", stamp(end) or ""


STOPPED = (
    "读模型已停止更新，以免新事件被跳过；请先运行 hotline audit verify 查明原因，"
    "确认后用 hotline projections rebuild 重建读模型。"
)


class LogRolledBack(RuntimeError):
    """The event log is behind the read models: they stop rather than skip new events."""


class ReadModels:
    def __init__(
        self,
        app: HotlineApplication,
        recorder: ViewRecorder,
        caller_key: CallerKey,
        batch_size: int = BATCH_SIZE,
    ):
        self.app = app
        self.rules = rules = app.rules
        self.recorder = recorder
        self.caller_key = caller_key
        self.batch_size = batch_size
        self.cases = CaseIndex(recorder, caller_key, rules.calendar, rules.follow_up, rules.handling.dispatch)
        self.cooperation = CooperationView(recorder)  # 主办 / 协办: the parts of cooperating departments
        self.supervision = SupervisionLedger(recorder)
        self.metrics_view = MetricsView(recorder)
        self.segmenter = Segmenter(
            rules.terms,
            [word for service in rules.services.values() for word in (service.name, *service.keywords)],
        )
        self.knowledge = KnowledgeIndex(recorder, self.segmenter, {c: s.name for c, s in rules.services.items()})
        self.notifications = NotificationPlan(recorder, rules.notifications)
        self.report_facts = ReportFacts(recorder, caller_key, self.segmenter)
        self.views: dict[str, RowView] = {
            v.name: v
            for v in (
                self.cases,
                self.supervision,
                self.metrics_view,
                self.knowledge,
                self.notifications,
                self.report_facts,
                self.cooperation,
            )
        }
        for view in self.views.values():
            view.create_tables()
        self.mark = LogMark(recorder)  # the last event read: a rollback overtaken by new events stops them
        self.mark.create()
        # The switch's feed (hotline.telephony): kept as received, not a view of the events (no rebuild).
        self.telephony = TelephonyLog(recorder, caller_key, rules.analysis.telephony)
        self.telephony.create_tables()
        self.beat = RunnerBeat(recorder)  # a runner in another process says it follows (gunicorn)
        self.beat.create()
        self._lock = threading.Lock()
        self._unrefreshed = 0  # events read since the views' statistics were refreshed (REFRESH_AFTER)
        self.followed = False  # a runner (``follow``) in this process keeps the views up to date

    # ---- keeping up ------------------------------------------------------------------------

    def positions(self, views: Sequence[RowView] | None = None) -> dict[str, int]:
        """Each view's position (all by default), read in one query."""
        chosen = list(self.views.values()) if views is None else views
        found = self.recorder.positions([view.tracking_name for view in chosen])
        return {view.name: found[view.tracking_name] for view in chosen}

    def catch_up(
        self,
        *,
        views: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        refresh_statistics: bool = True,
    ) -> int:
        """Process every pending event for the views (all by default); returns how many events
        of the log were read past the slowest view's position. Cheap when nothing is new. Once
        ``REFRESH_AFTER`` events or more were read since the last refresh (by this process, in this
        catch-up or over several), the views' statistics are refreshed (``analyse``)."""
        chosen = [self._view(name) for name in views] if views else list(self.views.values())
        with self._lock:
            processed = None
            for _ in range(10):
                try:
                    processed = self._catch_up(chosen, progress)
                    break
                except IntegrityError:
                    continue  # another process moved a view on: re-read positions and go on
            if processed is None:
                processed = self._catch_up(chosen, progress)
            self._unrefreshed += processed
            refresh = refresh_statistics and self._unrefreshed >= REFRESH_AFTER
            if refresh:
                self._unrefreshed = 0
        if refresh:
            # table by table, with the beat between: a runner is not taken for gone meanwhile
            between = (lambda: progress(0)) if progress else None
            self.recorder.analyse([table.name for view in chosen for table in view.tables], between)
        return processed

    def _catch_up(self, chosen: list[RowView], progress: Callable[[int], None] | None) -> int:
        positions = self.positions(chosen)
        wanted = {topic for view in chosen for topic in view.topics}
        start = min(positions.values())
        processed = 0
        page, decoded = self._read(start, wanted)
        problem = self.rollback_problem(positions, overtaken_only=bool(page))
        if problem:
            raise LogRolledBack(problem)
        while page:
            processed += self._apply(chosen, positions, page, decoded, start)
            self.mark.note(page[-1])
            start = page[-1].id
            if progress:
                progress(len(page))
            page, decoded = self._read(start, wanted)
        return processed

    def _read(self, start: int, wanted: set[str]) -> tuple[list[Any], list[tuple[int, Any]]]:
        """The next page of the log after ``start``, with its events for the views decoded."""
        page = self.app.recorder.select_notifications(start, self.batch_size, inclusive_of_start=False)
        mapper, chosen = self.app.mapper, [n for n in page if n.topic in wanted]
        # The sealing mapper reads the page's per-case keys in one query (infra/store/personal_keys.py).
        decode_all = getattr(mapper, "to_domain_events", None)
        events = decode_all(chosen) if decode_all else [mapper.to_domain_event(n) for n in chosen]
        return page, [(n.id, event) for n, event in zip(chosen, events, strict=True)]

    def _apply(
        self,
        chosen: list[RowView],
        positions: dict[str, int],
        page: list[Any],
        decoded: list[tuple[int, Any]],
        start: int,
    ) -> int:
        last = page[-1].id
        for view in chosen:
            position = positions[view.name]
            if position >= last:
                continue
            events = [event for number, event in decoded if number > position]
            view.process_batch(events, Tracking(view.tracking_name, last))
            positions[view.name] = last
        return sum(1 for n in page if n.id > start)

    # ---- kept up to date outside the request ---------------------------------------------------

    def follow(self, stop: threading.Event, interval: float = FOLLOW_INTERVAL) -> None:
        """The projection runner (a thread of ``hotline serve``, or ``hotline projections run``):
        catch up, and again as soon as there is something new. While it runs, pages read the
        views directly (``fresh_for``) instead of catching up inside the request."""
        self.followed = True
        try:
            while not stop.is_set():
                try:
                    self.beat.beat(interval)
                    processed = self.catch_up(progress=lambda _: self.beat.beat(interval))
                except Exception:  # the store restarting, say: keep following, say what happened
                    log.exception("读模型更新失败，稍后重试 / catching up failed; retrying")
                    processed = 0
                if not processed:
                    stop.wait(interval)
        finally:
            self.followed = False
            self.retire_runner()

    def retire_runner(self) -> None:
        """A runner stops: its beat goes, so other processes' pages catch up themselves at once."""
        try:
            self.beat.stop()
        except Exception:  # the store is gone: the beat goes stale on its own
            log.warning("无法删除读模型后台进程的心跳记录 / could not remove the runner's beat", exc_info=True)

    def is_followed(self) -> bool:
        """Whether a runner keeps the views up to date: a thread here, or another process (its beat)."""
        return self.followed or self.beat.alive()

    def position(self) -> int:
        """The notification id every view has processed up to (the slowest view's)."""
        return min(self.positions().values())

    def fresh_for(self, written: int | None, wait: float = WAIT_FOR_OWN_WRITE) -> Freshness:
        """What a page reads before it shows the views. No runner: catch up here, as before. A
        runner (here or in another process): wait (at most ``wait`` seconds) until the views
        include ``written``, the notification id of the user's own last write, and report how
        far they got."""
        if not self.is_followed():
            self.catch_up()
            return Freshness(self.position(), 0)
        deadline = time.monotonic() + wait
        position = self.position()
        while written is not None and position < written and time.monotonic() < deadline:
            time.sleep(0.01)
            position = self.position()
        latest = self.app.recorder.max_notification_id() or 0
        missing = written is not None and position < written
        return Freshness(position, max(0, latest - position), own_write_missing=missing)

    def set_based(self, names: Sequence[str] | None = None) -> list[str]:
        """Which of the named views (all by default) a rebuild computes in SQL (``case_rebuild.py``);
        the others are replayed through their handlers."""
        chosen = list(names) if names else list(self.views)
        return [name for name in chosen if name in SET_BASED and covers(self._view(name))]

    def rebuild_groups(self, names: Sequence[str] | None, jobs: int, *, set_based: bool = True) -> list[list[str]]:
        """The named views (all by default) in groups for ``jobs`` processes rebuilding at once
        (``rebuild_plan.py``). One group on SQLite: it has one writer, and the set-based case index
        holds it for its whole pass."""
        chosen = list(names) if names else list(self.views)
        if self.recorder.dialect != "postgres" or jobs <= 1:
            return [chosen]
        return rebuild_groups(chosen, jobs, self.set_based(chosen) if set_based else ())

    def forget_mark(self) -> None:
        """Before every view is rebuilt by processes of which each rebuilds some (``rebuild`` does
        it itself when it rebuilds them all)."""
        self.mark.forget()

    def rebuild(
        self,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        *,
        set_based: bool = True,
    ) -> int:
        """Build the named views (all by default) again from the first event: those ``set_based``
        names in SQL over a staging table, in one transaction that swaps the new rows in; the others
        dropped and replayed through the incremental path. ``set_based=False``: every view replayed.
        Returns how many notifications the longest pass read."""
        chosen = list(names) if names else list(self.views)
        for name in chosen:
            self._view(name)  # an unknown name refused before anything is dropped
        in_sql = self.set_based(chosen) if set_based else []
        replayed = [name for name in chosen if name not in in_sql]
        read = 0
        with self._lock:
            for name in replayed:
                self._view(name).drop(indexes=False)
            if set(chosen) == set(self.views):
                self.mark.forget()  # every view starts again from the first event
            if self.cases.name in in_sql:  # SET_BASED: the case index alone so far
                rebuild = CaseRebuild(self.cases, self.app.recorder, self.app.mapper, self.batch_size)
                count, last = rebuild.run(progress)
                read = max(read, count)
                if last is not None:
                    self.mark.note(last)
        if replayed:
            try:
                read = max(read, self.catch_up(views=replayed, progress=progress, refresh_statistics=False))
            finally:
                for name in replayed:
                    self._view(name).create_tables()  # the indexes, each built once over the full table
        self.recorder.analyse([table.name for name in chosen for table in self._view(name).tables])
        self._unrefreshed = 0
        return read

    def rollback_problem(self, positions: dict[str, int] | None = None, overtaken_only: bool = False) -> str | None:
        """Why the views must stop, or None. A view past the end of the log means the log went
        backwards (newest events deleted, an older backup restored beside newer views): new events
        would reuse ids the views think they have read and never reach them. And once new events
        have overtaken the old position, the count looks right, but the last event the views read
        is gone or another one (``LogMark``). Stop instead of skipping them."""
        positions = self.positions() if positions is None else positions
        if not overtaken_only:
            latest = self.app.recorder.max_notification_id() or 0
            ahead = {name: position for name, position in positions.items() if position > latest}
            if ahead:
                name, position = max(ahead.items(), key=lambda item: item[1])
                return (
                    f"事件日志发生回退：读模型 {name} 已处理到第 {position} 个事件，而事件日志只到第 {latest} 个"
                    "（最新的事件被删除，或事件库被还原为较早的备份）。" + STOPPED
                )
        replaced = self.mark.replaced(self.app.recorder)
        if replaced:
            return (
                f"事件日志发生回退后又写入了新事件：{replaced}（最新的事件被删除或事件库被还原为较早的备份，"
                "之后的新事件越过了原来的位置，事件数看起来正常）。" + STOPPED
            )
        return None

    def pending(self) -> int:
        """How many notifications the slowest view has still to read."""
        latest = self.app.recorder.max_notification_id() or 0
        return max(0, latest - min(self.positions().values()))

    def _view(self, name: str) -> RowView:
        try:
            return self.views[name]
        except KeyError:
            raise InvalidInput(f"没有名为 {name} 的读模型，可选：{'、'.join(self.views)}") from None

    def close(self) -> None:
        self.recorder.datastore.close()  # type: ignore[attr-defined]

    def _moment(self, now: datetime | None) -> datetime:
        """``now`` as given (Beijing time), or the application's clock."""
        return as_china_time(now) if now else self.app.clock.now()

    # ---- department inbox -------------------------------------------------------------------

    def inbox(
        self, department: str, *, limit: int = 50, offset: int = 0, now: datetime | None = None
    ) -> tuple[list[InboxRow], int]:
        moment = self._moment(now)
        rows, total = self.cases.open_for(department, limit, offset)
        parts = self.cooperation.summaries([row.ticket_no for row in rows])
        inbox = [self._inbox_row(row, moment) for row in rows]
        return [
            replace(row, cooperating=summary.cooperating, parts_outstanding=summary.outstanding)
            if (summary := parts.get(row.ticket_no))
            else row
            for row in inbox
        ], total

    def cooperation_inbox(
        self, department: str, *, limit: int = 50, now: datetime | None = None
    ) -> tuple[list[PartRow], int]:
        """协办工单: the cases in hand where ``department`` cooperates, its part's state, still to report first."""
        return self.cooperation.for_department(department, self._moment(now), limit)

    @staticmethod
    def _inbox_row(row: CaseRow, moment: datetime) -> InboxRow:
        deadline = row.next_deadline
        return InboxRow(
            ticket_no=row.ticket_no,
            status=row.status,
            status_name=row.status_name,
            category=row.category,
            service_code=row.service_code,
            urgency=row.urgency,
            description=row.description,
            address=row.address,
            opened_at=row.opened_at,
            deadline_kind="签收" if row.status == DISPATCHED else "答复",
            next_deadline=deadline,
            overdue=is_overdue(deadline, moment),
            provisional=row.deadline_provisional,
            urge_count=row.urge_count,
            version=row.version,
            interim_by=row.interim_by,
            interim_given_at=row.interim_given_at,
            extension_pending=row.extension_pending,
            return_pending=row.return_requested_at is not None,
            return_rejection=row.return_rejection,
        )

    def dispatch_queue(self, limit: int = 30, offset: int = 0) -> tuple[list[CaseRow], int]:
        """The dispatch centre's queue: every case waiting for dispatch, urgent first, then oldest."""
        return self.cases.dispatch_queue(limit, offset)

    def awaiting_review(self, limit: int = 100) -> tuple[tuple[int, list[CaseRow]], tuple[int, list[CaseRow]]]:
        """The review queues: returns for the dispatch centre (退单审核), extensions for the approvers."""
        return self.cases.awaiting_review(limit)

    # ---- deadline queue ---------------------------------------------------------------------

    def deadline_queue(
        self,
        now: datetime | None = None,
        *,
        kinds: Sequence[str] | None = None,
        department: str | None = None,
        due_within_hours: float = 24 * 3,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[DeadlineRow], int]:
        """Everything due within ``due_within_hours`` of ``now`` or already overdue, soonest first."""
        moment = self._moment(now)
        unknown = [k for k in kinds or () if k not in DEADLINE_KINDS]
        if unknown:
            raise InvalidInput(f"未知期限类型：{'、'.join(unknown)}")
        chosen = set(kinds or DEADLINE_KINDS)
        horizon = moment + timedelta(hours=due_within_hours)
        start = max(0, int(offset))
        wanted = start + max(0, int(limit))
        found: list[DeadlineRow] = []
        total = 0

        def add(kind: str, reference: str, dept: str | None, due: datetime | None, provisional: bool, summary: str):
            if due is not None:
                found.append(
                    DeadlineRow(
                        kind,
                        DEADLINE_KINDS[kind],
                        reference,
                        dept or "",
                        due,
                        is_overdue(due, moment),
                        provisional,
                        summary[:60],
                    )
                )

        # Cases can be many: count each kind in SQL and fetch only the soonest that could be on the
        # requested page (the page's rows are among the first offset + limit of each kind).
        case_kinds = [
            (kind, status, column)
            for kind, status, column in (
                (SIGNING, DISPATCHED, DEADLINE_OF_STATUS[DISPATCHED]),
                (REPLYING, SIGNED, DEADLINE_OF_STATUS[SIGNED]),
                (CALLBACK, REPLIED, "callback_by"),
                *((DISPATCHING, status, "dispatch_by") for status in AWAITING_DISPATCH),
            )
            if kind in chosen
        ]
        case_counts, due_cases = self.cases.due_before(case_kinds, horizon, department, wanted)
        total += sum(case_counts)
        for number, row in due_cases:
            kind, _, column = case_kinds[number]
            add(
                kind,
                row.ticket_no,
                row.department,
                getattr(row, column),
                case_deadline_provisional(kind, row),
                row.description,
            )
        if HANDOFF in chosen or INTERIM_FEEDBACK in chosen:
            handoffs, interims = self.cases.emergency_due(horizon, department, wanted)
            for kind, column, (count, rows) in (
                (HANDOFF, "handoff_by", handoffs),
                (INTERIM_FEEDBACK, "interim_by", interims),
            ):
                if kind in chosen:
                    total += count
                    for row in rows:
                        add(kind, row.ticket_no, row.department, getattr(row, column), False, row.description)
        item_kinds = [
            (kind, column)
            for kind, column in (
                (WEEKLY_PROGRESS, "progress_due"),
                (MONTHLY_FEEDBACK, "feedback_due"),
                (SUPERVISION_DUE, "due_at"),
            )
            if kind in chosen
        ]
        due_items = self.supervision.open_items_due(
            [column for _, column in item_kinds], horizon, department, moment, wanted
        )
        for (kind, column), (count, items) in zip(item_kinds, due_items, strict=True):
            total += count
            for item in items:
                add(
                    kind, item.reference_no, item.lead_department, getattr(item, column), item.provisional, item.content
                )
        counted = len(found)
        if MINUTES_SIGNING in chosen and not department:
            for meeting in self.supervision.meetings_due(horizon):
                add(MINUTES_SIGNING, meeting.reference_no, "", meeting.minutes_due, meeting.provisional, meeting.title)
        found.sort(key=lambda r: (r.due_at, r.kind, r.reference))
        return found[start:wanted], total + len(found) - counted

    # ---- supervision ledger -----------------------------------------------------------------

    def ledger(
        self,
        *,
        month: str | None = None,
        source: str | None = None,
        status: str | list[str] | None = None,
        department: str | None = None,
        limit: int = 100,
        offset: int = 0,
        now: datetime | None = None,
    ) -> tuple[list[LedgerRow], int]:
        """督办台账 rows (by source, then registration); with ``month``: the items open during it."""
        moment = self._moment(now)
        start, end = month_bounds(month) if month else (None, None)
        return self.supervision.rows(
            moment,
            month_start=start,
            month_end=end,
            source=source,
            status=status,
            department=department,
            limit=limit,
            offset=offset,
        )

    def ledger_as_of(self, month: str, moment: datetime) -> list[LedgerRow]:
        """The month's 督办台账 as it stood at ``moment``, computed from the event history: the
        same ledger view, built afresh in memory from the events recorded up to then."""
        moment = as_china_time(moment)
        view = SupervisionLedger(
            open_view_recorder({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"})
        )
        try:
            view.create_tables()
            start, last = None, 0
            while page := self.app.recorder.select_notifications(
                start, 1000, topics=list(view.topics), inclusive_of_start=False
            ):
                events = [e for e in map(self.app.mapper.to_domain_event, page) if e.timestamp <= moment]
                last, start = page[-1].id, page[-1].id
                if events:
                    view.process_batch(events, Tracking(view.tracking_name, last))
            begin, end = month_bounds(month)
            rows, _ = view.rows(moment, month_start=begin, month_end=end, limit=1_000_000)  # type: ignore[arg-type]
            return rows
        finally:
            view.view.datastore.close()  # type: ignore[attr-defined]

    def ledger_item(self, reference_no: str, now: datetime | None = None) -> LedgerRow | None:
        return self.supervision.get(reference_no, self._moment(now))

    def meetings(self) -> list[MeetingRow]:
        return self.supervision.meetings()

    # ---- monthly metrics --------------------------------------------------------------------

    def metrics(self, month: str, now: datetime | None = None) -> list[MetricRow]:
        """三率 and the overall score of every department with cases dispatched in ``month``, ranked."""
        moment = self._moment(now)
        start, end = month_bounds(month)
        rules = self.rules.metrics
        rows = []
        facts = {fact["department"]: dict(fact) for fact in self.metrics_view.month(start, end, moment)}
        # Returns and 重办 by the month they happened (the daily totals of the reports view): a case
        # returned leaves the department's facts above with the case, the return stays its own.
        steps = self.report_facts.by_department(start[:10], end[:10], (DISPATCHED_STEP, RETURNED_STEP, REHANDLED_STEP))
        parts = self.cooperation.month(start, end, moment)  # 协办, for the cooperating department
        for department in sorted({*facts, *(dept for dept, _ in steps), *parts}):
            fact = facts.get(department) or {"department": department, "dispatched": 0}
            dispatched, pending = int(fact["dispatched"]), int(fact.get("pending") or 0)
            counts = {
                "dispatched": dispatched,
                "due_for_response": dispatched - pending,
                "responded": int(fact.get("responded") or 0),
                "callbacks": int(fact.get("callbacks") or 0),
                "resolved": int(fact.get("resolved") or 0),
                "satisfied": int(fact.get("satisfied") or 0),
                "contact_answers": int(fact.get("contact_answers") or 0),
                "contacted_first": int(fact.get("contacted_first") or 0),
                "due_for_reply": int(fact.get("due_for_reply") or 0),
                "replied_on_time": int(fact.get("replied_on_time") or 0),
                "dispatches_received": steps.get((department, DISPATCHED_STEP), 0),
                "returned": steps.get((department, RETURNED_STEP), 0),
                "rehandled": steps.get((department, REHANDLED_STEP), 0),
                **parts.get(department, {"parts_due": 0, "parts_on_time": 0}),
            }
            rates = rules.rates_of(counts)
            rows.append(
                MetricRow(
                    month=month,
                    department=fact["department"],
                    department_name=self.rules.department_name(fact["department"]),
                    **counts,
                    response_rate=rates["response"],
                    resolution_rate=rates["resolution"],
                    satisfaction_rate=rates["satisfaction"],
                    timely_signing_rate=rates["timely_signing"],
                    on_time_rate=rates["on_time"],
                    return_rate=rates["return"],
                    rehandling_rate=rates["rehandling"],
                    part_on_time_rate=rates["part_on_time"],
                    score=rules.score(rates),
                    rank=None,
                )
            )
        return rank_rows(rows, rules.min_cases)

    # ---- caller history ---------------------------------------------------------------------

    def caller_history(
        self, phone: str, *, service_code: str | None = None, now: datetime | None = None, limit: int = 20
    ) -> list[CaseRow]:
        """The caller's cases (by the keyed hash of the number), newest first."""
        until = as_china_time(now) if now else None
        return self.cases.by_caller(phone, service_code=service_code, until=until, limit=limit)

    def possible_duplicates(
        self, phone: str, service_code: str, now: datetime | None = None, exclude: str | None = None
    ) -> list[CaseRow]:
        """The same caller with the same service code within the last 30 days."""
        moment = self._moment(now)
        rows = self.cases.by_caller(phone, service_code=service_code, since=moment - DUPLICATE_WINDOW, until=moment)
        return [row for row in rows if row.ticket_no != exclude]

    # ---- the emergency queue and the knowledge base ------------------------------------------------

    def emergencies(self, department: str | None = None, limit: int = 20) -> tuple[list[CaseRow], int]:
        """Open emergency cases for the top of every console (a department sees its own)."""
        return self.cases.emergencies(department, limit)

    def suggest_articles(self, text: str, now: datetime | None = None, limit: int = 5) -> list[ArticleRow]:
        """The best matching published articles for a description still being typed."""
        return self.knowledge.search(text, self._moment(now).date(), limit=limit, typing=True)

    def search_articles(self, text: str, now: datetime | None = None, limit: int = 10) -> list[ArticleRow]:
        return self.knowledge.search(text, self._moment(now).date(), limit=limit)

    def knowledge_coverage(self, now: datetime | None = None, days: int = 90) -> list[tuple[str, int, int]]:
        """(service code, calls in the last ``days``, published articles valid today), the services
        with calls but no article first: where the knowledge base is missing."""
        moment = self._moment(now)
        covered = self.knowledge.covered_services(moment.date())
        calls = self.cases.calls_by_service(moment - timedelta(days=days))
        rows = [(code, count, covered.get(code, 0)) for code, count in calls.items()]
        return sorted(rows, key=lambda r: (r[2] > 0, -r[1], r[0]))

    # ---- plumbing for tests and the CLI -------------------------------------------------------

    def dump(self, name: str) -> dict[str, list[tuple]]:
        return self._view(name).dump()

    def retention_due(self, cutoff: datetime) -> list[str]:
        """The cases finished at or before ``cutoff`` whose personal data is not erased yet, oldest
        first: what ``hotline privacy retention run`` proposes (each is checked again on the case)."""
        return [row.ticket_no for row in self.cases.stream(erased=False, finished_by=cutoff)][::-1]

    def checkpoint(self) -> bool:
        """After an erasure: SQLite's WAL emptied into the views file, so that the rows' earlier
        versions are gone from it (False: a reader held on, the next checkpoint does it).
        PostgreSQL: nothing to do here (docs/privacy.md: dead rows until VACUUM)."""
        checkpoint = getattr(self.recorder, "checkpoint", None)
        return bool(checkpoint()) if checkpoint is not None else True

    def search(self, **filters: Any) -> tuple[list[CaseRow], int]:
        return self.cases.search(**filters)
