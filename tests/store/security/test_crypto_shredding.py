"""Crypto-shredding (issue 14): after ``hotline privacy erase`` the caller's name, phone, words and
address are unreadable in the UI, the API, the read models and the raw store (the events decrypted
with the store's own key included), while ``hotline audit verify`` passes and the month's figures
are unchanged. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from hotline.application import clocked
from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.domain.privacy import ERASED
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.demo import ensure_demo_users
from hotline.infra.store.audit_chain import verify
from hotline.web import create_app
from tests.conftest import OPERATOR_ACTOR, department
from tests.store.security.test_encryption_at_rest import raw_bytes
from tests.support.cli import hotline as run

T0 = datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)
NAME, PHONE, OTHER_NAME, OTHER_PHONE = "欧阳明月", "13987654321", "司马青云", "15812349876"
HOUSE = "城东区解放路12号3单元501室"
WORDS = "我叫欧阳明月，楼上住户凌晨装修电钻声不断"


def _calls() -> list[Call]:
    erased = Call(
        channel="phone",
        category="complaint",
        service_code="noise",
        description=WORDS,
        caller_name=NAME,
        caller_phone=PHONE,
        address=HOUSE,
        district="城东区",
    )
    kept = Call(
        channel="phone",
        category="complaint",
        service_code="noise",
        description=f"广场舞音响太响，回电 {OTHER_PHONE}",
        caller_name=OTHER_NAME,
        caller_phone=OTHER_PHONE,
        address="城东区延安路8号",
        district="城东区",
    )
    return [erased, erased, kept]  # the same caller twice: --phone erases both


def _env(services) -> dict[str, str]:
    config = services.config
    env = {"HOTLINE_DATA_DIR": str(config.data_dir)}
    if config.database_url:
        env["HOTLINE_DATABASE_URL"] = config.database_url
    return env


def _handled(services) -> list[str]:
    app, hbj = services.app, department("HBJ")
    tickets = []
    for n, call in enumerate(_calls()):
        ticket = clocked(app, T0 + timedelta(minutes=n)).open_case(call, OPERATOR_ACTOR).ticket_no
        clocked(app, T0 + timedelta(minutes=10 + n)).dispatch(ticket, OPERATOR_ACTOR, "HBJ")
        clocked(app, T0 + timedelta(minutes=20 + n)).sign(ticket, hbj)
        clocked(app, T0 + timedelta(hours=2 + n)).reply(ticket, hbj, "已责令施工方夜间停工", True)
        tickets.append(ticket)
    services.read_models.catch_up()
    return tickets


def _decrypted_states(services) -> bytes:
    """Every stored event's state decrypted with the store's key: what someone holding the store
    and its key (a backup and the key file) could read."""
    cipher = AESCipher(Environment(env={"CIPHER_KEY": services.config.cipher_key_text()}))
    notifications = services.app.recorder.select_notifications(0, 100_000)
    return b"\n".join(cipher.decrypt(n.state) for n in notifications)


def _views(services) -> str:
    models = services.read_models
    return json.dumps({name: models.dump(name) for name in models.views}, ensure_ascii=False, default=str)


def test_erased_callers_are_unreadable_everywhere_and_the_audit_and_figures_stand(services):
    tickets = _handled(services)
    first, second, kept = tickets
    figures = services.read_models.metrics("2025-09")
    assert PHONE.encode() not in _decrypted_states(services)  # sealed with the case's key from the start
    assert services.read_models.caller_history(PHONE)  # the views find the caller by the number's hash
    # No table of the read models holds a phone number in clear, not even one typed into the words.
    assert PHONE not in _views(services) and OTHER_PHONE not in _views(services)
    assert OTHER_PHONE.encode() not in raw_bytes(services)

    erased = run("privacy", "erase", "--phone", PHONE, "--reason", "来电人本人申请删除（个人信息保护法第四十七条）",
                 "--by", "admin-li", env=_env(services))  # fmt: skip
    assert erased.returncode == 0, erased.stderr
    assert f"{first}：已删除个人信息，工单密钥已销毁" in erased.stdout and second in erased.stdout
    assert kept not in erased.stdout
    services.read_models.catch_up()

    # The application (here and in a process started afresh, without any cache) reads it erased.
    fresh = bootstrap(services.config)
    try:
        for app in (services.app, fresh.app):
            case = app.get_case(first)
            assert (case.caller_name, case.caller_phone, case.description, case.address) == (ERASED,) * 4
            assert (case.status, case.department, case.reply_by) == ("replied", "HBJ", case.reply_by)
            assert app.get_case(kept).caller_phone == OTHER_PHONE  # another caller's case untouched
        [erasure] = [e for e in fresh.app.case_events(first) if type(e).__name__ == "PersonalDataErased"]
        assert (erasure.actor_id, erasure.reason) == ("cli:admin-li", "来电人本人申请删除（个人信息保护法第四十七条）")
        opened = fresh.app.mapper.to_domain_event(fresh.app.recorder.select_notifications(0, 1)[0])
        assert opened.caller_phone == ERASED  # the stored event itself: its key is gone
    finally:
        fresh.close()

    # The raw store, and the events decrypted with the store's key.
    for dump in (raw_bytes(services), _decrypted_states(services)):
        for secret in (NAME, PHONE, "凌晨装修电钻", "3单元501室"):
            assert secret.encode() not in dump, secret
    assert OTHER_PHONE.encode() not in _decrypted_states(services)  # sealed too, but its key is there
    # The read models: no number, name, words or house of the erased caller, and no way to find them.
    views = _views(services)
    for secret in (NAME, PHONE, "凌晨装修电钻", "3单元501室"):
        assert secret not in views, secret
    assert services.read_models.caller_history(PHONE) == []
    row = services.read_models.cases.get(first)
    assert (row.description, row.address, row.caller_key, row.erased) == (ERASED, ERASED, None, True)

    # The audit chain verifies; the month's figures are what they were.
    assert verify(services.app.recorder, services.config.audit_key_bytes()).intact
    audited = run("audit", "verify", env=_env(services))
    assert audited.returncode == 0, audited.stdout
    assert services.read_models.metrics("2025-09") == figures

    # The pages and the API.
    ensure_demo_users(services.app, services.passwords)
    web = create_app(services, testing=True)
    web.config["SESSION_COOKIE_SECURE"] = False
    from tests.store.web.conftest import Browser

    operator = Browser(web)
    assert operator.login("operator").status_code == 302
    page = operator.get(f"/cases/{first}").text
    assert ERASED in page and "删除个人信息" in page and "来电人本人申请删除" in page  # the timeline says it
    for secret in (NAME, PHONE, "凌晨装修电钻", "3单元501室"):
        assert secret not in page, secret
    assert OTHER_PHONE in operator.get(f"/cases/{kept}").text
    key = services.app.issue_api_key("市大数据局", SYSTEM_ACTOR, scope="all")
    listed = web.test_client().get("/open311/v2/requests.json", headers={"X-API-Key": key.key})
    body = json.dumps(listed.json, ensure_ascii=False)
    assert listed.status_code == 200 and first in body
    for secret in (NAME, PHONE, "凌晨装修电钻", "3单元501室"):
        assert secret not in body, secret


def test_export_gives_a_person_their_data_and_nothing_once_erased(services):
    first, second, _ = _handled(services)
    exported = run("privacy", "export", "--phone", PHONE, env=_env(services))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert [c["ticket_no"] for c in document["cases"]] == [first, second]
    assert document["cases"][0] | {"caller_name": NAME, "caller_phone": PHONE, "address": HOUSE} == document["cases"][0]
    assert document["cases"][0]["description"] == WORDS and document["cases"][0]["department"] == "HBJ"
    run("privacy", "erase", "--ticket", first, "--reason", "来电人本人申请删除", env=_env(services))
    again = json.loads(run("privacy", "export", "--phone", PHONE, env=_env(services)).stdout)
    assert [c["ticket_no"] for c in again["cases"]] == [second]  # the erased one is no longer theirs to find
    refused = run("privacy", "erase", "--ticket", first, "--reason", "短", env=_env(services))
    assert refused.returncode == 0 and "此前已删除" in refused.stdout  # erased once; the key stays gone
    bad = run("privacy", "erase", "--phone", "abc", "--reason", "来电人本人申请删除", env=_env(services))
    assert bad.returncode == 2 and "联系电话格式不正确" in bad.stderr
    none = run("privacy", "erase", "--phone", "13000000000", "--reason", "来电人本人申请删除", env=_env(services))
    assert none.returncode == 1 and "没有找到" in none.stderr


OLD = datetime(2022, 3, 1, 9, 0, tzinfo=CHINA_TZ)  # closed more than 3 years (rules/privacy.toml) before now


def _closed(app, call: Call, at: datetime) -> str:
    hbj = department("HBJ")
    ticket = clocked(app, at).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(app, at + timedelta(minutes=5)).dispatch(ticket, OPERATOR_ACTOR, "HBJ")
    clocked(app, at + timedelta(minutes=30)).sign(ticket, hbj)
    clocked(app, at + timedelta(hours=3)).reply(ticket, hbj, "已处理", True)
    clocked(app, at + timedelta(hours=5)).record_callback(ticket, OPERATOR_ACTOR, True, "satisfied", True,
                                                         contacted_first=True)  # fmt: skip
    clocked(app, at + timedelta(hours=6)).close_case(ticket, OPERATOR_ACTOR)
    return ticket


def test_retention_erases_what_was_closed_before_the_period_and_nothing_else(services):
    app, models = services.app, services.read_models
    old_call, _, other_call = _calls()
    expired = _closed(app, old_call, OLD)
    still_open = clocked(app, OLD + timedelta(minutes=1)).open_case(other_call, OPERATOR_ACTOR).ticket_no
    recent = _closed(app, other_call, datetime.now(CHINA_TZ) - timedelta(days=400))
    models.catch_up()
    figures = models.metrics("2022-03")
    words_before = models.dump("reports")["hv_report_words"]
    planned = run("privacy", "retention", "run", "--dry-run", env=_env(services))
    assert planned.returncode == 0 and "办结后 3 年" in planned.stdout and expired in planned.stdout
    assert recent not in planned.stdout and still_open not in planned.stdout
    assert app.get_case(expired).caller_phone == PHONE  # a dry run erases nothing

    ran = run("privacy", "retention", "run", env=_env(services))
    assert ran.returncode == 0, ran.stderr
    assert f"{expired}：已删除个人信息" in ran.stdout and "共删除 1 件" in ran.stdout
    models.catch_up()
    assert app.get_case(expired).caller_phone == ERASED
    assert app.get_case(recent).caller_phone == app.get_case(still_open).caller_phone == OTHER_PHONE
    [erasure] = [e for e in app.case_events(expired) if type(e).__name__ == "PersonalDataErased"]
    assert erasure.actor_id == "system" and "保存期限届满：办结后 3 年" in erasure.reason
    assert models.metrics("2022-03") == figures  # the month's figures stand
    words_after = models.dump("reports")["hv_report_words"]
    assert sum(n for *_, n in words_after) < sum(n for *_, n in words_before)  # its words no longer count
    assert "电钻" not in json.dumps(words_after, ensure_ascii=False)
    again = run("privacy", "retention", "run", env=_env(services))
    assert "共删除 0 件" in again.stdout  # erased once


def _key_rows(services) -> set[str]:
    recorder = services.app.recorder
    table = f"{recorder.events_table_name}_personal_keys"
    if getattr(recorder.datastore, "schema", None):
        table = f'"{recorder.datastore.schema}"."{table}"'
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT key_id FROM {table}")
        return {row[0] if isinstance(row, tuple) else row["key_id"] for row in cursor.fetchall()}


def test_a_case_and_its_key_are_stored_together_or_not_at_all(services, monkeypatch):
    app = services.app
    before = _key_rows(services)
    build = app._build

    def crashed(*args, **kwargs):  # the cases made and sealed, then the process fails before the commit
        build(*args, **kwargs)
        raise RuntimeError("连接中断")

    monkeypatch.setattr(app, "_build", crashed)
    try:
        app.open_cases([(call, None) for call in _calls()], OPERATOR_ACTOR)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the batch should have failed")
    assert _key_rows(services) == before  # no key of a case that was never stored
    monkeypatch.undo()
    opened = app.open_cases([(call, None) for call in _calls()], OPERATOR_ACTOR)
    keys = {app.get_case(opening.ticket_no).personal_key for opening in opened}
    assert len(keys) == 3 and _key_rows(services) == before | keys
