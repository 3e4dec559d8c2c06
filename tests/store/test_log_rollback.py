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
