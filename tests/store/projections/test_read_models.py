"""The read models on both stores: rebuild equals the incremental run, tracking prevents double
counting, and the queries the web UI and Open311 use answer correctly."""

from datetime import datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.errors import ConcurrentUpdate, InvalidInput, InvalidTransition, NotPermitted
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo.cases import DemoLoader
from hotline.projections.caller_key import CallerKey
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department

T0 = datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ)  # a Thursday after National Day


def open_case(
    hotline, *, phone="13800138000", service="noise", at=T0, description="楼下商铺喇叭噪音扰民", dispatch_to=None
):
    call = Call(
        channel="phone",
        category="complaint",
        service_code=service,
        description=description,
        caller_phone=phone,
        address="城西区建设路1号",
    )
    ticket = clocked(hotline, at).open_case(call, OPERATOR_ACTOR).ticket_no
    if dispatch_to:
        clocked(hotline, at).dispatch(ticket, OPERATOR_ACTOR, department=dispatch_to)
    return ticket


def test_rebuild_gives_exactly_the_rows_of_the_incremental_run(services):
    read_models = services.read_models
    read_models.batch_size = 173  # many batches, boundaries inside aggregates' histories
    reference = datetime(2025, 11, 20, 12, 0, tzinfo=CHINA_TZ)
    loader = DemoLoader(services.app, seed=7, reference=reference)
    # Catch up while the data arrives, as `hotline projections run` would.
    loader.load(500, progress=lambda _: read_models.catch_up() if loader.events % 7 == 0 else None)
    read_models.catch_up()
    events = services.app.recorder.max_notification_id()
    assert events > 2000
    assert read_models.pending() == 0
    incremental = {name: read_models.dump(name) for name in read_models.views}
    assert len(incremental["cases"]["hv_cases"]) == 500
    assert len(incremental["supervision"]["hv_items"]) >= 12 and incremental["supervision"]["hv_meetings"]

    read_models.batch_size = 5000
    assert read_models.rebuild() == events
    assert {name: read_models.dump(name) for name in read_models.views} == incremental
    read_models.rebuild(["metrics"])  # one view alone
    assert read_models.dump("metrics") == incremental["metrics"]
    assert read_models.positions() == dict.fromkeys(read_models.views, events)


def test_an_event_already_tracked_is_refused_and_nothing_changes(services):
    hotline, read_models = services.app, services.read_models
    ticket = open_case(hotline, dispatch_to="HBJ")
    assert read_models.catch_up() > 0
    assert read_models.catch_up() == 0  # nothing new: nothing to do
    before = read_models.dump("cases")
    urged = clocked(hotline, T0 + timedelta(hours=1)).urge(ticket, SUPERVISOR_ACTOR, "请尽快签收")
    read_models.catch_up()
    assert read_models.cases.get(ticket).urge_count == 1
    event = hotline.case_events(ticket)[-1]
    position = read_models.cases.position()
    with pytest.raises(IntegrityError):
        read_models.cases.process_batch([event], Tracking(read_models.cases.tracking_name, position))
    assert read_models.cases.get(ticket).urge_count == 1 and urged.urge_count == 1
    assert before != read_models.dump("cases")


def test_case_index_search_filters_and_counts(services):
    hotline, read_models = services.app, services.read_models
    first = open_case(hotline, dispatch_to="HBJ")
    second = open_case(
        hotline,
        phone="13900000000",
        service="garbage",
        description="垃圾桶满了没人清运",
        at=T0 + timedelta(hours=1),
        dispatch_to="CGJ",
    )
    third = open_case(hotline, at=T0 + timedelta(days=1), description="广场舞音响太响")
    read_models.catch_up()

    row = read_models.cases.get(first)
    assert row.status == "dispatched" and row.department == "HBJ" and row.service_code == "noise"
    assert row.sign_by == hotline.get_case(first).sign_by and row.version == 2
    assert read_models.cases.get("20990101-000001") is None

    rows, total = read_models.cases.search()
    assert total == 3 and [r.ticket_no for r in rows] == [third, second, first]  # newest first
    assert read_models.cases.search(text="垃圾")[1] == 1
    assert read_models.cases.search(text="100%")[1] == 0  # LIKE wildcards are literal
    assert {r.ticket_no for r in read_models.cases.search(phone="+86 138-0013-8000")[0]} == {first, third}
    assert read_models.cases.search(status=["opened"])[0][0].ticket_no == third
    assert read_models.cases.search(department="CGJ")[0][0].ticket_no == second
    assert read_models.cases.search(service_codes=["garbage", "noise"])[1] == 3
    assert read_models.cases.search(service_codes=[])[1] == 0
    assert read_models.cases.search(ticket_nos=[first, third])[1] == 2
    assert read_models.cases.search(ticket_no=second)[1] == 1
    assert read_models.cases.search(opened_from=T0.date() + timedelta(days=1))[1] == 1
    assert read_models.cases.search(opened_to=T0.date())[1] == 2
    assert read_models.cases.search(updated_from=T0 + timedelta(minutes=30))[1] == 2
    page, total = read_models.cases.search(limit=1, offset=1)
    assert total == 3 and [r.ticket_no for r in page] == [second]

    clocked(hotline, T0 + timedelta(days=1, hours=1)).answer_directly(third, OPERATOR_ACTOR, "已解答")
    read_models.catch_up()
    assert read_models.cases.search(open_only=True)[1] == 2


def test_inbox_lists_overdue_first_then_the_soonest(services):
    hotline, read_models = services.app, services.read_models
    late = open_case(hotline, dispatch_to="HBJ", at=T0)
    signed = open_case(hotline, dispatch_to="HBJ", at=T0 + timedelta(hours=2))
    clocked(hotline, T0 + timedelta(hours=3)).sign(signed, department("HBJ"))
    # Saturday the 11th is a make-up working day: ``late`` had to be signed by 24:00 on Friday.
    fresh = open_case(hotline, dispatch_to="HBJ", at=T0 + timedelta(days=2))
    open_case(hotline, dispatch_to="CGJ")
    read_models.catch_up()
    rows, total = read_models.inbox("HBJ", now=T0 + timedelta(days=2, hours=1))
    assert total == 3
    assert [r.ticket_no for r in rows] == [late, fresh, signed]
    assert [r.overdue for r in rows] == [True, False, False]
    assert [r.deadline_kind for r in rows] == ["签收", "签收", "答复"]
    assert rows[2].next_deadline == hotline.get_case(signed).reply_by


def test_caller_history_stores_only_a_keyed_hash(services):
    hotline, read_models = services.app, services.read_models
    old = open_case(hotline, at=T0 - timedelta(days=31))
    recent = open_case(hotline, at=T0 - timedelta(days=3))
    other_service = open_case(hotline, service="garbage", at=T0 - timedelta(days=2))
    open_case(hotline, phone="13900000000", at=T0 - timedelta(days=1))
    read_models.catch_up()

    dumped = repr(read_models.dump("cases")) + repr(read_models.dump("metrics"))
    assert "13800138000" not in dumped and "13900000000" not in dumped
    key = read_models.cases.get(recent).caller_key
    assert key == CallerKey(services.config.caller_key())("138 0013 8000")
    assert key != CallerKey(b"another-key-of-32-bytes-length!!")("13800138000")

    history = read_models.caller_history("13800138000", now=T0)
    assert [r.ticket_no for r in history] == [other_service, recent, old]
    duplicates = read_models.possible_duplicates("13800138000", "noise", T0)
    assert [r.ticket_no for r in duplicates] == [recent]
    assert read_models.possible_duplicates("13800138000", "noise", T0, exclude=recent) == []
    assert read_models.possible_duplicates("", "noise", T0) == []


def test_deadline_queue_covers_cases_items_and_meetings(services):
    hotline, read_models = services.app, services.read_models
    # Dispatched on the last day of the National Day holiday: to be signed by 24:00 on Thursday the 9th.
    unsigned = open_case(hotline, dispatch_to="HBJ", at=T0 - timedelta(days=1))
    replied = open_case(hotline, dispatch_to="CGJ")
    clocked(hotline, T0 + timedelta(hours=1)).sign(replied, department("CGJ"))
    clocked(hotline, T0 + timedelta(hours=2)).reply(replied, department("CGJ"), "已处理", True)
    clocked(hotline, T0).register_instruction(
        "督〔2025〕1号",
        SUPERVISOR_ACTOR,
        leader="李市长",
        content="落实整改",
        lead_department="ZJJ",
        due="2025-10-20",
    )
    read_models.catch_up()
    now = T0 + timedelta(days=1, hours=2)  # Friday 11:00
    rows, total = read_models.deadline_queue(now, due_within_hours=24 * 25)
    kinds = {(r.kind, r.reference) for r in rows}
    assert (
        ("signing", unsigned) in kinds
        and ("callback", replied) in kinds
        and ("weekly_progress", "督〔2025〕1号") in kinds
        and ("monthly_feedback", "督〔2025〕1号") in kinds
        and ("supervision_due", "督〔2025〕1号") in kinds
    )
    assert total == len(rows) == 5
    assert [r.due_at for r in rows] == sorted(r.due_at for r in rows)
    signing = next(r for r in rows if r.kind == "signing")
    assert signing.overdue and signing.kind_name == "签收" and signing.department == "HBJ"
    callback = next(r for r in rows if r.kind == "callback")
    assert callback.due_at == datetime(2025, 10, 10, 23, 59, 59, tzinfo=CHINA_TZ) and not callback.overdue
    only, n = read_models.deadline_queue(now, kinds=["callback"], department="CGJ")
    assert n == 1 and only[0].reference == replied
    assert read_models.deadline_queue(now, due_within_hours=1)[1] == 1  # only what is already overdue
    with pytest.raises(InvalidInput, match="未知期限类型"):
        read_models.deadline_queue(now, kinds=["nonsense"])


def test_the_deadline_queue_pages_through_cases_sharing_a_deadline_as_the_whole_list_does(services):
    hotline, read_models = services.app, services.read_models
    # Dispatched in the same morning: every one is to be signed by 24:00 of the next working day.
    tickets = [
        open_case(hotline, dispatch_to=dept, at=T0 + timedelta(minutes=n)) for n, dept in enumerate(["HBJ", "CGJ"] * 9)
    ]
    for ticket in tickets[:6]:  # to reply by their own limit now: another kind in the same queue
        clocked(hotline, T0 + timedelta(hours=1)).sign(ticket, department(hotline.get_case(ticket).department))
    read_models.catch_up()
    now = T0 + timedelta(hours=2)
    everything, total = read_models.deadline_queue(now, due_within_hours=24 * 30, limit=1000)
    assert total == len(everything) >= 18
    assert everything == sorted(everything, key=lambda r: (r.due_at, r.kind, r.reference))
    paged = []
    for offset in range(0, total, 4):
        page, count = read_models.deadline_queue(now, due_within_hours=24 * 30, limit=4, offset=offset)
        assert count == total
        paged.extend(page)
    assert paged == everything
    hbj, hbj_total = read_models.deadline_queue(now, department="HBJ", due_within_hours=24 * 30, limit=1000)
    assert hbj == [row for row in everything if row.department == "HBJ"] and hbj_total == len(hbj)


def test_an_overdue_case_escalates_into_a_supervision_item(services):
    hotline, read_models = services.app, services.read_models
    ticket = open_case(hotline, dispatch_to="HBJ")
    with pytest.raises(InvalidTransition, match="尚未超期"):
        clocked(hotline, T0 + timedelta(hours=2)).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    item = clocked(hotline, T0 + timedelta(days=2)).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    assert item.source == "escalated_case" and item.reference_no == ticket and item.lead_department == "HBJ"
    assert hotline.get_case(ticket).escalated_to == ticket  # saved together: each shows the other
    assert not hotline.get_case(ticket).may("escalate", SUPERVISOR_ACTOR, T0 + timedelta(days=2))
    with pytest.raises(InvalidTransition, match=r"已转督办（督办编号 .*），不能重复转督办"):
        clocked(hotline, T0 + timedelta(days=2)).escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    read_models.catch_up()
    rows, total = read_models.ledger(source="escalated_case", now=T0 + timedelta(days=2))
    assert total == 1 and rows[0].reference_no == ticket and rows[0].leader_or_meeting == f"超期工单 {ticket}"


def test_supervision_commands_keep_their_rules(services):
    hotline = services.app
    ref = "督〔2025〕9号"
    clocked(hotline, T0).register_instruction(
        ref,
        SUPERVISOR_ACTOR,
        leader="李市长",
        content="整治占道经营",
        lead_department="CGJ",
        cooperating_departments=["CXQ"],
        due="2025-11-30",
    )
    with pytest.raises(InvalidInput, match="已存在"):
        clocked(hotline, T0).register_instruction(
            ref, SUPERVISOR_ACTOR, leader="李市长", content="重复", lead_department="CGJ", due="2025-11-30"
        )
    with pytest.raises(InvalidInput, match="未知承办单位"):
        clocked(hotline, T0).register_instruction(
            "督〔2025〕10号",
            SUPERVISOR_ACTOR,
            leader="李市长",
            content="x",
            lead_department="NOPE",
            due="2025-11-30",
        )
    with pytest.raises(NotPermitted, match="不涉及本单位"):
        clocked(hotline, T0 + timedelta(days=1)).report_progress(ref, department("HBJ"), "进展")
    clocked(hotline, T0 + timedelta(days=1)).report_progress(ref, department("CXQ"), "配合单位已出动执法")
    with pytest.raises(ConcurrentUpdate, match="督办事项"):
        clocked(hotline, T0 + timedelta(days=2)).urge_item(ref, SUPERVISOR_ACTOR, "加快", expected_version=1)
    clocked(hotline, T0 + timedelta(days=3)).submit_feedback(ref, department("CGJ"), "2025-10", "十月已整治 20 处")
    with pytest.raises(InvalidTransition, match="已反馈过"):
        clocked(hotline, T0 + timedelta(days=4)).submit_feedback(ref, department("CGJ"), "2025-10", "再次反馈")
    with pytest.raises(InvalidInput, match="调整理由"):
        clocked(hotline, T0 + timedelta(days=4)).change_due_date(ref, SUPERVISOR_ACTOR, "2025-12-31", "")
    with pytest.raises(NotPermitted, match="牵头单位"):
        clocked(hotline, T0 + timedelta(days=5)).report_completion(ref, department("CXQ"), "完成")
    clocked(hotline, T0 + timedelta(days=5)).report_completion(ref, department("CGJ"), "全部整治到位")
    clocked(hotline, T0 + timedelta(days=6)).verify_item(ref, SUPERVISOR_ACTOR)
    with pytest.raises(InvalidTransition, match="不能重复销号"):
        clocked(hotline, T0 + timedelta(days=6)).verify_item(ref, SUPERVISOR_ACTOR)
    item = clocked(hotline, T0 + timedelta(days=8)).reopen_item(ref, SUPERVISOR_ACTOR, "问题反弹")
    assert item.status_name == "重新督办" and item.is_open
    assert [type(e).__name__ for e in hotline.item_events(ref)] == [
        "Registered",
        "ProgressReported",
        "FeedbackSubmitted",
        "CompletionReported",
        "Verified",
        "Reopened",
    ]
    with pytest.raises(InvalidInput, match="月份格式"):
        services.read_models.ledger(month="2025-13")


def test_ledger_of_a_month_lists_the_items_open_during_it(services):
    hotline, read_models = services.app, services.read_models
    for number, lead in ((1, "ZJJ"), (2, "CGJ")):
        clocked(hotline, T0).register_instruction(
            f"督〔2025〕{number}号",
            SUPERVISOR_ACTOR,
            leader="李市长",
            content="落实",
            lead_department=lead,
            due="2025-10-31",
        )
    clocked(hotline, T0 + timedelta(days=1)).report_completion("督〔2025〕1号", department("ZJJ"), "完成")
    clocked(hotline, T0 + timedelta(days=2)).verify_item("督〔2025〕1号", SUPERVISOR_ACTOR)
    read_models.catch_up()
    now = datetime(2025, 11, 10, tzinfo=CHINA_TZ)
    assert read_models.ledger(month="2025-10", now=now)[1] == 2
    november, total = read_models.ledger(month="2025-11", now=now)
    assert total == 1 and november[0].reference_no == "督〔2025〕2号" and november[0].overdue
    assert read_models.ledger(month="2025-09", now=now)[1] == 0
    assert read_models.ledger(department="ZJJ", now=now)[0][0].status_name == "已销号"


def test_a_case_escalated_before_the_case_recorded_it_is_not_escalated_twice(services):
    """A store written before 转督办 was recorded on the case: the item exists (its number is the
    ticket), the case does not know it; a second escalation is refused all the same, nothing saved."""
    hotline = services.app
    ticket = open_case(hotline, dispatch_to="HBJ")
    later = clocked(hotline, T0 + timedelta(days=2))
    later._register(
        "escalated_case",
        ticket,
        SUPERVISOR_ACTOR,
        content="超期",
        lead_department="HBJ",
        due="2025-10-31",
        ticket_no=ticket,
    )
    version = hotline.get_case(ticket).version
    with pytest.raises(InvalidInput, match="已转督办"):
        later.escalate_case(ticket, SUPERVISOR_ACTOR, due="2025-10-31")
    assert hotline.get_case(ticket).version == version and hotline.get_case(ticket).escalated_to is None


def test_an_index_an_earlier_version_made_is_dropped_and_the_new_ones_made(services):
    view = services.read_models.cases.view
    table = view.table("hv_cases")
    with view.writing(None) as cursor:  # the signing index as it was before it carried the ticket number
        view.execute(cursor, f"CREATE INDEX IF NOT EXISTS hv_cases_sign_by ON {table} (status, sign_by)")

    def indexes():
        if view.dialect == "sqlite":
            rows = view.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hv_cases'")
        else:
            rows = view.query(
                "SELECT indexname AS name FROM pg_indexes WHERE schemaname = ? AND tablename = 'hv_cases'",
                [view.datastore.schema],
            )
        return {row["name"] for row in rows}

    assert "hv_cases_sign_by" in indexes()
    services.read_models.cases.create_tables()  # what every start does
    assert "hv_cases_sign_by" not in indexes()
    assert {"hv_cases_sign_due", "hv_cases_emergency_queue", "hv_cases_emergency_department"} <= indexes()


def test_a_long_catch_up_refreshes_the_views_statistics_and_a_short_one_does_not(services, monkeypatch):
    from hotline.projections import read_models as module

    refreshed = []
    monkeypatch.setattr(
        services.read_models.recorder, "analyse", lambda names, between=None: refreshed.append(set(names))
    )
    monkeypatch.setattr(module, "REFRESH_AFTER", 5)
    open_case(services.app, dispatch_to="HBJ")  # opened and dispatched: two events, a short catch-up
    assert services.read_models.catch_up() < 5 and refreshed == []
    for _ in range(3):
        open_case(services.app, dispatch_to="CGJ")
    assert services.read_models.catch_up() >= 5  # a long one
    assert len(refreshed) == 1 and {"hv_cases", "hv_messages", "hv_report_facts"} <= refreshed[0]


def test_short_catch_ups_that_add_up_refresh_the_statistics_too(services, monkeypatch):
    """A runner following heavy intake reads a few thousand events at a time: their sum counts."""
    from hotline.projections import read_models as module

    refreshed = []
    monkeypatch.setattr(services.read_models.recorder, "analyse", lambda names, between=None: refreshed.append(names))
    monkeypatch.setattr(module, "REFRESH_AFTER", 5)
    seen = []  # after each catch-up: the events it read, the refreshes so far
    for _ in range(4):
        open_case(services.app, dispatch_to="HBJ")  # opened and dispatched: two events
        seen.append((services.read_models.catch_up(), len(refreshed)))
    # 2 and 4 events read since the start: no refresh; 6: the refresh, and the count starts again
    assert seen == [(2, 0), (2, 0), (2, 1), (2, 1)]


def test_a_runner_refreshing_the_statistics_beats_after_each_table(services, monkeypatch):
    """At a million events one table's VACUUM can outlast the beat's validity: the runner says it
    is still at work after each table, so other processes do not take it for gone (runner_beat.py)."""
    from hotline.projections import read_models as module

    monkeypatch.setattr(module, "REFRESH_AFTER", 5)
    for _ in range(3):
        open_case(services.app, dispatch_to="CGJ")
    recorder = services.read_models.recorder
    real, refreshed = recorder.analyse, []

    def analyse(names, between=None):
        refreshed.append(list(names))
        return real(names, between)  # the real VACUUM ANALYZE / ANALYZE, table by table

    monkeypatch.setattr(recorder, "analyse", analyse)
    beats: list[int] = []
    assert services.read_models.catch_up(progress=beats.append) >= 5
    assert beats.count(0) == len(refreshed[0]) > 5  # a beat (progress of nothing) after each table
