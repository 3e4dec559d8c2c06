"""A notification log that goes backwards (SQLite: the newest event rows deleted, or an older
backup of the event file restored beside newer read models) stops the read models with a clear
error instead of letting new events reuse ids below their position and never reach them."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from hotline.domain.case import Call
from hotline.entrypoints.cli import main as cli
from hotline.infra.bootstrap import bootstrap
from hotline.infra.demo import ensure_demo_users
from hotline.projections.read_models import LogRolledBack
from hotline.web import create_app
from tests.conftest import OPERATOR_ACTOR
from tests.store.web.conftest import Browser


def noise(n: int) -> Call:
    return Call(channel="phone", category="complaint", service_code="noise", description=f"第 {n} 件：夜间噪声")


def test_deleting_the_newest_events_stops_the_read_models_with_a_clear_error(sqlite_services, monkeypatch):
    services = sqlite_services
    app, models = services.app, services.read_models
    ensure_demo_users(app, services.passwords)
    for n in range(3):
        app.open_case(noise(n), OPERATOR_ACTOR)
    models.catch_up()
    read_up_to = max(models.positions().values())

    events = sqlite3.connect(services.config.sqlite_path("hotline"))
    events.execute("DELETE FROM stored_events WHERE rowid > (SELECT MAX(rowid) - 2 FROM stored_events)")
    events.commit()
    events.close()
    app.open_case(noise(9), OPERATOR_ACTOR)  # reuses an id the views think they have read
    assert (app.recorder.max_notification_id() or 0) < read_up_to

    with pytest.raises(LogRolledBack, match="事件日志发生回退") as stopped:
        models.catch_up()
    assert "hotline projections rebuild" in str(stopped.value)

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(services.config.data_dir))
    status = CliRunner().invoke(cli, ["projections", "status"])
    assert status.exit_code != 0 and "日志发生回退" in status.output

    web = create_app(services, testing=True)
    web.config["SESSION_COOKIE_SECURE"] = False
    operator = Browser(web)
    assert operator.login("operator").status_code == 302
    page = operator.get("/cases")
    assert page.status_code == 503 and "事件日志发生回退" in page.text


def test_a_case_whose_middle_event_was_deleted_shows_a_clear_page_not_a_500(sqlite_services):
    services = sqlite_services
    app = services.app
    ensure_demo_users(app, services.passwords)
    ticket = app.open_case(noise(1), OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    app.urge(ticket, OPERATOR_ACTOR, "请尽快签收")
    dispatched = app.case_events(ticket)[1]

    events = sqlite3.connect(services.config.sqlite_path("hotline"))
    events.execute(
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
        (dispatched.originator_id.hex, dispatched.originator_version),
    )
    events.commit()
    events.close()

    restarted = bootstrap(services.config)  # a server started after the deletion (nothing cached)
    try:
        web = create_app(restarted, testing=True)
        web.config["SESSION_COOKIE_SECURE"] = False
        supervisor = Browser(web)
        assert supervisor.login("supervisor").status_code == 302
        for path in (f"/cases/{ticket}", f"/audit/cases/{ticket}"):
            page = supervisor.get(path)
            assert page.status_code == 409 and "历史事件不连续" in page.text, path
    finally:
        restarted.close()


def test_a_rollback_that_new_events_have_overtaken_stops_the_read_models_too(services, monkeypatch):
    """The newest events removed, then more appended than were removed: every view's position is
    inside the log again and the count looks right, but the last event they read is another one in
    its place (both stores reuse the ids here) or gone. They stop, on both stores,
    instead of never seeing the events in between; a rebuild, once the cause is known, restarts them."""
    from tests.store.security.conftest import RawStore

    app, models = services.app, services.read_models
    ensure_demo_users(app, services.passwords)
    for n in range(5):
        app.open_case(noise(n), OPERATOR_ACTOR)
    models.catch_up()
    read_up_to = max(models.positions().values())
    raw = RawStore(services)
    raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} > ?", (read_up_to - 2,))
    tickets = [app.open_case(noise(10 + n), OPERATOR_ACTOR).ticket_no for n in range(3)]
    assert (app.recorder.max_notification_id() or 0) > read_up_to  # past the views again

    with pytest.raises(LogRolledBack, match="事件日志发生回退后又写入了新事件") as stopped:
        models.catch_up()
    reason = str(stopped.value)  # another event in its place where the id was reused, else gone
    assert f"读模型读过的第 {read_up_to} 个事件已被另一个事件取代" in reason or "已不在事件日志中" in reason
    assert "hotline projections rebuild" in str(stopped.value)

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(services.config.data_dir))
    if services.config.uses_postgres:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", services.config.database_url)
    status = CliRunner().invoke(cli, ["projections", "status"])
    assert status.exit_code != 0 and "事件日志发生回退后又写入了新事件" in status.output

    web = create_app(services, testing=True)
    web.config["SESSION_COOKIE_SECURE"] = False
    operator = Browser(web)
    assert operator.login("operator").status_code == 302
    page = operator.get("/cases")
    assert page.status_code == 503 and "事件日志发生回退后又写入了新事件" in page.text

    models.rebuild()  # the remedy the message names: the views from the log as it is now
    assert all(models.cases.get(ticket) is not None for ticket in tickets)
    models.catch_up()  # and they go on


def test_the_last_event_the_views_read_deleted_stops_them_though_newer_events_follow(services):
    from tests.store.security.conftest import RawStore

    app, models = services.app, services.read_models
    for n in range(3):
        app.open_case(noise(n), OPERATOR_ACTOR)
    models.catch_up()
    read_up_to = max(models.positions().values())
    app.open_case(noise(9), OPERATOR_ACTOR)  # not read yet
    raw = RawStore(services)
    raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} = ?", (read_up_to,))

    with pytest.raises(LogRolledBack, match=f"读模型读过的第 {read_up_to} 个事件已不在事件日志中"):
        models.catch_up()
