"""The embedded store shared by processes: a server keeps its store open while an operator runs a
command beside it. Nothing the server stores afterwards may be lost.

Seen before the fix (a CI run, 2026-12-03: "database disk image is malformed"): every process's
start-up opened and closed the events file once more after SQLite had opened it (to keep the file
private), which dropped SQLite's own locks on it in that process. The command, closing its
connection, then took the store for unused: it checkpointed and deleted the WAL the server was
still writing to, and the server's next case was written where no other process could read it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from tests.conftest import OPERATOR_ACTOR
from tests.store.projections.test_read_models import T0
from tests.support.cli import ISOLATED


def command(data_dir, *args: str) -> subprocess.CompletedProcess:
    """``hotline …`` in a process of its own, as an operator runs it beside the server."""
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    env["HOTLINE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "hotline.entrypoints.cli", *args],
        check=False,  # the test reads the return code itself
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def logged(app, n: int) -> str:
    call = Call(channel="phone", category="consult", service_code="noise", description=f"第 {n} 件：夜间施工噪音")
    return clocked(app, T0).open_case(call, OPERATOR_ACTOR).ticket_no


def test_a_command_run_beside_the_server_loses_nothing_the_server_stores_after_it(tmp_path):
    server = bootstrap(Config(data_dir=tmp_path))
    try:
        before = logged(server.app, 1)
        status = command(tmp_path, "projections", "status")
        assert status.returncode == 0, status.stderr
        after = logged(server.app, 2)  # stored while the server goes on, after the command closed

        listed = command(tmp_path, "cases", "--json")  # another process reads the store
        assert listed.returncode == 0, listed.stderr
        tickets = [json.loads(line)["ticket_no"] for line in listed.stdout.splitlines() if line.strip()]
        assert tickets.count(before) == 1 and tickets.count(after) == 1
    finally:
        server.close()
