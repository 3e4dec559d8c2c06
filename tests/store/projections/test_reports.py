"""Reports: the totals the report counts from its own facts (written from the events) equal what
the case index (the read model of every case) holds for the same range, on both stores; a small
hand-made day gives the exact figures; the daily report is made once, at its time, into the outbox."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from hotline.application import SimulatedClock
from hotline.domain.case import ANSWERED, RETURNS_TAKING_EFFECT, Call, Case
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.report_jobs import DailyReports
from hotline.infra.bootstrap import bootstrap
from hotline.infra.demo import DemoLoader
from hotline.projections.case_lists import CaseFilter, every
from hotline.projections.read_models import ReadModels
from hotline.projections.reports import DailyCounts, FactCounts, compile_report, date_range, day, month, week
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department, make_config

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def clocked(store, tmp_path, request):
    clock = SimulatedClock(NOW)
    built = bootstrap(make_config(store, tmp_path, request), clock=clock)
    yield built, clock
    built.close()


def index_counts(models, period, now):
    """What the case index says about the cases opened in the period."""
    rows = list(every(models.cases, CaseFilter(opened_from=period.first, opened_to=period.last), now))
    return rows, {
        "channel": Counter(r.channel for r in rows),
        "category": Counter(r.category for r in rows),
        "service": Counter(r.service_code for r in rows),
        "district": Counter(r.district or "" for r in rows),
        "department": Counter(r.department or "" for r in rows),
    }


def test_report_totals_equal_the_case_index_for_the_same_range(clocked):
    services, clock = clocked
    DemoLoader(services.app, seed=17).load(240)
    clock.set(NOW)  # the demo replays its history on the clock
    models = services.read_models
    models.catch_up()
    for period in (
        day(NOW.date()),
        week(NOW.date()),
        month("2026-11"),
        date_range(NOW.date() - timedelta(days=9), NOW.date()),
    ):
        report = compile_report(models, period)
        rows, counts = index_counts(models, period, NOW)
        assert report.total == len(rows) == report.flows["opened"] and report.total > 0
        for name, breakdown in (
            ("channel", report.by_channel),
            ("category", report.by_category),
            ("service", report.by_service),
            ("district", report.by_district),
            ("department", report.by_department),
        ):
            assert {c.key: c.count for c in breakdown} == dict(counts[name]), (period, name)
        answered = list(every(models.cases, CaseFilter(statuses=(ANSWERED,)), NOW))
        in_period = [r for r in answered if period.start <= r.closed_at < period.end]
        assert report.flows["answered"] == len(in_period)
        overdue = [r for r in rows if r.next_deadline is not None and r.next_deadline < min(NOW, period.end)]
        assert report.flows["overdue"] == len(overdue)
        assert sum(c.count for c in report.by_major) == sum(c.count for c in report.by_minor) == report.total


def test_a_hand_made_day_gives_exact_figures(clocked):
    services, clock = clocked
    app = services.app
    morning = NOW.replace(hour=9)
    clock.set(morning - timedelta(days=1))
    app.open_case(
        Call(
            channel="phone",
            category="complaint",
            service_code="noise",
            description="昨天的噪音",
            caller_phone="13700000001",
            district="城东区",
        ),
        OPERATOR_ACTOR,
    )
    clock.set(morning)
    tickets = [
        app.open_case(
            Call(
                channel=channel,
                category="complaint",
                service_code=service,
                description=f"第{n}件",
                caller_phone=phone,
                district="城东区",
                urgency=urgency,
            ),
            OPERATOR_ACTOR,
        ).ticket_no
        for n, (channel, service, phone, urgency) in enumerate(
            [
                ("phone", "noise", "13700000001", "normal"),
                ("phone", "noise", "13700000001", "urgent"),
                ("web", "street_vending", "13700000002", "normal"),
                ("phone", "social_security", "13700000003", "normal"),
            ]
        )
    ]
    app.dispatch(tickets[0], OPERATOR_ACTOR, department="HBJ")
    app.dispatch(tickets[1], OPERATOR_ACTOR, department="HBJ")
    clock.advance(timedelta(hours=1))
    app.return_case(tickets[1], department("HBJ"), "不属于本单位职责", "《市12345热线工单办理规范》职责清单")
    app.return_case(tickets[0], department("HBJ"), "不属于本单位职责", "《市12345热线工单办理规范》职责清单")
    app.answer_directly(tickets[3], OPERATOR_ACTOR, "已解答社保政策")
    services.read_models.catch_up()
    asked = compile_report(services.read_models, day(NOW.date()), now=NOW)
    assert asked.flows["returned"] == 0  # asked, under review: not a 退单 yet
    clock.advance(timedelta(hours=1))
    app.approve_return(tickets[1], SUPERVISOR_ACTOR, "经核实，同意退单")
    app.reject_return(tickets[0], SUPERVISOR_ACTOR, "属于本单位职责，请继续办理")
    clock.set(NOW)
    services.read_models.catch_up()
    report = compile_report(services.read_models, day(NOW.date()))
    assert report.total == 4
    assert {c.key: c.count for c in report.by_channel} == {"phone": 3, "web": 1}
    assert {c.key: c.count for c in report.by_service} == {"noise": 2, "street_vending": 1, "social_security": 1}
    # The catalogue's upper levels (rules/services.csv): 大类, and 小类 named with its 大类.
    assert {c.key: c.count for c in report.by_major} == {"生态环境": 2, "城市管理": 1, "劳动和社会保障": 1}
    assert {c.key: c.count for c in report.by_minor} == {
        "生态环境 › 噪声": 2,
        "城市管理 › 占道与违建": 1,
        "劳动和社会保障 › 社会保险": 1,
    }
    assert {k: report.flows[k] for k in ("opened", "answered", "dispatched", "returned", "closed")} == {
        "opened": 4,
        "answered": 1,
        "dispatched": 2,
        "returned": 1,  # the approved return; the rejected one never took effect
        "closed": 0,
    }
    assert report.direct_answer_rate == 25.0
    assert report.repeat_callers == 1 and report.top_repeat_callers[0].cases == 2  # 13700000001 twice today
    assert "13700000001" not in repr(report)
    assert report.urgent_total == 1 and report.urgent[0].ticket_no == tickets[1]
    assert [r.key for r in report.rising][:1] == ["street_vending"] or {r.key for r in report.rising} >= {
        "street_vending"
    }
    assert {r.key: (r.before, r.now) for r in report.rising}["noise"] == (1, 2)


def test_the_daily_report_is_made_once_at_its_time_into_the_outbox(clocked):
    services, clock = clocked
    DemoLoader(services.app, seed=5).load(60)
    jobs = DailyReports(services)
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=CHINA_TZ))  # before 07:30 (rules/analysis.toml)
    assert jobs.run_once() is None
    clock.set(datetime(2026, 12, 1, 7, 31, tzinfo=CHINA_TZ))
    assert jobs.run_once() == NOW.date()
    outbox = services.config.outbox()
    assert (outbox / "reports" / "daily-20261130.pdf").read_bytes().startswith(b"%PDF")
    assert "data:image/svg+xml;base64," in (outbox / "reports" / "daily-20261130.html").read_text(encoding="utf-8")
    mails = sorted((outbox / "email").glob("daily-report-20261130-*.eml"))
    addresses = [r.email for r in services.rules.analysis.daily_report.recipients]
    assert len(mails) == len(addresses) == 2
    mail = message_from_bytes(mails[0].read_bytes(), policy=default)
    assert mail["To"] == addresses[0] and "每日要情" in mail["Subject"]
    assert "daily-20261130.pdf" in mail.get_content() and "诉求总量" in mail.get_content()
    assert jobs.run_once() is None  # made once


def _periods(today):
    return (
        day(today),
        day(today - timedelta(days=3)),
        week(today),
        month(f"{today:%Y-%m}"),
        month(f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"),
        date_range(today - timedelta(days=40), today),
    )


def _counted(counts, period):
    repeated = counts.repeat_callers(period, 5)
    return counts.flows(period), counts.opened_by(period), counts.services_opened(period), repeated


def test_the_daily_totals_give_the_numbers_of_the_full_scan_and_a_rebuild_gives_them_again(clocked):
    """The fast path (sums of the daily totals) against the full computation (every fact of the
    period scanned), on a generated store with returns asked, approved and rejected, dispatches in
    batches after the cases opened, and merges; then the view rebuilt from the events."""
    services, clock = clocked
    models = services.read_models
    models.batch_size = 97  # dispatches land in batches after their cases opened: counts move departments
    DemoLoader(services.app, seed=29).load(300, progress=lambda _: models.catch_up())
    clock.set(NOW)
    models.catch_up()
    fast, full = DailyCounts(models), FactCounts(models)
    for period in _periods(NOW.date()):
        assert _counted(fast, period) == _counted(full, period), period
    whole = date_range(NOW.date() - timedelta(days=200), NOW.date())
    flows = fast.flows(whole)
    assert flows["opened"] == 300 and flows["dispatched"] > 0 and flows["returned"] > 0 and flows["answered"] > 0
    assert fast.repeat_callers(month("2026-11"), 5)[0] > 0  # the month's repeat callers, from their own table
    reports = {period: compile_report(models, period) for period in _periods(NOW.date())}
    incremental = models.dump("reports")
    models.batch_size = 5000
    models.rebuild(["reports"])
    assert models.dump("reports") == incremental
    for period, report in reports.items():
        again = compile_report(models, period)
        assert (again.total, again.flows, again.by_department, again.by_service) == (
            report.total,
            report.flows,
            report.by_department,
            report.by_service,
        )


def test_a_return_counts_once_it_took_effect_as_the_events_say(clocked):
    """Every 同意退单 of the store (and no 申请退单) is a 退单 in the report: the rule of domain/case.py."""
    services, clock = clocked
    DemoLoader(services.app, seed=31).load(240)
    clock.set(NOW)
    models = services.read_models
    models.catch_up()
    taking_effect = asked = 0
    for notification in services.app.recorder.select_notifications(0, 1_000_000):
        event = services.app.mapper.to_domain_event(notification)
        taking_effect += isinstance(event, RETURNS_TAKING_EFFECT)
        asked += isinstance(event, Case.ReturnRequested)
    assert asked > taking_effect > 0  # some returns rejected or still under review
    whole = date_range(NOW.date() - timedelta(days=200), NOW.date())
    assert compile_report(models, whole).flows["returned"] == taking_effect


def test_a_views_store_from_before_the_daily_totals_is_built_again(clocked):
    """A store whose reports view was built before the daily totals existed (and counted returns as
    asked): on start-up the view is built again from the first event, and the totals are right."""
    services, clock = clocked
    DemoLoader(services.app, seed=5).load(80)
    clock.set(NOW)
    models = services.read_models
    models.catch_up()
    expected = _counted(FactCounts(models), month("2026-11"))
    with models.recorder.writing(None) as cursor:
        models.recorder.execute(cursor, f"DROP TABLE {models.recorder.table('hv_report_days')}")
        models.recorder.execute(
            cursor, f"UPDATE {models.recorder.table('hv_report_facts')} SET kind = 'returned' WHERE kind = 'dispatched'"
        )  # the old facts were counted by another rule: they must not survive
    # Started again on the same stores (the read models as bootstrap builds them).
    again = ReadModels(services.app, models.recorder, models.caller_key)
    assert again.report_facts.position() == 0 < again.cases.position()  # to be built again
    again.catch_up()
    assert _counted(DailyCounts(again), month("2026-11")) == expected
    assert _counted(FactCounts(again), month("2026-11")) == expected


def test_a_classified_case_counts_under_the_service_the_operator_chose(clocked):
    """A 待分类 case counts under what the channel sent until it is classified, then under the
    service and category chosen: in a later batch (the daily totals move) or the same one."""
    services, _ = clocked
    app, models = services.app, services.read_models
    sent = Call(channel="wechat", category="praise", service_code="ufo", description="夜间施工噪声扰民")
    later = app.open_case(sent, OPERATOR_ACTOR, route=True).ticket_no
    same = app.open_case(sent, OPERATOR_ACTOR, route=True).ticket_no
    models.catch_up()
    fast, full = DailyCounts(models), FactCounts(models)
    today = day(NOW.date())
    assert full.services_opened(today)["ufo"] == 2
    app.classify(later, OPERATOR_ACTOR, "noise", "complaint")
    models.catch_up()  # a later batch: the daily totals move from what was sent
    assert (fast.services_opened(today)["ufo"], fast.services_opened(today)["noise"]) == (1, 1)
    assert _counted(fast, today) == _counted(full, today)
    app.classify(same, OPERATOR_ACTOR, "noise", "complaint")
    models.rebuild(["reports"])  # the same batch as the opening
    for counts in (fast, full):
        assert "ufo" not in counts.services_opened(today) and counts.services_opened(today)["noise"] == 2
    assert _counted(fast, today) == _counted(full, today)
