"""The background check (infra/integrity.py) walks only what was appended since the head it verified
last, after finding that head and the latest anchor still in place; the full walk stays on demand
(``check(full=True)``, ``hotline audit verify``). A store whose newest events were removed and new
ones appended past the old position (so the count looks right) fails the next check, on both
stores, and every supervisor page shows it as the red banner."""

from __future__ import annotations

from datetime import datetime, timedelta

from click.testing import CliRunner

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main
from hotline.infra.demo import ensure_demo_users
from hotline.infra.store.audit_chain import ALTERED, verify
from hotline.web import create_app
from tests.conftest import OPERATOR_ACTOR
from tests.store.security.conftest import altered
from tests.store.security.test_audit_chain import cli_env
from tests.store.web.conftest import Browser

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=CHINA_TZ)


def log(hotline, first: int, count: int) -> None:
    for n in range(first, first + count):
        call = Call(channel="phone", category="complaint", service_code="noise", description=f"第 {n} 件：夜间噪声")
        clocked(hotline, T0 + timedelta(minutes=n)).open_case(call, OPERATOR_ACTOR)


def events(services) -> int:
    return services.app.recorder.max_notification_id() or 0


def test_a_later_check_walks_only_what_was_appended_since_the_verified_head(services):
    watch = services.integrity
    log(services.app, 0, 5)
    before = events(services)
    assert watch.check() is None and watch.last_checked == before  # the first check of a process: all of it
    assert watch.verified is not None and watch.verified.notification_id == before

    log(services.app, 5, 3)
    assert watch.check() is None
    assert watch.last_checked == events(services) - before == 3  # only the new ones
    assert watch.check() is None and watch.last_checked == 0  # nothing new: only the head and anchor rechecked
    assert watch.check(full=True) is None and watch.last_checked == events(services)


def test_an_old_event_altered_is_left_to_the_full_check_on_demand(services, raw):
    """What the incremental check gives up, said plainly: an event verified before and altered
    since is found by the full walk (``hotline audit verify``, ``check(full=True)``), not the
    five-minute one, unless it is the verified head or the anchored one."""
    watch = services.integrity
    log(services.app, 0, 5)
    assert watch.check() is None
    first = raw.run(f"SELECT MIN({raw.id_column}) FROM {raw.events}")[0][0]
    _, _, _, state = raw.event(first)
    raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (altered(state), first))

    assert watch.check() is None
    problem = watch.check(full=True)
    assert problem and f"通知编号 {first}" in problem and "事件被改动：state" in problem
    cli = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert cli.exit_code == 1 and "事件被改动" in cli.output


def test_a_rollback_overtaken_by_new_events_fails_the_next_check_and_shows_the_banner(services, raw):
    watch = services.integrity
    log(services.app, 0, 6)
    assert watch.check() is None  # the head is anchored (infra/store/anchors.py)
    head = watch.verified
    assert head is not None
    # Someone removes the two newest events with their links; then the hotline goes on working and
    # appends three more, past the old position: the count of events and links looks right again.
    cut = raw.run(f"SELECT first_id FROM {raw.links} WHERE seq = ?", (head.seq - 1,))[0][0]
    raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} >= ?", (cut,))
    raw.run(f"DELETE FROM {raw.links} WHERE seq >= ?", (head.seq - 1,))
    log(services.app, 6, 3)
    assert services.app.recorder.select_head().seq == head.seq + 1
    assert verify(services.app.recorder, services.config.audit_key_bytes()).intact  # without the anchor: intact

    problem = watch.check()

    assert problem and "审计链核验未通过" in problem and "回退被新事件掩盖" in problem
    assert f"审计链第 {head.seq} 条已不是先前核验（锚点）时的那一条" in problem
    assert watch.verified is None  # the next check walks the whole chain again
    full = verify(services.app.recorder, services.config.audit_key_bytes(), (head.seq, head.mac))
    assert full.finding is not None and full.finding.kind == ALTERED  # the full walk, held to the anchor, agrees
    cli = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert cli.exit_code == 1 and "与锚点不符" in cli.output

    ensure_demo_users(services.app, services.passwords)
    web = create_app(services, testing=True)
    web.config["SESSION_COOKIE_SECURE"] = False
    supervisor = Browser(web)
    assert supervisor.login("supervisor").status_code == 302
    page = supervisor.get("/supervisor/deadlines")
    assert page.status_code == 200 and "integrity-alert" in page.text and "回退被新事件掩盖" in page.text
