"""Processes starting at the same moment on a new PostgreSQL schema all come up."""

import multiprocessing

import pytest

from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config


def start(url: str, data_dir: str) -> int:
    from pathlib import Path

    services = bootstrap(Config(database_url=url, data_dir=Path(data_dir)))
    try:
        return len(list(services.app.case_ids()))
    finally:
        services.close()


@pytest.mark.postgres
def test_four_processes_set_up_a_new_schema_together(pg_schema, tmp_path):
    Config(data_dir=tmp_path).caller_key()  # the shared key files exist, as after `make run`
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.starmap(start, [(pg_schema, str(tmp_path))] * 4, chunksize=1) == [0, 0, 0, 0]
