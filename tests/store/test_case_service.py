"""The application service on a real store: SQLite and PostgreSQL run the same tests."""

import threading
from datetime import datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.errors import CaseNotFound, ConcurrentUpdate, InvalidInput, InvalidTransition
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department

T0 = datetime(2025, 9, 30, 16, 0, tzinfo=CHINA_TZ)


def call(**changes) -> Call:
    fields = {
        "channel": "phone",
        "category": "complaint",
        "service_code": "noise",
        "description": "楼下烧烤店油烟噪音扰民",
        "caller_name": "李四",
        "caller_phone": "13912345678",
        "district": "城东区",
    }
    fields.update(changes)
    return Call(**fields)


def test_ticket_numbers_are_readable_unique_and_per_day(hotline):
    first = clocked(hotline, T0).open_case(call(), OPERATOR_ACTOR).ticket_no
    second = clocked(hotline, T0 + timedelta(minutes=5)).open_case(call(), OPERATOR_ACTOR).ticket_no
    next_day = clocked(hotline, T0 + timedelta(days=1)).open_case(call(), OPERATOR_ACTOR).ticket_no
    assert (first, second, next_day) == ("20250930-000001", "20250930-000002", "20251001-000001")


def test_a_call_id_makes_one_case_only(hotline):
    first = clocked(hotline, T0).open_case(call(call_id="c-42"), OPERATOR_ACTOR)
    again = clocked(hotline, T0).open_case(call(call_id="c-42", description="重复投递"), OPERATOR_ACTOR)
    assert first.created and not again.created and again.ticket_no == first.ticket_no
    assert len(list(hotline.case_ids())) == 1
    assert hotline.ticket_for_call("c-42") == first.ticket_no


def test_racing_writers_never_share_a_ticket_number(services, store):
    # Two application objects on one store, as two processes would be.
    other = bootstrap(services.config)
    tickets: list[str] = []

    def log_calls(app):
        for _ in range(15):
            tickets.append(clocked(app, T0).open_case(call(), OPERATOR_ACTOR).ticket_no)

    threads = [threading.Thread(target=log_calls, args=(app,)) for app in (services.app, other.app)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    other.close()
    assert len(tickets) == 30 and len(set(tickets)) == 30


def test_dispatch_follows_routing_and_computes_deadlines_over_national_day(hotline):
    ticket = clocked(hotline, T0).open_case(call(service_code="noise"), OPERATOR_ACTOR).ticket_no
    case = clocked(hotline, T0).dispatch(ticket, OPERATOR_ACTOR)
    assert case.department == "HBJ"
    assert case.sign_by == datetime(2025, 10, 9, 23, 59, 59, tzinfo=CHINA_TZ)  # 1 working day: the 9th, to 24:00
    assert case.reply_by == datetime(2025, 10, 28, 23, 59, 59, tzinfo=CHINA_TZ)  # complaint: 15 working days
    assert not case.deadline_provisional


def test_district_rules_win_and_no_rule_means_manual_dispatch(hotline):
    vending = clocked(hotline, T0).open_case(call(service_code="street_vending", district="城东区"), OPERATOR_ACTOR)
    assert clocked(hotline, T0).dispatch(vending.ticket_no, OPERATOR_ACTOR).department == "CDQ"
    other = clocked(hotline, T0).open_case(call(service_code="other"), OPERATOR_ACTOR).ticket_no
    with pytest.raises(InvalidInput, match="手动选择承办单位"):
        clocked(hotline, T0).dispatch(other, OPERATOR_ACTOR)
    assert clocked(hotline, T0).dispatch(other, OPERATOR_ACTOR, department="CGJ").department == "CGJ"


def test_a_refused_command_stores_nothing(hotline):
    ticket = clocked(hotline, T0).open_case(call(), OPERATOR_ACTOR).ticket_no
    clocked(hotline, T0).dispatch(ticket, OPERATOR_ACTOR)
    with pytest.raises(InvalidTransition, match="尚未签收"):
        hotline.reply(ticket, department("HBJ"), "已处理", True)
    assert [type(e).__name__ for e in hotline.case_events(ticket)] == ["Opened", "Dispatched"]


def test_the_lifecycle_through_the_service_and_time_travel(hotline):
    ticket = clocked(hotline, T0).open_case(call(), OPERATOR_ACTOR).ticket_no
    clocked(hotline, T0 + timedelta(minutes=5)).dispatch(ticket, OPERATOR_ACTOR)
    hbj = department("HBJ")
    clocked(hotline, datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ)).sign(ticket, hbj)
    clocked(hotline, datetime(2025, 10, 10, 9, 0, tzinfo=CHINA_TZ)).request_extension(ticket, hbj, 5, "需要联合执法")
    extended = clocked(hotline, datetime(2025, 10, 10, 11, 0, tzinfo=CHINA_TZ)).approve_extension(
        ticket, SUPERVISOR_ACTOR
    )
    assert extended.reply_by == datetime(2025, 11, 4, 23, 59, 59, tzinfo=CHINA_TZ)  # 10-28 + 5 working days
    clocked(hotline, datetime(2025, 10, 20, 15, 0, tzinfo=CHINA_TZ)).reply(ticket, hbj, "已责令整改", True)
    clocked(hotline, datetime(2025, 10, 21, 10, 0, tzinfo=CHINA_TZ)).record_callback(
        ticket, OPERATOR_ACTOR, True, "satisfied", True, contacted_first=True
    )
    clocked(hotline, datetime(2025, 10, 21, 10, 5, tzinfo=CHINA_TZ)).close_case(ticket, OPERATOR_ACTOR)

    events = hotline.case_events(ticket)
    assert [e.actor_role for e in events] == [
        "operator",
        "operator",
        "department",
        "department",
        "supervisor",
        "department",
        "operator",
        "operator",
    ]
    before_signing = hotline.case_as_of(ticket, datetime(2025, 10, 8, 12, 0, tzinfo=CHINA_TZ))
    assert before_signing.status == "dispatched" and before_signing.version == 2
    assert hotline.case_as_of(ticket, T0 - timedelta(days=1)) is None
    assert hotline.get_case(ticket).status == "closed"


def test_someone_else_changed_the_case(hotline):
    ticket = clocked(hotline, T0).open_case(call(), OPERATOR_ACTOR).ticket_no
    seen = hotline.get_case(ticket).version
    clocked(hotline, T0).dispatch(ticket, OPERATOR_ACTOR, expected_version=seen)
    with pytest.raises(ConcurrentUpdate, match="已被他人更新"):
        hotline.urge(ticket, SUPERVISOR_ACTOR, "快点", expected_version=seen)
    assert len(hotline.case_events(ticket)) == 2


def test_unknown_cases_and_services(hotline):
    with pytest.raises(CaseNotFound, match="不存在"):
        hotline.get_case("20250101-000001")
    with pytest.raises(InvalidInput, match="未知服务事项"):
        hotline.open_case(call(service_code="nope"), OPERATOR_ACTOR)


def test_a_deadline_in_a_year_without_data_is_marked_provisional(hotline):
    late = datetime(2026, 12, 28, 10, 0, tzinfo=CHINA_TZ)
    ticket = clocked(hotline, late).open_case(call(), OPERATOR_ACTOR).ticket_no
    case = clocked(hotline, late).dispatch(ticket, OPERATOR_ACTOR)
    assert case.deadline_provisional
    assert case.reply_by == datetime(2027, 1, 19, 23, 59, 59, tzinfo=CHINA_TZ)  # 2027-01-01 is a statutory holiday
