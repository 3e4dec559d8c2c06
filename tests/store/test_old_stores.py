"""Stores written before the package restructure open, verify and take new events.

``tests/fixtures/store-v1`` holds an SQLite store and a PostgreSQL dump written by that code
(every event type, a ticket-counter snapshot, the audit chain). Today's code must read every
aggregate in them, verify the chain (``hotline audit verify``), rebuild the read models from them,
and append to them with the chain still intact.
"""

from __future__ import annotations

import gzip
import shutil
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from click.testing import CliRunner

from hotline.application import clocked
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call, Case
from hotline.domain.supervision import SupervisionItem
from hotline.domain.tickets import counter_id, format_ticket_no
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from tests.support.paths import FIXTURES_DIR

STORE = FIXTURES_DIR / "store-v1"
KEY = "5qrnaIq3v0qCBsXqJ7a0wI8bJtQZs+bJSy6xVvA3WmQ="  # the fixtures' test key (tests/fixtures/README.md)
EVENTS = 872


@pytest.fixture
def old_store(store, tmp_path, request) -> Config:
    """A copy of the old store for this test, on the store under test."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    if store == "sqlite":
        shutil.copy(STORE / "hotline.sqlite3", data_dir / "hotline.sqlite3")
        return Config(data_dir=data_dir, cipher_key=KEY)
    import psycopg

    url = request.getfixturevalue("pg_schema")
    base, _, query = url.partition("?")
    schema = query.split("schema=", 1)[1]
    dump = gzip.decompress((STORE / "postgres.sql.gz").read_bytes()).decode("utf-8")
    # psql's own commands (\restrict …) and the search_path reset are for psql, not a plain connection.
    statements = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    statements = statements.replace("SELECT pg_catalog.set_config('search_path', '', false);", "")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(statements.replace("fixture_v1", schema))
    return Config(database_url=url, data_dir=data_dir, cipher_key=KEY)


def verify(config: Config) -> str:
    env = {
        "HOTLINE_DATA_DIR": str(config.data_dir),
        "HOTLINE_CIPHER_KEY": KEY,
        "HOTLINE_DATABASE_URL": config.database_url or "",
    }
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_old_store_opens_verifies_rebuilds_and_takes_new_events(old_store):
    assert f"{EVENTS} 个事件全部核验通过" in verify(old_store)
    services = bootstrap(old_store)
    try:
        app = services.app
        topics = Counter(n.topic for n in app.recorder.select_notifications(0, 10_000))
        assert sum(topics.values()) == EVENTS and len(topics) == 33
        cases = list(app.all_cases())
        assert len(cases) == topics[Case.Opened.TOPIC] == 176
        assert {case.status for case in cases} >= {
            "opened",
            "answered",
            "dispatched",
            "signed",
            "replied",
            "closed",
            "merged",
            "reopened",
            "called_back",
        }
        for notification in app.recorder.select_notifications(0, 10_000, topics=[SupervisionItem.Registered.TOPIC]):
            assert app.repository.get(notification.originator_id).reference_no
        assert [key.revoked for key in app.api_keys()] == [False, True]
        assert [key.department for key in app.api_keys()] == [None, None]  # upcast: Open311 keys
        # Upcast: the old store's case events have no reported time (there was only one time).
        assert {e.reported_at for case in cases[:20] for e in app.case_events(case.ticket_no)} == {None}
        assert app.get_user("cgj").active is False
        read = services.read_models.rebuild()
        assert read == EVENTS
        # The case index was computed in SQL (projections/case_rebuild.py), the old event forms too
        # (an unreviewed return, the first callback form): the same rows as replaying them.
        assert topics[Case.Returned.TOPIC] and topics[Case.CallbackRecorded.TOPIC]
        assert services.read_models.set_based() == ["cases"]
        in_sql = services.read_models.dump("cases")
        assert services.read_models.rebuild(["cases"], set_based=False) == EVENTS
        assert services.read_models.dump("cases") == in_sql
        assert services.read_models.inbox("HBJ")[1] > 0

        call = Call(
            channel="phone",
            category="complaint",
            service_code="noise",
            description="新的来电",
            caller_phone="13900001111",
            district="城西区",
        )
        ticket = app.open_case(call, Actor("op-1001", OPERATOR)).ticket_no
        assert app.get_case(ticket).ticket_no == ticket

        # The old store counted a day's tickets in a TicketCounter aggregate (events and a
        # snapshot). Its events stay readable, and a call received on that day gets the number
        # after the highest one stored; the next one after that, from the day's new counter row.
        numbers = sorted(case.ticket_no for case in cases)
        day = date(*(int(x) for x in (numbers[-1][:4], numbers[-1][4:6], numbers[-1][6:8])))
        highest = max(int(n[-6:]) for n in numbers if n.startswith(f"{day:%Y%m%d}"))
        assert highest > 1 and app.repository.get(counter_id(day)).last_number == highest
        received = datetime.combine(day, time(18, 0), CHINA_TZ)
        clocked(app, received + timedelta(minutes=1))  # only the clock records time: recorded that day
        later = [app.open_cases([(call, received)], Actor("op-1001", OPERATOR))[0].ticket_no for _ in range(2)]
        assert app.case_events(later[0])[0].reported_at == received
        assert later == [format_ticket_no(day, highest + 1), format_ticket_no(day, highest + 2)]
    finally:
        services.close()
    # The three new cases: one opened, two opened and routed (no TicketCounter events any more), sealed.
    assert f"{EVENTS + 5} 个事件全部核验通过" in verify(old_store)
