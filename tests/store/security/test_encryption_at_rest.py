"""Personal data encrypted at rest: no caller name or phone number in clear anywhere in the store."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from eventsourcing.cryptography import AESCipher

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config, ConfigError
from hotline.infra.keys import decode_key
from tests.conftest import OPERATOR_ACTOR

T0 = datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)
CALLERS = [
    ("欧阳明月", "13987654321"),
    ("司马青云", "15812349876"),
    ("Zhuge Liang", "18600001234"),
]
PLAIN = {
    "CIPHER_TOPIC": "",
    "CIPHER_KEY": "",
    "COMPRESSOR_TOPIC": "",
    "MAPPER_TOPIC": "",  # nor the cases' own keys (infra/store/personal_keys.py)
}  # the library's default: no cipher


def secrets_in_clear() -> list[bytes]:
    found = []
    for name, phone in CALLERS:
        found += [name.encode("utf-8"), phone.encode("ascii")]
    return found


def log_calls(services) -> list[str]:
    tickets = []
    for n, (name, phone) in enumerate(CALLERS):
        call = Call(
            channel="phone",
            category="complaint",
            service_code="noise",
            description="夜间施工噪音扰民",
            caller_name=name,
            caller_phone=phone,
            district="城东区",
        )
        tickets.append(clocked(services.app, T0 + timedelta(minutes=n)).open_case(call, OPERATOR_ACTOR).ticket_no)
    if services.read_models is not None:
        services.read_models.catch_up()  # the views hold what they derive from these events too
    return tickets


def raw_bytes(services) -> bytes:
    """Everything the store holds: every SQLite file in the data dir (with WAL), or every row of
    every table in the PostgreSQL schema."""
    config = services.config
    if not config.uses_postgres:
        return b"".join(path.read_bytes() for path in sorted(config.data_dir.iterdir()) if ".sqlite3" in path.name)
    import psycopg

    base, _, query = config.database_url.partition("?")
    schema = query.split("schema=", 1)[1]
    chunks = []
    with psycopg.connect(base) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert {"hotline_events", "hotline_events_audit", "hotline_events_audit_tx"} <= set(tables)
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"'):
                for value in row:
                    chunks.append(bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode())
    return b"\n".join(chunks)


def test_no_caller_name_or_phone_in_clear_and_cases_read_back(services):
    tickets = log_calls(services)
    dump = raw_bytes(services)
    assert len(dump) > 1000
    assert [secret for secret in secrets_in_clear() if secret in dump] == []
    # Round trip: the application reads them back.
    for ticket, (name, phone) in zip(tickets, CALLERS, strict=True):
        case = services.app.get_case(ticket)
        assert (case.caller_name, case.caller_phone) == (name, phone)


def test_the_same_scan_finds_them_when_encryption_is_off(store, tmp_path, request):
    """The scan above can fail: with the library's default (no cipher) the data is in clear."""
    from tests.conftest import make_config

    config = make_config(store, tmp_path, request)
    plain = bootstrap(Config(**{**config.__dict__, "extra_env": PLAIN}))
    try:
        log_calls(plain)
        dump = raw_bytes(plain)
    finally:
        plain.close()
    assert CALLERS[0][1].encode() in dump and CALLERS[0][0].encode("utf-8") in dump


def test_an_unencrypted_store_is_refused_with_a_clear_message(store, tmp_path, request):
    from tests.conftest import make_config

    config = make_config(store, tmp_path, request)
    plain = bootstrap(Config(**{**config.__dict__, "extra_env": PLAIN}))
    log_calls(plain)
    plain.close()
    with pytest.raises(ConfigError, match=r"无法解密已存储的事件.*Cannot decrypt stored event #1"):
        bootstrap(config)


def test_another_key_is_refused_and_the_right_one_reads(tmp_path):
    first = bootstrap(Config(data_dir=tmp_path))
    [ticket, *_] = log_calls(first)
    first.close()
    other = Config(data_dir=tmp_path, cipher_key=AESCipher.create_key(32))
    with pytest.raises(ConfigError, match="加密密钥与写入时不同"):
        bootstrap(other)
    key = (tmp_path / "cipher.key").read_text().strip()
    (tmp_path / "cipher.key").unlink()  # the key now comes from HOTLINE_CIPHER_KEY only
    again = bootstrap(Config(data_dir=tmp_path, cipher_key=key))
    try:
        assert again.app.get_case(ticket).caller_phone == CALLERS[0][1]
    finally:
        again.close()


def test_a_malformed_key_is_a_clear_config_error(tmp_path):
    with pytest.raises(ConfigError, match="HOTLINE_CIPHER_KEY 不是有效的密钥"):
        bootstrap(Config(data_dir=tmp_path, cipher_key="not-a-key"))


def test_keys_generate_prints_a_key_and_makes_a_private_file_once(tmp_path):
    runner = CliRunner()
    printed = runner.invoke(main, ["keys", "generate"])
    assert printed.exit_code == 0 and len(decode_key(printed.output, "key")) == 32
    path = tmp_path / "var" / "cipher.key"
    made = runner.invoke(main, ["keys", "generate", "--if-missing", "--out", str(path)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text()
    kept = runner.invoke(main, ["keys", "generate", "--if-missing", "--out", str(path)])
    assert kept.exit_code == 0 and path.read_text() == key
    refused = runner.invoke(main, ["keys", "generate", "--out", str(path)])
    assert refused.exit_code == 1 and "不覆盖" in refused.output and path.read_text() == key
    assert Config(data_dir=tmp_path / "var").cipher_key_text() == key.strip()
