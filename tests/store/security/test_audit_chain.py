"""Tamper evidence: every save seals its events into a keyed hash chain (one link per transaction)
in the same transaction; ``hotline audit verify`` names the first event altered, deleted or inserted
behind the app's back. Reordering, and every kind inside a transaction of several events, on both
stores: tests/store/security/test_audit_transactions.py."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import uuid
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import ensure_demo_users
from hotline.infra.store.audit_chain import (
    ALTERED,
    DELETED,
    INSERTED,
    LEAF,
    AuditKeyMissing,
    SealingSQLiteRecorder,
    batch_digest,
    verify,
)
from hotline.web import create_app
from tests.conftest import OPERATOR_ACTOR, department
from tests.store.security import writers
from tests.store.web.conftest import Browser

T0 = datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)


def call(n: int) -> Call:
    return Call(
        channel="phone",
        category="complaint",
        service_code="noise",
        description=f"噪音扰民 {n}",
        caller_name="王五",
        caller_phone=f"1390000{n:04d}",
        district="城东区",
    )


def write_some(hotline, cases: int = 4) -> list[str]:
    tickets = [
        clocked(hotline, T0 + timedelta(minutes=n)).open_case(call(n), OPERATOR_ACTOR).ticket_no for n in range(cases)
    ]
    hotline.dispatch(tickets[0], OPERATOR_ACTOR, "HBJ")
    hotline.sign(tickets[0], department("HBJ"))
    return tickets


def check(services):
    return verify(services.app.recorder, services.config.audit_key_bytes())


def cli_env(config: Config) -> dict[str, str]:
    env = {
        "HOTLINE_DATA_DIR": str(config.data_dir),
        "HOTLINE_DATABASE_URL": config.database_url or "",
    }
    return env


def middle_event(raw, topic_suffix: str) -> int:
    """The notification id of the first event whose topic ends with ``topic_suffix``."""
    ids = raw.run(f"SELECT {raw.id_column}, topic FROM {raw.events} ORDER BY {raw.id_column}")
    return next(i for i, topic in ids if topic.endswith(topic_suffix))


def test_an_untouched_store_verifies_and_the_cli_exits_0(services, raw):
    write_some(services.app)
    result = CliRunner().invoke(main, ["audit", "verify", "--json"], env=cli_env(services.config))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["intact"] and report["checked"] == services.app.recorder.max_notification_id()
    [[links]] = raw.run(f"SELECT COUNT(*) FROM {raw.links}")
    assert report["head"].startswith(f"{links}:") and links == 6  # one link per save: 4 opened, a dispatch, a sign
    assert raw.run(f"SELECT COUNT(*) FROM {raw.audit}") == [(0,)]  # no per-event links in a new store


def test_an_altered_event_is_named(services, raw):
    write_some(services.app)
    victim = middle_event(raw, "Case.Dispatched")
    originator_id, version, topic, state = raw.event(victim)
    forged = bytes(state[:-1]) + bytes([state[-1] ^ 1])
    raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (forged, victim))

    result = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert result.exit_code == 1
    assert "被改动 altered" in result.output and f"通知编号 notification id：{victim}" in result.output
    finding = check(services).finding
    assert (finding.kind, finding.notification_id, finding.topic) == (
        ALTERED,
        victim,
        topic,
    )
    assert (uuid.UUID(finding.originator_id), finding.originator_version) == (
        uuid.UUID(str(originator_id)),
        version,
    )
    assert "state" in finding.detail


def test_a_deleted_event_is_named(services, raw):
    write_some(services.app)
    victim = middle_event(raw, "Case.Signed")
    raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} = ?", (victim,))

    result = check(services)
    finding = result.finding
    # A per-transaction link keeps hashes of its events, not their fields: the gone event is named
    # by its notification id and its place in its transaction.
    assert (finding.kind, finding.notification_id, finding.topic) == (DELETED, victim, None)
    assert "删除" in finding.detail and "deleted" in finding.detail
    assert result.checked == victim - 1


def test_an_event_deleted_with_its_link_is_caught(services, raw):
    write_some(services.app)
    victim = middle_event(raw, "Case.Dispatched")
    seq, first, last = raw.link_of(victim)
    raw.cut_link(seq)  # the whole transaction: its events and its link

    finding = check(services).finding
    assert finding.kind == DELETED and f"between {first - 1} and {last + 1}" in finding.detail


def test_a_forged_event_inserted_into_the_table_is_named(services, raw):
    tickets = write_some(services.app)
    case = services.app.get_case(tickets[1])
    _, _, topic, state = raw.event(middle_event(raw, "Case.Signed"))
    # A plausible next event of another case, with a real event's (encrypted) state.
    stored_id = case.id.hex if not raw.postgres else case.id
    raw.run(
        f"INSERT INTO {raw.events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (stored_id, case.version + 1, topic, state),
    )
    [[forged_id]] = raw.run(f"SELECT MAX({raw.id_column}) FROM {raw.events}")

    finding = check(services).finding
    assert (finding.kind, finding.notification_id, finding.topic) == (
        INSERTED,
        forged_id,
        topic,
    )
    assert (uuid.UUID(finding.originator_id), finding.originator_version) == (
        case.id,
        case.version + 1,
    )
    # The application goes on writing, and the forgery stays flagged.
    services.app.urge(tickets[0], OPERATOR_ACTOR, "请尽快办理")
    assert check(services).finding.notification_id == forged_id


def test_a_link_rewritten_without_the_key_is_caught(services, raw):
    write_some(services.app)
    victim = middle_event(raw, "Case.Dispatched")
    _, _, _, state = raw.event(victim)
    forged = bytes(state[:-1]) + bytes([state[-1] ^ 1])
    raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (forged, victim))
    # The link's leaf and digest made to match, consistently: only the MAC (the key) catches it.
    seq, first, _ = raw.link_of(victim)
    [[leaves]] = raw.run(f"SELECT leaves FROM {raw.links} WHERE seq = ?", (seq,))
    at = (victim - first) * LEAF + 32
    leaves = bytes(leaves[:at]) + hashlib.sha256(forged).digest() + bytes(leaves[at + 32 :])
    raw.run(f"UPDATE {raw.links} SET leaves = ?, digest = ? WHERE seq = ?", (leaves, batch_digest(first, leaves), seq))

    finding = check(services).finding
    assert (finding.kind, finding.notification_id) == (ALTERED, first)  # the transaction's first event
    assert "MAC" in finding.detail


def test_an_anchor_catches_a_cut_tail(services, raw):
    write_some(services.app)
    head = check(services).head
    raw.cut_link(head.seq)
    assert check(services).intact  # without an anchor a cut tail looks like a shorter history
    anchor = f"{head.seq}:{head.mac.hex()}"
    result = CliRunner().invoke(main, ["audit", "verify", "--anchor", anchor], env=cli_env(services.config))
    assert result.exit_code == 1 and "截断" in result.output


def test_a_recorder_without_the_key_refuses_to_write(tmp_path):
    services = bootstrap(Config(data_dir=tmp_path))
    try:
        assert isinstance(services.app.recorder, SealingSQLiteRecorder)
        services.app.recorder.audit_key = None
        with pytest.raises(AuditKeyMissing):
            clocked(services.app, T0).open_case(call(1), OPERATOR_ACTOR)
        assert services.app.recorder.max_notification_id() is None
    finally:
        services.close()


@pytest.mark.slow
def test_two_concurrent_writer_processes_leave_a_clean_chain(services, raw):
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        written = pool.starmap(
            writers.write_cases,
            [(services.config, "A", 60), (services.config, "B", 60)],
        )
    assert written == [60, 60]
    result = check(services)
    assert result.intact, result.finding
    [[stored]] = raw.run(f"SELECT COUNT(*) FROM {raw.events}")
    assert result.checked == stored > 240  # PostgreSQL ids have gaps (rolled-back races): count rows


def test_the_anchor_each_verification_records_catches_a_later_cut_tail_or_wipe(services, raw):
    write_some(services.app)
    first = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert first.exit_code == 0 and "核验后已记下当前链头" in first.output
    anchors = services.config.data_dir / "anchors.jsonl"
    [line] = anchors.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["reason"] == "verify"

    head = check(services).head
    raw.cut_link(head.seq)
    cut = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert cut.exit_code == 1 and "截断" in cut.output  # no --anchor needed: the file has it

    raw.run(f"DELETE FROM {raw.events}")
    raw.run(f"DELETE FROM {raw.links}")
    wiped = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert wiped.exit_code == 1 and "截断" in wiped.output

    record = json.loads(line)
    anchors.write_text(json.dumps({**record, "seq": 1}, ensure_ascii=False) + "\n", encoding="utf-8")
    forged = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert forged.exit_code == 1 and "锚点文件" in forged.output and "与审计密钥不符" in forged.output


def test_the_background_check_shows_a_cut_tail_as_a_red_banner_on_supervisor_pages(services, raw):
    write_some(services.app)
    assert services.integrity.check() is None  # intact: the head it verified is anchored
    head = check(services).head
    raw.cut_link(head.seq)

    problem = services.integrity.check()
    assert problem and "审计链核验未通过" in problem and "截断" in problem

    ensure_demo_users(services.app, services.passwords)
    web = create_app(services, testing=True)
    web.config["SESSION_COOKIE_SECURE"] = False
    supervisor, operator = Browser(web), Browser(web)
    assert supervisor.login("supervisor").status_code == 302 and operator.login("operator").status_code == 302
    for path in ("/supervisor/deadlines", "/supervisor/ranking", "/supervisor/ledger"):
        page = supervisor.get(path)
        assert page.status_code == 200 and "integrity-alert" in page.text and "审计链核验未通过" in page.text, path
    assert "integrity-alert" not in operator.get("/operator").text
