"""Reports and hotspots at scale: the monthly report over a month of 200,000 cases, and hotspot
detection (rising words and 集中诉求) over a day of 5,000 new cases, on SQLite views.

The read side is measured: the view tables are filled directly with rows shaped exactly as the
projections write them (``hv_cases``, ``hv_report_facts`` with the cut words, ``hv_case_facts``,
``hv_telephony``), from the demo vocabulary, so that the run takes minutes rather than the hours
200,000 cases through the application would (the write path and catch-up have their own benchmarks).
What the projection adds per case on catch-up, cutting the description into words, is measured
beside it. Baseline in the same run: ``SELECT COUNT(*)`` of the month's cases.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bench.harness import Progress, Result, median, no_progress, target
from hotline.application import HotlineApplication, SimulatedClock
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo.vocabulary import CATEGORY_BY_SERVICE, DESCRIPTIONS, DISTRICTS, STREETS
from hotline.infra.rule_files import DEFAULT_RULES_DIR, load_rules
from hotline.projections.base import stamp
from hotline.projections.caller_key import CallerKey
from hotline.projections.cases import CASES
from hotline.projections.hotspots import Hotspots
from hotline.projections.metrics import FACTS as METRIC_FACTS
from hotline.projections.read_models import ReadModels
from hotline.projections.report_view import (
    CALLERS,
    DAYS,
    FACTS,
    add_callers,
    add_days,
    add_words,
    callers_tally,
    tally,
)
from hotline.projections.reports import DailyCounts, FactCounts, compile_report, month
from hotline.projections.store import open_view_recorder
from hotline.projections.telephony import CALLS, HOURS

SIZES = {"full": (200_000, 5_000), "quick": (40_000, 2_000), "smoke": (3_000, 300)}
MONTH = "2026-11"
FIRST = date(2026, 11, 1)
REPEATS = 3
DEPARTMENTS = ["HBJ", "CGJ", "ZJJ", "SWJ", "GAJ", "JTJ", "WJW", "SCJ"]
ENDINGS = ["dispatched", "signed", "replied", "closed", "closed", "closed", "answered", "opened"]


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, clock_time(rng.randint(8, 20), rng.randint(0, 59), rng.randint(0, 59)), CHINA_TZ)


def fill(models: ReadModels, cases: int, last_day: int, progress: Progress, seed: int = 17) -> int:
    """A month of ``cases`` cases (``last_day`` of them on the month's last day), written as the views
    hold them; returns the number of report-fact rows."""
    rng = random.Random(seed)
    view = models.recorder
    filled = (models.cases, models.report_facts, models.metrics_view)
    for table_view in filled:
        table_view.drop(indexes=False)  # filled first, indexed once at the end (as a rebuild does)
    segment = models.segmenter.distinct
    cut: dict[str, str] = {}
    days = (month(MONTH).last - FIRST).days + 1
    callers = [uuid.uuid4().hex for _ in range(cases // 3)]
    facts_written = 0
    used: dict[tuple[str, str], int] = {}  # the words table's (day, word) counts
    batch_cases: list[tuple] = []
    batch_facts: list[tuple] = []
    batch_metrics: list[tuple] = []
    for number in range(cases):
        day = FIRST + timedelta(days=days - 1 if number < last_day else rng.randrange(days - 1))
        opened = _moment(day, rng)
        service = rng.choice(list(DESCRIPTIONS))
        district = rng.choice(DISTRICTS)
        text = rng.choice(DESCRIPTIONS[service])
        words = cut.setdefault(text, " ".join(segment(text)))
        for word in words.split():
            used[(day.isoformat(), word)] = used.get((day.isoformat(), word), 0) + 1
        ending = rng.choice(ENDINGS)
        department = None if ending in ("opened", "answered") else rng.choice(DEPARTMENTS)
        case_id = str(uuid.uuid4())
        dispatched = opened + timedelta(minutes=rng.randint(5, 120)) if department else None
        reply_by = opened + timedelta(days=rng.randint(3, 15))
        closed = opened + timedelta(days=rng.randint(1, 10)) if ending in ("closed", "answered") else None
        status = {"closed": "closed", "answered": "answered"}.get(ending, ending)
        row: dict[str, Any] = dict.fromkeys(CASES.columns)
        row.update(
            id=case_id,
            ticket_no=f"{day:%Y%m%d}-{number:06d}",
            status=status,
            department=department,
            category=CATEGORY_BY_SERVICE.get(service, "complaint"),
            service_code=service,
            channel=rng.choice(["phone", "phone", "phone", "wechat", "web", "app"]),
            urgency="urgent" if rng.random() < 0.03 else "normal",
            district=district,
            address=f"{district}{rng.choice(STREETS[district])}{rng.randint(1, 200)}号",
            description=text,
            caller_key=rng.choice(callers),
            opened_at=stamp(opened),
            updated_at=stamp(closed or dispatched or opened),
            dispatched_at=stamp(dispatched),
            sign_by=stamp(opened + timedelta(days=1)) if department else None,
            reply_by=stamp(reply_by) if department else None,
            closed_at=stamp(closed),
            deadline_provisional=0,
            urge_count=0,
            reply_result="",
            version=3,
        )
        batch_cases.append(tuple(row[c] for c in CASES.columns))
        batch_facts.append(
            (
                f"{case_id}:opened",
                case_id,
                "opened",
                row["opened_at"],
                row["channel"],
                row["category"],
                service,
                district,
                row["urgency"],
                row["caller_key"],
                department,
                words,
            )
        )
        if dispatched:
            batch_facts.append(
                (f"{case_id}:2", case_id, "dispatched", stamp(dispatched), *[None] * 6, department, None)
            )
            replied = closed - timedelta(hours=2) if closed else None
            fact = {
                "id": case_id,
                "ticket_no": row["ticket_no"],
                "department": department,
                "dispatched_at": stamp(dispatched),
                "sign_by": row["sign_by"],
                "signed_at": stamp(dispatched),
                "callback_reached": 1 if closed else None,
                "resolved_per_caller": 1 if closed else None,
                "satisfaction": "satisfied" if closed else None,
                "contacted_first": 1 if closed else None,
                "reply_by": row["reply_by"],
                "replied_at": stamp(replied),
            }
            batch_metrics.append(tuple(fact[c] for c in METRIC_FACTS.columns))
        if closed:
            kind = "answered" if ending == "answered" else "closed"
            batch_facts.append((f"{case_id}:5", case_id, kind, stamp(closed), *[None] * 6, department, None))
        if len(batch_cases) >= 5000 or number == cases - 1:
            with view.writing(None) as cursor:
                view.upsert(cursor, CASES.name, CASES.columns, batch_cases)
                view.upsert(cursor, FACTS.name, FACTS.columns, batch_facts)
                view.upsert(cursor, METRIC_FACTS.name, METRIC_FACTS.columns, batch_metrics)
                add_days(view, cursor, tally(batch_facts))  # the daily totals, as the reports view keeps them
                add_callers(view, cursor, callers_tally(batch_facts))
            facts_written += len(batch_facts)
            progress(len(batch_cases))
            batch_cases, batch_facts, batch_metrics = [], [], []
    calls = []
    for number in range(cases):  # about one call per case
        day = FIRST + timedelta(days=rng.randrange(days))
        offered = _moment(day, rng)
        answered = rng.random() > 0.08
        wait = rng.expovariate(1 / 9)
        calls.append(
            (
                f"call-{number}",
                rng.choice(callers),
                stamp(offered),
                stamp(offered + timedelta(seconds=wait)) if answered else None,
                f"A{rng.randint(1, 12):02d}" if answered else None,
                None if answered else stamp(offered + timedelta(seconds=30)),
                None,
                None,
                stamp(offered + timedelta(seconds=wait + 240)) if answered else None,
                None,
                None,
                wait if answered else None,
                240.0 if answered else None,
            )
        )
    with view.writing(None) as cursor:
        view.upsert(cursor, CALLS.name, CALLS.columns, calls)
        add_words(view, cursor, used)
    models.telephony.rebuild_hours()  # the hourly totals, as start-up makes them from the calls
    for table_view in filled:
        table_view.create_tables()
    view.analyse([CASES.name, FACTS.name, DAYS.name, CALLERS.name, METRIC_FACTS.name, CALLS.name, HOURS.name])
    return facts_written


def sections(models: ReadModels, period: Any, now: datetime) -> dict[str, float]:
    """Where a monthly report's time goes: each of its parts timed once, as compile_report calls it."""
    counts, hot = DailyCounts(models), Hotspots(models)
    judged = min(now, period.end)
    opened = {"opened_from": period.start, "opened_to": period.end}
    red = now - timedelta(hours=models.rules.notifications.settings.red_card_hours)
    parts = {
        "daily_totals": lambda: (counts.flows(period), counts.opened_by(period), counts.services_opened(period)),
        "overdue_count": lambda: models.cases.search(limit=0, overdue_at=judged, **opened),
        "metrics_of_the_month": lambda: models.metrics(f"{period.last:%Y-%m}", now=now),
        "repeat_callers": lambda: counts.repeat_callers(period, 10),
        "leaders_cases": lambda: (
            models.cases.search(limit=20, urgent=True, **opened),
            models.cases.search(limit=20, overdue_at=red),
        ),
        "rising_words": lambda: hot.rising(judged, days=7),
        "clusters": lambda: hot.clusters(judged),
        "call_centre": lambda: models.telephony.figures(period.start, period.end, now),
    }
    timed = {}
    for name, part in parts.items():
        started = time.perf_counter()
        part()
        timed[name] = round(time.perf_counter() - started, 3)
    return timed


def run(size: str = "full", progress: Progress = no_progress) -> Result:
    cases, day_cases = SIZES[size]
    result = Result("reports", quick=size != "full")
    result.parameters = {
        "cases_in_month": cases,
        "cases_on_last_day": day_cases,
        "store": "SQLite views",
        "repeats": REPEATS,
    }
    rules = load_rules(DEFAULT_RULES_DIR)
    end_of_month = datetime(2026, 12, 1, 8, 0, tzinfo=CHINA_TZ)
    app = HotlineApplication(
        rules=rules, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=SimulatedClock(end_of_month)
    )
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as directory:
        recorder = open_view_recorder(
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(Path(directory) / "views.sqlite3")}
        )
        models = ReadModels(app, recorder, CallerKey(b"bench-caller-key-0123456789abcdef"))
        try:
            started = time.perf_counter()
            facts = fill(models, cases, day_cases, progress)
            result.figures["fill_seconds"] = round(time.perf_counter() - started, 1)
            result.parameters["report_fact_rows"] = facts
            # The report from the daily totals, and the old path (every fact of the month scanned)
            # as the baseline, interleaved so that both see the same load; both must agree.
            timings, scanned, report, reference = [], [], None, None
            for _ in range(REPEATS):
                started = time.perf_counter()
                report = compile_report(models, month(MONTH), now=end_of_month)
                timings.append(time.perf_counter() - started)
                started = time.perf_counter()
                reference = compile_report(models, month(MONTH), now=end_of_month, counts=FactCounts(models))
                scanned.append(time.perf_counter() - started)
            assert report is not None and reference is not None and report.total == reference.total == cases
            assert report.flows == reference.flows and report.by_service == reference.by_service
            assert report.by_department == reference.by_department and report.by_channel == reference.by_channel
            result.figures["monthly_report"] = {
                "seconds": round(median(timings), 3),
                "repeats": [round(t, 3) for t in timings],
                "counted_from": "daily totals (hv_report_days)",
            }
            result.figures["monthly_report_sections"] = sections(models, month(MONTH), end_of_month)
            result.baseline["monthly_report_scanning_the_facts_seconds"] = round(median(scanned), 3)
            result.baseline["monthly_report_scanning_the_facts_repeats"] = [round(t, 3) for t in scanned]
            hot = Hotspots(models)
            last_day_end = datetime(2026, 12, 1, tzinfo=CHINA_TZ)
            timings, found = [], (0, 0)
            for _ in range(REPEATS):
                started = time.perf_counter()
                topics, clusters = hot.rising(last_day_end, days=1), hot.clusters(last_day_end)
                timings.append(time.perf_counter() - started)
                found = (len(topics), len(clusters))
            result.figures["hotspots_day"] = {
                "seconds": round(median(timings), 3),
                "repeats": [round(t, 3) for t in timings],
                "rising_words": found[0],
                "clusters": found[1],
            }
            texts = [t + str(n) for n in range(500) for ts in DESCRIPTIONS.values() for t in ts][:day_cases]
            started = time.perf_counter()
            for text in texts:
                models.segmenter.distinct(text)
            cutting = time.perf_counter() - started
            result.figures["segmenting_on_catch_up"] = {
                "descriptions": len(texts),
                "seconds": round(cutting, 3),
                "per_second": round(len(texts) / cutting),
            }
            started = time.perf_counter()
            recorder.query(
                f"SELECT COUNT(*) AS n FROM {CASES.name} WHERE opened_at >= ? AND opened_at < ?",
                [stamp(month(MONTH).start), stamp(month(MONTH).end)],
            )
            result.baseline["count_of_the_month_seconds"] = round(time.perf_counter() - started, 4)
        finally:
            models.close()
            app.close()
    result.targets = [
        target(
            "monthly report at the month's cases", result.figures["monthly_report"]["seconds"], "s", 2.0, at_most=True
        ),
        target("hotspots over a day's cases", result.figures["hotspots_day"]["seconds"], "s", 5.0, at_most=True),
    ]
    if size != "full":
        result.notes.append(
            f"{size} run: {cases} cases, {day_cases} on the last day; the targets are for the full size"
        )
    return result
