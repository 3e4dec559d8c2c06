"""The save path reads nothing it already knows, and still never acts on an old state.

A command takes the aggregate this process saved last from the cache without asking the store for
newer events. When another process (here: a second application on the same store) changed it
meanwhile, the command is run on the newer state: the save that fails on the version is run again,
a refusal that only the old state justifies is looked at again, and a refusal the newer state
justifies stands. Both stores.
"""

from __future__ import annotations

import psycopg
import pytest

from hotline.domain.errors import ConcurrentUpdate, InvalidTransition
from hotline.infra.bootstrap import bootstrap
from hotline.infra.store import pg_save
from tests.conftest import OPERATOR_ACTOR, department, make_config
from tests.store.reliability.test_conflicts import CALL, assert_event_stream_intact

HBJ = department("HBJ")


@pytest.fixture
def other(services):
    """A second application on the same store, like another worker or the Kafka consumer."""
    second = bootstrap(services.config)
    yield second.app
    second.close()


class CountedReads:
    """Counts the events the recorder is asked for, by aggregate (the real recorder answers)."""

    def __init__(self, recorder, monkeypatch):
        self.calls: list[object] = []
        real = recorder.select_events

        def select_events(originator_id, **kwargs):
            self.calls.append(originator_id)
            return real(originator_id, **kwargs)

        monkeypatch.setattr(recorder, "select_events", select_events)


def test_a_case_this_process_just_saved_is_changed_without_reading_it_again(services, monkeypatch):
    app = services.app
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    reads = CountedReads(app.recorder, monkeypatch)

    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    app.sign(ticket, HBJ)

    assert reads.calls == []
    assert app.get_case(ticket).status == "signed"  # a page still reads it fresh: one query
    assert len(reads.calls) == 1


def test_a_save_on_a_copy_another_process_has_changed_meanwhile_runs_on_the_newer_state(services, other):
    app = services.app
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")  # cached here at version 2
    other.urge(ticket, OPERATOR_ACTOR, "请尽快签收")  # version 3, written by the other process

    app.sign(ticket, HBJ)  # on the cached version 2 the save fails; run again on version 3

    case = app.get_case(ticket)
    assert (case.status, case.version) == ("signed", 4)
    assert [type(e).__name__ for e in app.case_events(ticket)][-2:] == ["Urged", "Signed"]
    assert_event_stream_intact(services)


def test_a_refusal_only_the_old_copy_justifies_is_looked_at_again(services, other):
    app = services.app
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")  # cached here: dispatched, not signed
    other.sign(ticket, HBJ)  # the department signed through the other process

    app.reply(ticket, HBJ, "已整改", True)  # refused on the cached copy (not signed), allowed now

    assert app.get_case(ticket).status == "replied"
    assert_event_stream_intact(services)


def test_a_refusal_the_newer_state_justifies_stands(services, other):
    app = services.app
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    other.sign(ticket, HBJ)
    version = app.get_case(ticket).version

    with pytest.raises(InvalidTransition):
        app.sign(ticket, HBJ)  # signed already: the newer state refuses it too
    with pytest.raises(ConcurrentUpdate, match="请刷新后重试"):
        other.urge(ticket, OPERATOR_ACTOR, "催办", expected_version=version - 1)
    assert app.get_case(ticket).version == version  # nothing stored


def test_a_version_the_user_saw_on_a_fresher_page_is_not_mistaken_for_a_conflict(services, other):
    app = services.app
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")  # cached here at version 2
    other.urge(ticket, OPERATOR_ACTOR, "请尽快签收")
    seen = other.get_case(ticket).version  # the department's page showed version 3

    app.sign(ticket, HBJ, expected_version=seen)

    assert app.get_case(ticket).status == "signed"


# ---- PostgreSQL: one round trip per save --------------------------------------------------------


@pytest.fixture
def pg(tmp_path, request):
    built = bootstrap(make_config("postgres", tmp_path, request))
    yield built
    built.close()


class CountedStatements:
    """Counts the statements psycopg sends (the real driver sends them)."""

    def __init__(self, monkeypatch):
        self.sent: list[str] = []
        real = psycopg.Cursor.execute

        def execute(cursor, query, *args, **kwargs):
            self.sent.append(query.as_string(cursor) if hasattr(query, "as_string") else str(query))
            return real(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", execute)


@pytest.mark.postgres
def test_a_command_on_postgresql_is_one_statement(pg, monkeypatch):
    app = pg.app
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")  # the process has seen the chain's tail
    statements = CountedStatements(monkeypatch)

    app.sign(ticket, HBJ)
    app.urge(ticket, OPERATOR_ACTOR, "请尽快办理")

    assert len(statements.sent) == 2 and all("hotline_events_save" in s for s in statements.sent)
    assert_event_stream_intact(pg)


@pytest.mark.postgres
def test_writers_taking_turns_on_postgresql_keep_the_chain_and_the_order(pg, monkeypatch):
    other = bootstrap(pg.config)
    try:
        ticket = pg.app.open_case(CALL, OPERATOR_ACTOR).ticket_no
        pg.app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
        statements = CountedStatements(monkeypatch)
        for round_no in range(4):
            other.app.urge(ticket, OPERATOR_ACTOR, f"第{round_no}次 另一进程催办")
            pg.app.urge(ticket, OPERATOR_ACTOR, f"第{round_no}次 本进程催办")
        # Each save found the other's write first. The first (the other process's first save) asked
        # for the tail, then saved; every later one: the tail had moved (sealed again with the tail
        # the database answered), its cached copy was old (the version is taken: read the newer
        # events), then saved. Nothing was stored by a call that did not save.
        saves = [s for s in statements.sent if "hotline_events_save" in s]
        assert len(saves) == 2 + 7 * 3
        ids = [n.id for n in pg.app.recorder.select_notifications(None, 1000)]
        assert ids == list(range(1, len(ids) + 1))  # in commit order, and without a gap
        # A save on the library's path (as a writer that keeps losing, or an older process, takes):
        # the saves after it follow on, in one call again.
        with monkeypatch.context() as library_path:
            library_path.setattr(pg_save, "ATTEMPTS", 0)
            other.app.urge(ticket, OPERATOR_ACTOR, "库的写法")
        statements.sent.clear()
        other.app.urge(ticket, OPERATOR_ACTOR, "最后一次")
        assert len(statements.sent) == 1
    finally:
        other.close()
    notes = [e.note for e in pg.app.case_events(ticket) if type(e).__name__ == "Urged"]
    assert notes[-2:] == ["库的写法", "最后一次"] and len(notes) == 10
    assert_event_stream_intact(pg)


@pytest.mark.postgres
def test_a_call_logged_on_postgresql_is_one_statement_to_open_it_and_one_to_dispatch_it(pg, monkeypatch):
    app = pg.app
    app.open_case(CALL, OPERATOR_ACTOR)  # the process has seen the day's last number and the chain's tail
    statements = CountedStatements(monkeypatch)

    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no  # the case, its key and the day's number: one call
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")

    assert len(statements.sent) == 2 and "hotline_events_save_numbered" in statements.sent[0]
    assert int(ticket[-6:]) == 2

    other = bootstrap(pg.config)  # another worker logs a call of the same day meanwhile
    try:
        theirs = other.app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    finally:
        other.close()
    statements.sent.clear()
    mine = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    # The first call found the day's number taken and stored nothing; built again with the number
    # it answered, the second stored the case.
    assert len(statements.sent) == 2 and all("save_numbered" in s for s in statements.sent)
    assert [int(theirs[-6:]), int(mine[-6:])] == [3, 4]
    assert app.get_case(mine).caller_phone == CALL.caller_phone  # sealed with its own key, stored beside it
    day = f"{mine[:4]}-{mine[4:6]}-{mine[6:8]}"  # 20261203-000004: the row of 2026-12-03
    assert app.recorder.select_last_numbers() == {day: 4}
    ids = [n.id for n in app.recorder.select_notifications(None, 1000)]
    assert ids == list(range(1, len(ids) + 1))
    assert_event_stream_intact(pg)


@pytest.mark.postgres
def test_the_pool_hands_out_the_connection_given_back_last(pg):
    """One case at a time reuses one hot server process instead of visiting each in turn."""
    datastore = pg.app.recorder.datastore
    with datastore.get_connection() as first, datastore.get_connection() as second:
        first_pid, second_pid = first.info.backend_pid, second.info.backend_pid
    # ``second`` went back first, then ``first``: ``first`` is the one handed out next, every time
    for _ in range(3):
        with datastore.get_connection() as conn:
            assert conn.info.backend_pid == first_pid != second_pid


def test_a_pool_of_another_layout_is_left_with_its_own_order_instead_of_failing():
    from hotline.infra.store.pg_pool import most_recent_first

    class OtherPool:  # a psycopg_pool that keeps its idle connections some other way
        _lock = None

    assert most_recent_first(OtherPool()) is False


@pytest.mark.postgres
def test_an_opening_after_another_workers_dispatch_is_sealed_again_not_built_again(pg, monkeypatch):
    """Another worker saved (the chain's tail moved) but took no number: the cases built with the
    day's next number stand; only their seal is made again with the new tail."""
    app = pg.app
    first = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    other = bootstrap(pg.config)
    try:
        other.app.dispatch(first, OPERATOR_ACTOR, department="HBJ")
    finally:
        other.close()
    builds = []
    real_build = type(app)._build
    monkeypatch.setattr(type(app), "_build", lambda self, *args: builds.append(1) or real_build(self, *args))
    statements = CountedStatements(monkeypatch)

    second = app.open_case(CALL, OPERATOR_ACTOR).ticket_no

    assert len(statements.sent) == 2 and len(builds) == 1  # two calls, one build
    assert int(second[-6:]) == 2 and app.get_case(second).ticket_no == second
    assert_event_stream_intact(pg)
