"""Shared fixtures. The application runs on both stores: SQLite (a temp file) and PostgreSQL
(a fresh schema on the local server, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from hotline.domain.actors import DEPARTMENT, OPERATOR, SUPERVISOR, Actor
from hotline.infra.bootstrap import Services, bootstrap
from hotline.infra.config import Config
from hotline.infra.rule_files import load_rules
from tests.support.paths import PROJECT_DIR

PG_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def rules():
    return load_rules(PROJECT_DIR / "rules")


@pytest.fixture(scope="session")
def calendar(rules):
    return rules.calendar


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema for one test; the URL to reach it."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_libpq(PG_URL), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: {error}. Start it (see README) and retry.")
    yield f"{PG_URL}?schema={name}"
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def _libpq(url: str) -> str:
    return url.split("?", maxsplit=1)[0]


def make_config(store: str, tmp_path: Path, request) -> Config:
    if store == "postgres":
        url = request.getfixturevalue("pg_schema")
        return Config(database_url=url, data_dir=tmp_path)
    return Config(data_dir=tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request):
    return request.param


@pytest.fixture
def services(store, tmp_path, request) -> Services:
    built = bootstrap(make_config(store, tmp_path, request))
    yield built
    built.close()


@pytest.fixture
def sqlite_services(tmp_path) -> Services:
    built = bootstrap(Config(data_dir=tmp_path))
    yield built
    built.close()


@pytest.fixture
def hotline(services):
    return services.app


OPERATOR_ACTOR = Actor("op-1001", OPERATOR)
SUPERVISOR_ACTOR = Actor("sup-01", SUPERVISOR)


def department(code: str) -> Actor:
    return Actor(f"dept-{code.lower()}", DEPARTMENT, code)


def department_code(rules, name: str) -> str:
    """A department's code from the name the scenarios use (rules/departments.csv)."""
    return next(code for code, department in rules.departments.items() if department.name == name)


def department_named(rules, name: str) -> Actor:
    return department(department_code(rules, name))
