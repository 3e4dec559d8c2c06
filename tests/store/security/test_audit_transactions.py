"""One audit link per transaction (infra/store/audit_chain.py): a save of several events is one link,
and the verifier still names the first event altered, deleted, inserted or reordered inside it, on
both stores, through the one-call save and the library's path. A store sealed before with one link
per event verifies, switches to one link per transaction at its next save, and the two formats
verify as one chain (tamper found on either side of the switch)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from hotline.application import clocked
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main
from hotline.infra.bootstrap import bootstrap
from hotline.infra.store import pg_save
from hotline.infra.store.audit_chain import ALTERED, DELETED, INSERTED, REORDERED, BatchLink, Link, verify
from tests.store.security.conftest import RawStore, altered
from tests.store.security.test_audit_chain import cli_env
from tests.store.test_old_stores import EVENTS, KEY, old_store  # noqa: F401  (the fixture)

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=CHINA_TZ)
ACTOR = Actor("op-1001", OPERATOR)


def calls(first: int, count: int) -> list[tuple[Call, datetime]]:
    return [
        (
            Call(
                channel="phone",
                category="complaint",
                service_code="noise",
                description=f"第 {n} 件：工地夜间施工",
                caller_name="赵六",
                caller_phone=f"1380000{n:04d}",
                district="城东区",
            ),
            T0 + timedelta(minutes=n),
        )
        for n in range(first, first + count)
    ]


def save_batch(hotline, raw: RawStore, first: int = 0, count: int = 4) -> list[int]:
    """One ``open_cases`` save of ``count`` calls: the notification ids it stored (one link)."""
    [[before]] = raw.run(f"SELECT COALESCE(MAX({raw.id_column}), 0) FROM {raw.events}")
    clocked(hotline, T0 + timedelta(hours=2)).open_cases(calls(first, count), ACTOR)
    rows = raw.run(f"SELECT {raw.id_column} FROM {raw.events} WHERE {raw.id_column} > ? ORDER BY 1", (before,))
    return [row[0] for row in rows]


@pytest.fixture
def batch(services, raw) -> list[int]:
    """A single-event save, a batch of several events between others, then another save: the
    batch's notification ids."""
    save_batch(services.app, raw, 0, 1)
    ids = save_batch(services.app, raw, 1, 4)
    save_batch(services.app, raw, 5, 2)
    assert len(ids) >= 8 and raw.link_of(ids[0])[1:] == (ids[0], ids[-1])  # the batch is one link
    return ids


def check(services):
    return verify(services.app.recorder, services.config.audit_key_bytes())


def move(raw: RawStore, old_id: int, new_id: int) -> None:
    raw.run(f"UPDATE {raw.events} SET {raw.id_column} = ? WHERE {raw.id_column} = ?", (new_id, old_id))


def test_a_save_of_several_events_is_one_link_and_verifies(services, raw, batch):
    result = check(services)
    assert result.intact and result.checked == raw.run(f"SELECT COUNT(*) FROM {raw.events}")[0][0]
    [[links]] = raw.run(f"SELECT COUNT(*) FROM {raw.links}")
    assert links == 3 and isinstance(result.head, BatchLink) and result.head.seq == 3
    [(count, leaves)] = raw.run(f"SELECT count, length(leaves) FROM {raw.links} WHERE seq = 2")
    assert (count, leaves) == (len(batch), 64 * len(batch))


def test_an_event_altered_inside_a_transaction_is_named_with_its_field(services, raw, batch):
    victim = batch[2]
    originator_id, version, topic, state = raw.event(victim)
    raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (altered(state), victim))
    result = check(services)
    finding = result.finding
    assert (finding.kind, finding.notification_id, finding.topic, finding.originator_version) == (
        ALTERED,
        victim,
        topic,
        version,
    )
    assert uuid.UUID(finding.originator_id) == uuid.UUID(str(originator_id))
    assert finding.detail.endswith("event altered: state") and result.checked == victim - 1

    raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (state, victim))
    assert check(services).intact
    later = batch[4]
    raw.run(f"UPDATE {raw.events} SET topic = ? WHERE {raw.id_column} = ?", ("hotline:Case.Closed", later))
    finding = check(services).finding
    assert (finding.kind, finding.notification_id, finding.topic) == (ALTERED, later, "hotline:Case.Closed")
    assert "topic" in finding.detail and "state" not in finding.detail


def test_an_event_deleted_inside_a_transaction_is_named(services, raw, batch):
    victim = batch[3]
    raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} = ?", (victim,))
    result = check(services)
    assert (result.finding.kind, result.finding.notification_id) == (DELETED, victim)
    assert f"第 4 个事件（共 {len(batch)} 个）" in result.finding.detail and result.checked == victim - 1


def test_an_event_deleted_and_the_later_ones_moved_up_is_named(services, raw, batch):
    victim = batch[1]
    raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} = ?", (victim,))
    for old_id in batch[2:]:  # close the gap, so that the ids look consecutive again
        move(raw, old_id, old_id - 1)
    finding = check(services).finding
    assert (finding.kind, finding.notification_id) == (DELETED, victim)
    assert "moved up" in finding.detail


def test_an_event_inserted_inside_a_transaction_is_named(services, raw, batch):
    victim = batch[2]
    later = raw.run(f"SELECT {raw.id_column} FROM {raw.events} WHERE {raw.id_column} >= ? ORDER BY 1 DESC", (victim,))
    for (old_id,) in later:  # make room: every event from the victim's place on moves back by one
        move(raw, old_id, old_id + 1)
    originator_id, version, topic, state = raw.event(batch[0])
    raw.run(
        f"INSERT INTO {raw.events} ({raw.id_column}, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?, ?)",
        (victim, originator_id, version + 100, topic, state),
    )
    finding = check(services).finding
    assert (finding.kind, finding.notification_id, finding.topic, finding.originator_version) == (
        INSERTED,
        victim,
        topic,
        version + 100,
    )


def test_two_events_of_a_transaction_swapped_are_named(services, raw, batch):
    first, second = batch[1], batch[4]
    move(raw, first, 999_999)
    move(raw, second, first)
    move(raw, 999_999, second)
    result = check(services)
    finding = result.finding
    assert (finding.kind, finding.notification_id) == (REORDERED, first)
    assert f"events {first} and {second} were swapped" in finding.detail and result.checked == first - 1
    cli = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(services.config))
    assert cli.exit_code == 1 and "被调换次序 reordered" in cli.output and f"事件 {first} 与事件 {second}" in cli.output


def test_a_links_leaves_changed_without_its_digest_are_caught(services, raw, batch):
    seq, first, _ = raw.link_of(batch[0])
    [[leaves]] = raw.run(f"SELECT leaves FROM {raw.links} WHERE seq = ?", (seq,))
    raw.run(f"UPDATE {raw.links} SET leaves = ? WHERE seq = ?", (altered(leaves), seq))
    finding = check(services).finding
    assert (finding.kind, finding.notification_id) == (ALTERED, first) and "事件摘要被改动" in finding.detail


def test_the_librarys_save_path_writes_the_same_links(services, raw, monkeypatch):
    """On PostgreSQL a writer that keeps meeting others saves by the library's path (lock, insert,
    tail read, link); on SQLite there is one path. Either way: one link per save, verified."""
    monkeypatch.setattr(pg_save, "ATTEMPTS", 0)
    ids = save_batch(services.app, raw, 0, 3)
    save_batch(services.app, raw, 3, 1)
    result = check(services)
    assert result.intact and result.checked == raw.run(f"SELECT COUNT(*) FROM {raw.events}")[0][0]
    assert raw.link_of(ids[0])[1:] == (ids[0], ids[-1]) and result.head.seq == 2
    _, _, _, state = raw.event(ids[1])
    raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (altered(state), ids[1]))
    assert (check(services).finding.kind, check(services).finding.notification_id) == (ALTERED, ids[1])


def test_an_old_store_switches_to_one_link_per_transaction_and_verifies_as_one_chain(old_store):  # noqa: F811
    services = bootstrap(old_store)
    try:
        raw = RawStore(services)
        before = check(services)
        assert before.intact and before.checked == EVENTS and isinstance(before.head, Link)
        assert services.integrity.check() is None and services.integrity.last_checked == EVENTS
        old_head = before.head

        ids = save_batch(services.app, raw, 0, 3)
        save_batch(services.app, raw, 3, 1)
        after = check(services)
        assert after.intact and after.checked == EVENTS + len(ids) + (after.head.last_id - ids[-1])
        assert raw.run(f"SELECT MIN(seq), COUNT(*) FROM {raw.links}") == [(old_head.seq + 1, 2)]
        assert raw.run(f"SELECT COUNT(*) FROM {raw.audit}") == [(EVENTS,)]  # the old links stay as they were
        assert services.integrity.check() is None  # incremental across the switch: only the new events
        assert services.integrity.last_checked == after.checked - EVENTS
        # Held to an anchor in the per-event part, and to one in the per-transaction part.
        assert verify(services.app.recorder, services.config.audit_key_bytes(), (old_head.seq, old_head.mac)).intact
        assert verify(services.app.recorder, services.config.audit_key_bytes(), (after.head.seq, after.head.mac)).intact

        # An event sealed before the switch, altered: named with its field, from its per-event link.
        old_victim = old_head.notification_id - 5
        _, _, topic, state = raw.event(old_victim)
        raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (altered(state), old_victim))
        finding = check(services).finding
        assert (finding.kind, finding.notification_id, finding.topic) == (ALTERED, old_victim, topic)
        raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (state, old_victim))

        # One sealed after it, altered: named too.
        _, _, _, state = raw.event(ids[1])
        raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (altered(state), ids[1]))
        result = check(services)
        assert (result.finding.kind, result.finding.notification_id) == (ALTERED, ids[1])
        assert result.checked == EVENTS + 1
        raw.run(f"UPDATE {raw.events} SET state = ? WHERE {raw.id_column} = ?", (state, ids[1]))
        assert check(services).intact

        # The last per-event link removed with its event: the first per-transaction link is then out of place.
        raw.run(f"DELETE FROM {raw.events} WHERE {raw.id_column} = ?", (old_head.notification_id,))
        raw.run(f"DELETE FROM {raw.audit} WHERE seq = ?", (old_head.seq,))
        finding = check(services).finding
        assert finding.kind == DELETED and f"chain links {old_head.seq}–{old_head.seq}" in finding.detail
    finally:
        services.close()


@pytest.mark.postgres
def test_the_save_function_of_the_per_event_format_is_dropped_when_the_store_opens(pg_schema, tmp_path):
    """A process of the code before calls ``<events>_save`` with per-event hashes and MACs: once
    today's code has opened the store that function is gone (so it cannot go on writing per-event
    links after the switch), and only today's, one link per transaction, remains."""
    import psycopg

    from hotline.infra.config import Config

    base, _, query = pg_schema.partition("?")
    schema = query.split("schema=", 1)[1]
    old_arguments = "bigint, bytea, bigint, uuid[], bigint[], text[], bytea[], bytea[], bytea[]"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(
            f'CREATE FUNCTION "{schema}".hotline_events_save({old_arguments}) RETURNS integer '
            "LANGUAGE sql AS 'SELECT 1'"
        )
    services = bootstrap(Config(database_url=pg_schema, data_dir=tmp_path))
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            found = conn.execute(
                "SELECT pg_get_function_identity_arguments(p.oid) FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = 'hotline_events_save'",
                (schema,),
            ).fetchall()
        assert len(found) == 1 and found[0][0].endswith("digest bytea, leaves bytea, mac bytea")
        raw = RawStore(services)
        ids = save_batch(services.app, raw, 0, 2)
        assert raw.link_of(ids[0])[1:] == (ids[0], ids[-1]) and check(services).intact
    finally:
        services.close()
