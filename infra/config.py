"""The one module that reads the environment. Everything else receives a ``Config``.

Variables (README lists them too):
  HOTLINE_DATABASE_URL   unset: SQLite file under HOTLINE_DATA_DIR;
                         postgresql://user[:password]@host[:port]/db[?schema=name]: PostgreSQL
  HOTLINE_DATA_DIR       where SQLite files and local keys live (default: ./var)
  HOTLINE_RULES_DIR      the city's editable rule tables (default: the project's rules/)
  HOTLINE_KAFKA_BOOTSTRAP host:port of the Kafka cluster; unset: the in-process bus
  HOTLINE_SECRET_KEY     the web app's session signing key (default: a key file under the data dir)
  HOTLINE_CALLER_HASH_KEY key of the callers' keyed phone hash in the read models (default: a key
                         file under the data dir); changing it needs `hotline projections rebuild`
  HOTLINE_CIPHER_KEY     AES-256 key (base64, from `hotline keys generate`) that encrypts event state
                         at rest; unset: the key file below, created on first use
  HOTLINE_CIPHER_KEY_FILE where that local key lives (default: cipher.key under the data dir)
  HOTLINE_AUDIT_KEY      key of the audit hash chain (`hotline audit verify`); unset: derived from
                         the cipher key. Set it to let auditors verify without reading personal data
  HOTLINE_COOKIE_SECURE  1 (default): session cookies only over HTTPS; `hotline serve` on a loopback
                         address relaxes it so that http://127.0.0.1 works; 0 turns it off
  HOTLINE_TRUSTED_PROXIES addresses or networks (comma-separated) of the reverse proxies whose
                         X-Forwarded-For / X-Forwarded-Proto count; unset: none, the peer address counts
  HOTLINE_DEMO           1: serve although demo accounts are active (gunicorn; `hotline serve --demo`)
  HOTLINE_REDIS_URL      redis://host:port/db shared by every web process for the sign-in slow-down and
                         the Open311 rate limit; unset: each process counts in its own memory
  HOTLINE_OUTBOX_DIR     where messages go when no gateway is configured (default: outbox under the data dir)
  HOTLINE_SMS_URL        the HTTP SMS gateway (unset: SMS are written to the outbox folder);
  HOTLINE_SMS_TOKEN      its bearer token; HOTLINE_SMS_BODY its JSON body with {to} {text} {key};
  HOTLINE_SMS_CALLBACK_SECRET the HMAC key the gateway signs callers' SMS replies with
  HOTLINE_SMTP_HOST      the SMTP server (unset: e-mails are written to the outbox folder); HOTLINE_SMTP_PORT,
                         HOTLINE_SMTP_USER, HOTLINE_SMTP_PASSWORD, HOTLINE_SMTP_FROM,
                         HOTLINE_SMTP_SECURITY (none, starttls, ssl)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from hotline.infra.keys import (
    InvalidKey,
    decode_key,
    derive_audit_key,
    private_file,
    read_or_create_key_file,
    read_or_create_secret_file,
)
from hotline.infra.rule_files import DEFAULT_RULES_DIR
from hotline.infra.store import personal_keys, transcoder
from hotline.infra.store.audit_chain import RECORDER_TOPICS


class ConfigError(Exception):
    """A configuration value is wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Config:
    database_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path.cwd() / "var")
    rules_dir: Path = DEFAULT_RULES_DIR
    kafka_bootstrap: str | None = None
    secret_key: str | None = None
    caller_hash_key: str | None = None
    cipher_key: str | None = None
    cipher_key_file: Path | None = None  # None: cipher.key under data_dir
    audit_key: str | None = None
    cookie_secure: bool = True
    trusted_proxies: tuple[str, ...] = ()
    redis_url: str | None = None
    demo: bool = False  # HOTLINE_DEMO: the demo is served, its accounts active
    outbox_dir: Path | None = None  # None: outbox under data_dir
    sms_url: str | None = None
    sms_token: str = ""
    sms_body: str | None = None
    sms_callback_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "12345-hotline@localhost"
    smtp_security: str = "none"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("HOTLINE_DATABASE_URL") or None,
            data_dir=Path(env.get("HOTLINE_DATA_DIR") or Path.cwd() / "var").absolute(),
            rules_dir=Path(env["HOTLINE_RULES_DIR"]).absolute() if env.get("HOTLINE_RULES_DIR") else DEFAULT_RULES_DIR,
            kafka_bootstrap=env.get("HOTLINE_KAFKA_BOOTSTRAP") or None,
            secret_key=env.get("HOTLINE_SECRET_KEY") or None,
            caller_hash_key=env.get("HOTLINE_CALLER_HASH_KEY") or None,
            cipher_key=env.get("HOTLINE_CIPHER_KEY") or None,
            cipher_key_file=Path(env["HOTLINE_CIPHER_KEY_FILE"]) if env.get("HOTLINE_CIPHER_KEY_FILE") else None,
            audit_key=env.get("HOTLINE_AUDIT_KEY") or None,
            cookie_secure=(env.get("HOTLINE_COOKIE_SECURE") or "1").strip().lower() not in ("0", "false", "no"),
            trusted_proxies=_networks(env.get("HOTLINE_TRUSTED_PROXIES") or ""),
            redis_url=_redis_url(env.get("HOTLINE_REDIS_URL") or None),
            demo=(env.get("HOTLINE_DEMO") or "0").strip().lower() in ("1", "true", "yes"),
            outbox_dir=Path(env["HOTLINE_OUTBOX_DIR"]).absolute() if env.get("HOTLINE_OUTBOX_DIR") else None,
            sms_url=env.get("HOTLINE_SMS_URL") or None,
            sms_token=env.get("HOTLINE_SMS_TOKEN") or "",
            sms_body=env.get("HOTLINE_SMS_BODY") or None,
            sms_callback_secret=env.get("HOTLINE_SMS_CALLBACK_SECRET") or None,
            smtp_host=env.get("HOTLINE_SMTP_HOST") or None,
            smtp_port=_port(env.get("HOTLINE_SMTP_PORT") or "25", "HOTLINE_SMTP_PORT"),
            smtp_user=env.get("HOTLINE_SMTP_USER") or "",
            smtp_password=env.get("HOTLINE_SMTP_PASSWORD") or "",
            smtp_from=env.get("HOTLINE_SMTP_FROM") or "12345-hotline@localhost",
            smtp_security=_choice(env.get("HOTLINE_SMTP_SECURITY") or "none", ("none", "starttls", "ssl")),
        )

    def outbox(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    def store_description(self) -> str:
        if not self.database_url:
            return f"SQLite {self.sqlite_path('hotline')}"
        parsed = urlparse(self.database_url)
        return f"PostgreSQL {parsed.hostname}:{parsed.port or 5432}/{parsed.path.lstrip('/')}"

    def sqlite_path(self, name: str) -> Path:
        return self.data_dir / f"{name}.sqlite3"

    def event_store_env(self, encrypted: bool = True) -> dict[str, str]:
        """The eventsourcing library's settings for the chosen store: event state encrypted with
        AES-256-GCM (not compressed: zlib cost more CPU than it saved, see docs/reliability.md) and
        every event sealed into the audit chain by the recorder. ``encrypted=False`` is for reading
        the stored bytes only (``hotline audit verify``)."""
        env = {"AGGREGATE_CACHE_MAXSIZE": "10000"}
        if self.database_url:
            env.update(postgres_env(self.database_url))
        else:
            private_file(self.sqlite_path("hotline"))  # 0600 in a 0700 folder; the WAL files follow
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(self.sqlite_path("hotline")),
                SQLITE_LOCK_TIMEOUT="30",
            )
        env["APPLICATION_RECORDER_TOPIC"] = RECORDER_TOPICS[env["PERSISTENCE_MODULE"]]
        env["TRANSCODER_TOPIC"] = transcoder.TOPIC  # the library's bytes, written by orjson
        env["MAPPER_TOPIC"] = personal_keys.TOPIC  # a new case's personal fields sealed with its own key
        if encrypted:
            env.update(
                CIPHER_TOPIC="eventsourcing.cryptography:AESCipher",
                CIPHER_KEY=self.cipher_key_text(),
            )
        env.update(self.extra_env)
        return env

    def local_cipher_key_file(self) -> Path:
        return self.cipher_key_file or self.data_dir / "cipher.key"

    def cipher_key_text(self) -> str:
        """HOTLINE_CIPHER_KEY, or the local key file (made on first use, owner-only)."""
        try:
            if self.cipher_key:
                decode_key(self.cipher_key, "HOTLINE_CIPHER_KEY")
                return self.cipher_key.strip()
            return read_or_create_key_file(self.local_cipher_key_file())
        except InvalidKey as error:
            raise ConfigError(str(error)) from None

    def audit_key_bytes(self) -> bytes:
        """HOTLINE_AUDIT_KEY, or a key derived from the cipher key."""
        try:
            if self.audit_key:
                return decode_key(self.audit_key, "HOTLINE_AUDIT_KEY")
        except InvalidKey as error:
            raise ConfigError(str(error)) from None
        return derive_audit_key(decode_key(self.cipher_key_text(), "HOTLINE_CIPHER_KEY"))

    def flask_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return read_or_create_secret_file(self.data_dir / "flask-secret.key", lambda: secrets.token_hex(32))

    def caller_key(self) -> bytes:
        """The key of the callers' phone hash (HMAC-SHA256); a key file is made on first use."""
        if self.caller_hash_key:
            return self.caller_hash_key.encode("utf-8")
        secret = read_or_create_secret_file(self.data_dir / "caller-hash.key", lambda: secrets.token_hex(32))
        return secret.encode("utf-8")


def _port(text: str, name: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{name} 必须是 1 到 65535 之间的端口号")
    return int(text)


def _redis_url(url: str | None) -> str | None:
    if url is not None and urlparse(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("HOTLINE_REDIS_URL 须以 redis://、rediss:// 或 unix:// 开头，如 redis://127.0.0.1:6379/0")
    return url


def _networks(text: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in text.split(",") if part.strip())
    for network in networks:
        try:
            ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(
                f"HOTLINE_TRUSTED_PROXIES 中的 {network} 不是地址或网段，应写成 10.0.0.5 或 10.0.0.0/24，以逗号分隔"
            ) from None
    return networks


def _choice(text: str, allowed: tuple[str, ...]) -> str:
    value = text.strip().lower()
    if value not in allowed:
        raise ConfigError(f"HOTLINE_SMTP_SECURITY 应为 {'、'.join(allowed)} 之一")
    return value


def postgres_env(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"HOTLINE_DATABASE_URL 必须以 postgresql:// 开头，而不是 {parsed.scheme}://")
    dbname = parsed.path.lstrip("/")
    if not dbname or not parsed.hostname:
        raise ConfigError("HOTLINE_DATABASE_URL 须写明主机和数据库，例如 postgresql://root@127.0.0.1:5432/test")
    query = parse_qs(parsed.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parsed.hostname,
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        # No ping before every checkout (it cost a quarter of batched write throughput, see
        # bench/README.md): the library retries reads and writes on a dropped connection instead.
        "POSTGRES_PRE_PING": "n",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env
