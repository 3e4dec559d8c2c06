"""个人信息删除 in memory: the case's own key sealed its fields, erasure destroys it, the retention
period is counted in calendar years after the case finished."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hotline.application import HotlineApplication, clocked
from hotline.domain.actors import ADMIN, OPERATOR, SYSTEM_ACTOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import InvalidInput, NotPermitted
from hotline.domain.privacy import ERASED
from hotline.domain.workdays import CHINA_TZ
from tests.memory.conftest import MEMORY

ADMIN_ACTOR, OPERATOR_ACTOR = Actor("admin-li", ADMIN), Actor("op-1", OPERATOR)
CALL = Call(
    channel="phone",
    category="complaint",
    service_code="noise",
    description="我叫欧阳明月，楼上凌晨装修",
    caller_name="欧阳明月",
    caller_phone="13987654321",
    address="城东区解放路12号",
    district="城东区",
)


def test_the_key_is_in_the_key_table_until_the_erasure_destroys_it(app, clock):
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    case = app.get_case(ticket)
    assert case.personal_key and app.recorder.select_personal_keys([case.personal_key])
    with pytest.raises(InvalidInput, match="理由"):
        app.erase_personal_data(ticket, ADMIN_ACTOR, "删")
    with pytest.raises(NotPermitted):
        app.erase_personal_data(ticket, OPERATOR_ACTOR, "来电人本人申请删除")
    assert app.erase_personal_data(ticket, ADMIN_ACTOR, "来电人本人申请删除").key_destroyed
    assert app.recorder.select_personal_keys([case.personal_key]) == {}
    again = app.erase_personal_data(ticket, ADMIN_ACTOR, "来电人本人申请删除")
    assert not again.recorded and not again.key_destroyed
    # Read again from the key table, nothing cached: the stored opening itself reads erased now.
    app.mapper.keyring._cache.clear()
    opened = app.mapper.to_domain_event(app.recorder.select_notifications(0, 1)[0])
    assert (opened.caller_name, opened.caller_phone, opened.description, opened.address) == (ERASED,) * 4


def test_another_case_still_reads_and_a_store_without_its_keys_reads_nothing(app, rules, clock):
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    stored = app.recorder.select_notifications(0, 1)[0]
    app.mapper.keyring._cache.clear()
    assert app.mapper.to_domain_event(stored).caller_phone == "13987654321"  # its key, read from the table
    elsewhere = HotlineApplication(rules=rules, env=dict(MEMORY), clock=clock)  # a copy of the events only
    assert elsewhere.mapper.to_domain_event(stored).caller_phone == ERASED
    assert app.get_case(ticket).caller_name == "欧阳明月"


def test_an_earlier_version_shows_the_erasure_that_came_later(app, clock):
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    before = clock.now()
    clock.advance(timedelta(minutes=5))
    app.erase_personal_data(ticket, ADMIN_ACTOR, "来电人本人申请删除")
    assert app.case_as_of(ticket, before).caller_phone == ERASED
    [opened, *_] = app.case_events(ticket)
    assert opened.caller_name == ERASED and opened.description == ERASED


@pytest.mark.parametrize(
    ("now", "cutoff"),
    [
        (datetime(2026, 12, 2, 3, 0, tzinfo=CHINA_TZ), datetime(2023, 12, 2, 3, 0, tzinfo=CHINA_TZ)),
        (datetime(2028, 2, 29, 9, 0, tzinfo=CHINA_TZ), datetime(2025, 2, 28, 9, 0, tzinfo=CHINA_TZ)),
    ],
)
def test_the_retention_period_is_counted_in_calendar_years(rules, now, cutoff):
    assert rules.privacy.retention_years == 3
    assert rules.privacy.retention_cutoff(now) == cutoff


def test_only_a_finished_case_past_the_period_is_erased_by_retention(app, clock):
    answered = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    clocked(app, clock.now()).answer_directly(answered, OPERATOR_ACTOR, "已解答")
    still_open = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    assert app.erase_if_retention_over(answered) is None  # answered just now
    later = clock.now() + timedelta(days=3 * 366)
    assert app.erase_if_retention_over(still_open, later) is None
    erasure = app.erase_if_retention_over(answered, later)
    assert erasure is not None and erasure.key_destroyed
    [event] = [e for e in app.case_events(answered) if type(e).__name__ == "PersonalDataErased"]
    assert event.actor_id == SYSTEM_ACTOR.id and "保存期限届满" in event.reason


def test_a_page_of_events_reads_its_keys_in_one_query_and_reads_as_one_by_one(app, monkeypatch):
    tickets = [o.ticket_no for o in app.open_cases([(CALL, None)] * 5, OPERATOR_ACTOR)]
    app.erase_personal_data(tickets[2], ADMIN_ACTOR, "来电人本人申请删除")
    stored = list(app.recorder.select_notifications(0, 1000))
    one_by_one = [vars(app.mapper.to_domain_event(n)) for n in stored]
    app.mapper.keyring._cache.clear()
    queries = []
    select = app.recorder.select_personal_keys
    monkeypatch.setattr(app.recorder, "select_personal_keys", lambda ids: queries.append(ids) or select(ids))
    assert [vars(e) for e in app.mapper.to_domain_events(stored)] == one_by_one
    assert len(queries) == 1 and len(queries[0]) == 5  # one query for the page's five keys (one destroyed)
    phones = [e["caller_phone"] for e in one_by_one if "caller_phone" in e]
    assert phones.count(ERASED) == 1 and phones.count("13987654321") == 4
