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
  HOTLINE_COOKIE_SECURE  1 (default): session cookies only over HTTPS; `hotline serve` on a loopback
                         address relaxes it so that http://127.0.0.1 works; 0 turns it off
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

PROJECT_DIR = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A configuration value is wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Config:
    database_url: str | None = None
    data_dir: Path = PROJECT_DIR / "var"
    rules_dir: Path = PROJECT_DIR / "rules"
    kafka_bootstrap: str | None = None
    secret_key: str | None = None
    caller_hash_key: str | None = None
    cookie_secure: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("HOTLINE_DATABASE_URL") or None,
            data_dir=Path(env.get("HOTLINE_DATA_DIR") or PROJECT_DIR / "var"),
            rules_dir=Path(env.get("HOTLINE_RULES_DIR") or PROJECT_DIR / "rules"),
            kafka_bootstrap=env.get("HOTLINE_KAFKA_BOOTSTRAP") or None,
            secret_key=env.get("HOTLINE_SECRET_KEY") or None,
            caller_hash_key=env.get("HOTLINE_CALLER_HASH_KEY") or None,
            cookie_secure=(env.get("HOTLINE_COOKIE_SECURE") or "1").strip().lower() not in ("0", "false", "no"),
        )

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

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for the chosen store."""
        env = {"AGGREGATE_CACHE_MAXSIZE": "10000"}
        if self.database_url:
            env.update(postgres_env(self.database_url))
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(self.sqlite_path("hotline")),
                SQLITE_LOCK_TIMEOUT="30",
            )
        env.update(self.extra_env)
        return env

    def flask_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "flask-secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()


    def caller_key(self) -> bytes:
        """The key of the callers' phone hash (HMAC-SHA256); a key file is made on first use."""
        if self.caller_hash_key:
            return self.caller_hash_key.encode("utf-8")
        path = self.data_dir / "caller-hash.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode("utf-8")


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
        "POSTGRES_PRE_PING": "y",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env
