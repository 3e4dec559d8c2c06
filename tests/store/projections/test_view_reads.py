"""A page's reads of the views on PostgreSQL: each one statement, autocommitted (no BEGIN and
ROLLBACK around it), and the connection goes back to the pool as it came, in a transaction for the
next writer: a writer's statements would otherwise each commit alone."""

from __future__ import annotations

import pytest

from hotline.projections.store import PostgresViewRecorder

pytestmark = pytest.mark.postgres


@pytest.fixture
def store():
    return "postgres"


def test_a_read_gives_its_connection_back_as_it_took_it_even_when_it_fails(services):
    view = services.read_models.recorder
    assert isinstance(view, PostgresViewRecorder)
    assert view.query("SELECT ? AS answer", ["好"]) == [{"answer": "好"}]
    with pytest.raises(Exception, match="no_such_view"):
        view.query("SELECT * FROM no_such_view")
    for _ in range(3):  # the pool hands out the connection given back last: the one just used
        with view.datastore.get_connection() as connection:
            assert connection.autocommit is False
    with view.writing(None) as cursor:  # and a writer's transaction is one again
        view.execute(cursor, "CREATE TEMPORARY TABLE probe (n INTEGER) ON COMMIT DROP")
        view.execute(cursor, "INSERT INTO probe VALUES (1)")
        assert view.select(cursor, "SELECT COUNT(*) AS n FROM probe") == [{"n": 1}]
