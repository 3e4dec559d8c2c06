"""Two processes making the same view's tables at once on PostgreSQL: a web worker starting while a
rebuild creates its tables again, or two rebuild workers starting. Without a lock the second
``CREATE TABLE IF NOT EXISTS`` waits on the first one's uncommitted catalogue row and then fails
(a duplicate key in ``pg_type``): the worker does not start. With it the second waits its turn.
The two processes are two services here, each with its own connections, in two threads."""

from __future__ import annotations

import threading

import pytest

from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config

pytestmark = pytest.mark.postgres


def test_a_view_created_by_two_processes_at_once_is_created_once(pg_schema, tmp_path):
    starting, rebuilding = (bootstrap(Config(database_url=pg_schema, data_dir=tmp_path)) for _ in range(2))
    try:
        ledger, ledger_too = starting.read_models.views["supervision"], rebuilding.read_models.views["supervision"]
        view = ledger.view
        with view.writing(None) as cursor:  # the rebuild has dropped the ledger's tables
            for table in ledger.tables:
                view.execute(cursor, f"DROP TABLE {view.table(table.name)}")

        created_one, go_on = threading.Event(), threading.Event()
        execute = view.execute

        def slow_execute(cursor, statement, params=()):  # the rebuild pauses inside its transaction
            execute(cursor, statement, params)
            if statement.startswith("CREATE TABLE") and not created_one.is_set():
                created_one.set()
                go_on.wait(5)

        view.execute = slow_execute  # type: ignore[method-assign]
        failures: list[BaseException] = []

        def create(view_of_ledger) -> None:
            try:
                view_of_ledger.create_tables()
            except BaseException as error:  # reported below
                failures.append(error)

        first = threading.Thread(target=create, args=(ledger,))
        first.start()
        assert created_one.wait(5)
        second = threading.Thread(target=create, args=(ledger_too,))
        second.start()
        second.join(0.5)
        assert second.is_alive(), "the second process waits while the first one holds the tables"
        go_on.set()
        first.join(10)
        second.join(10)
        assert not failures and not second.is_alive()
        assert ledger_too.position() == 0
        with view.writing(None) as cursor:
            found = view.columns(cursor, ledger.tables[0].name)
        assert "id" in found
    finally:
        starting.close()
        rebuilding.close()
