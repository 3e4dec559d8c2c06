"""Two people changing one case (or one supervision item) at the same moment: exactly one wins, every
other gets ConcurrentUpdate with a clear message, nothing is overwritten, and the event stream has
neither gaps nor duplicates. Writers run in threads of two application instances on one store, as
two web workers would (SQLite and PostgreSQL), and through two HTTP requests to a live server."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.actors import SUPERVISOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import ConcurrentUpdate
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.demo import DEMO_USERS, ensure_demo_users
from hotline.infra.store.audit_chain import verify
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department
from tests.support.servers import HttpSession, SaveGate, race

ROUNDS = 6
CONTENDERS = 4  # two threads in each of two application instances
CALL = Call(
    channel="phone",
    category="complaint",
    service_code="noise",
    description="夜间施工噪音扰民",
    caller_name="钱七",
    caller_phone="13900139000",
    district="城东区",
    address="解放路 8 号",
)
PASSWORDS = {username: password for username, password, *_ in DEMO_USERS}


@pytest.fixture
def two_workers(services):
    """The test's application and a second one on the same store, like another worker process."""
    other = bootstrap(services.config)
    yield services.app, other.app
    other.close()


def assert_event_stream_intact(services) -> None:
    """Every aggregate's versions run 1..n without a gap, no event is recorded twice, notification ids
    only grow, and the audit chain verifies."""
    notifications = services.app.recorder.select_notifications(None, 1_000_000)
    ids = [n.id for n in notifications]
    assert ids == sorted(set(ids))
    versions = defaultdict(list)
    for n in notifications:
        versions[n.originator_id].append(n.originator_version)
    for originator, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), (originator, seen)
    assert verify(services.app.recorder, services.config.audit_key_bytes()).intact


def test_racing_writers_on_one_case_one_wins_the_rest_are_told(services, two_workers):
    first, second = two_workers
    ticket = first.open_case(CALL, OPERATOR_ACTOR).ticket_no
    first.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    gate = SaveGate(two_workers, CONTENDERS)
    winners = []
    try:
        for round_no in range(ROUNDS):
            gate.new_round()
            seen = first.get_case(ticket).version  # every contender looks at the same page
            contenders = [
                (app, Actor(f"sup-{i}", SUPERVISOR), f"第{round_no}轮 督办员{i} 催办")
                for i, app in enumerate([first, second] * (CONTENDERS // 2))
            ]
            outcomes = race(
                [
                    lambda app=app, actor=actor, note=note, seen=seen: app.urge(
                        ticket, actor, note, expected_version=seen
                    )
                    for app, actor, note in contenders
                ]
            )
            kinds = Counter(kind for kind, _ in outcomes)
            assert kinds == {"ok": 1, "error": CONTENDERS - 1}, outcomes
            for (kind, result), (_, _, note) in zip(outcomes, contenders, strict=False):
                if kind == "ok":
                    winners.append(note)
                else:
                    assert isinstance(result, ConcurrentUpdate), result
                    assert str(result) == "该工单已被他人更新，请刷新后重试"
        # Two different people, two different commands on one version: signing against returning.
        gate.new_round()
        gate.barrier = threading.Barrier(2, timeout=30)
        seen = first.get_case(ticket).version
        hbj = department("HBJ")
        outcomes = race(
            [
                lambda: first.sign(ticket, hbj, expected_version=seen),
                lambda: second.return_case(ticket, hbj, "不属于本单位职责", "权责清单", expected_version=seen),
            ]
        )
        assert Counter(kind for kind, _ in outcomes) == {"ok": 1, "error": 1}, outcomes
    finally:
        gate.close()

    case = first.get_case(ticket)
    assert (case.status, case.pending_return is not None) == (
        ("signed", False) if outcomes[0][0] == "ok" else ("dispatched", True)
    )
    urges = [e.note for e in first.case_events(ticket) if type(e).__name__ == "Urged"]
    assert urges == winners  # nothing overwritten, nothing lost, nothing extra
    assert case.version == 2 + ROUNDS + 1
    assert_event_stream_intact(services)


def test_racing_writers_on_one_supervision_item(services, two_workers):
    first, second = two_workers
    reference = "市长批示〔2025〕17号"
    first.register_instruction(
        reference,
        SUPERVISOR_ACTOR,
        leader="张市长",
        content="整治夜间施工噪音",
        lead_department="HBJ",
        cooperating_departments=["CGJ"],
        due=date.today() + timedelta(days=60),
    )
    gate = SaveGate(two_workers, 2)
    try:
        for round_no in range(ROUNDS):
            gate.new_round()
            seen = first.get_item(reference).version
            outcomes = race(
                [
                    lambda n=round_no, v=seen: first.report_progress(
                        reference, department("HBJ"), f"第{n}周：已约谈三家工地", expected_version=v
                    ),
                    lambda n=round_no, v=seen: second.urge_item(
                        reference, SUPERVISOR_ACTOR, f"第{n}次催办", expected_version=v
                    ),
                ]
            )
            assert Counter(kind for kind, _ in outcomes) == {"ok": 1, "error": 1}, outcomes
            loser = next(result for kind, result in outcomes if kind == "error")
            assert isinstance(loser, ConcurrentUpdate) and "请刷新后重试" in str(loser)
    finally:
        gate.close()
    assert first.get_item(reference).version == 1 + ROUNDS
    assert_event_stream_intact(services)


def test_calls_logged_at_the_same_moment_get_distinct_tickets(services, two_workers):
    first, _ = two_workers
    gate = SaveGate(two_workers, CONTENDERS, method="insert_numbered")
    try:
        outcomes = race([lambda app=app: app.open_case(CALL, OPERATOR_ACTOR) for app in two_workers * 2])
        gate.new_round()
        gate.barrier = threading.Barrier(2, timeout=30)
        same_call = dataclasses.replace(CALL, call_id="wechat-racing-0001")
        repeats = race([lambda app=app: app.open_case(same_call, OPERATOR_ACTOR) for app in two_workers])
    finally:
        gate.close()
    assert [kind for kind, _ in outcomes] == ["ok"] * CONTENDERS, outcomes
    tickets = [result.ticket_no for _, result in outcomes]
    assert len(set(tickets)) == CONTENDERS
    assert [kind for kind, _ in repeats] == ["ok", "ok"], repeats
    assert {r.ticket_no for _, r in repeats} == {first.ticket_for_call("wechat-racing-0001")}
    assert sorted(r.created for _, r in repeats) == [False, True]
    assert len(list(first.case_ids())) == CONTENDERS + 1
    assert_event_stream_intact(services)


@pytest.mark.slow
def test_two_http_requests_at_once_against_a_live_server(services, live_server):
    ensure_demo_users(services.app, services.passwords)
    ticket = services.app.open_case(CALL, OPERATOR_ACTOR).ticket_no
    services.app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    server = live_server(services.config)
    people = [HttpSession(server.url).login(name, PASSWORDS[name]) for name in ("operator", "supervisor")]
    page = f"/cases/{ticket}"
    told, won = Counter(), []
    for round_no in range(ROUNDS):
        forms = []
        for who, session in enumerate(people):
            token = session.token(page)
            version = str(services.app.get_case(ticket).version)
            forms.append((session, token, {"urge-version": version, "urge-note": f"第{round_no}轮 {who}号催办"}))
        start = threading.Barrier(len(forms))

        def submit(session, token, data, start=start):
            start.wait()
            return session.post(f"{page}/urge", data, token=token)

        answers = race([lambda f=f: submit(*f) for f in forms])
        for (kind, answer), (session, _, data) in zip(answers, forms, strict=False):
            assert kind == "ok", answer
            if answer.status == 302:  # done: back to the case page, with the flash message
                assert answer.location.endswith(page), answer.location
                shown = session.get(page).text
                if "已催办" in shown and "该工单已被他人更新" not in shown:
                    won.append(data["urge-note"])
                    told["won"] += 1
            else:  # refused: the form comes back (400) with the reason and what was typed
                assert answer.status == 400, answer.status
                if "该工单已被他人更新，请刷新后重试" in answer.text and data["urge-note"] in answer.text:
                    told["refused"] += 1
        assert told == {"won": round_no + 1, "refused": round_no + 1}, told
    urges = [e.note for e in services.app.case_events(ticket) if type(e).__name__ == "Urged"]
    assert urges == won
    assert_event_stream_intact(services)


@pytest.mark.slow
def test_busy_desks_logging_calls_back_to_back_all_get_numbers(services, two_workers):
    """Four desks in two workers log calls as fast as they can, all on one day's ticket counter: none
    may be starved of a number by the others winning every race."""
    opened_at = datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)
    outcomes = race(
        [
            lambda app=app: [clocked(app, opened_at).open_case(CALL, OPERATOR_ACTOR).ticket_no for _ in range(30)]
            for app in two_workers * 2
        ]
    )
    assert [kind for kind, _ in outcomes] == ["ok"] * 4, [r for kind, r in outcomes if kind == "error"]
    tickets = [ticket for _, made in outcomes for ticket in made]
    assert len(tickets) == len(set(tickets)) == 120
    assert_event_stream_intact(services)
