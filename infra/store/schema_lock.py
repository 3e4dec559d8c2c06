"""One process at a time sets up the PostgreSQL tables.

The library creates its tables, types and functions with ``IF NOT EXISTS`` / ``OR REPLACE``
statements; two processes doing that at the same moment (gunicorn workers starting together, a
consumer starting beside the web app) can fail with "tuple concurrently updated". An advisory lock
held while the application and the read models are built makes them take turns. SQLite needs
nothing: its writers already queue on the file lock.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from hotline.infra.config import Config, postgres_env


@contextmanager
def schema_setup_lock(config: Config) -> Iterator[None]:
    if not config.database_url:
        yield
        return
    env = postgres_env(config.database_url)
    schema = env.get("POSTGRES_SCHEMA", "public")
    key = zlib.crc32(f"hotline schema setup {schema}".encode())  # fits a bigint, same in every process
    with psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=True,
    ) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
