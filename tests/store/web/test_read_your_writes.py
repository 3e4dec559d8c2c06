"""Read models kept up to date outside the request.

A projection runner (a thread of ``hotline serve``, here a thread of the test; or
``hotline projections run`` in a process of its own, as beside gunicorn) follows the notification
log. Pages then read the views as they are, and wait (a bounded time) only for the
user's own last write to be in them: read-your-writes without catching up in the request. When the
runner lags, a page says so instead of waiting for ever. Both stores; the pages on SQLite.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from hotline.projections.runner_beat import STALE_AFTER
from tests.conftest import OPERATOR_ACTOR
from tests.store.reliability.test_conflicts import CALL
from tests.store.web.test_operator_pages import log_call
from tests.support.servers import PROJECT_DIR, server_env


class Runner:
    """``ReadModels.follow`` in a thread, stopped at the end of the test."""

    def __init__(self, read_models):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=read_models.follow, args=(self.stop,), daemon=True)
        self.read_models = read_models

    def __enter__(self):
        self.thread.start()
        while not self.read_models.followed:
            self.stop.wait(0.01)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def test_the_runner_follows_the_log_and_a_reader_waits_only_for_its_own_write(services):
    app, models = services.app, services.read_models
    with Runner(models):
        app.forget_written()
        ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
        written = app.written()
        assert written == app.recorder.max_notification_id()

        freshness = models.fresh_for(written)

        assert not freshness.own_write_missing and freshness.position >= written
        rows, total = models.cases.search(ticket_nos=[ticket])
        assert total == 1 and rows[0].ticket_no == ticket
    assert not models.followed


def test_without_a_runner_a_reader_catches_up_itself_as_before(services):
    app, models = services.app, services.read_models
    ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no

    freshness = models.fresh_for(None)

    assert freshness.pending == 0 and not freshness.lagging
    assert models.cases.search(ticket_nos=[ticket])[1] == 1


def test_when_the_runner_lags_the_wait_ends_and_says_how_far_the_views_got(services):
    app, models = services.app, services.read_models
    models.catch_up()
    models.followed = True  # a runner said it follows, but has stalled
    try:
        app.open_case(CALL, OPERATOR_ACTOR)
        written = app.written()

        freshness = models.fresh_for(written, wait=0.05)

        assert freshness.own_write_missing and freshness.lagging
        assert freshness.position < written and freshness.pending == written - freshness.position
    finally:
        models.followed = False


# ---- the pages -----------------------------------------------------------------------------------


@pytest.fixture
def runner(web_services):
    with Runner(web_services.read_models) as running:
        yield running


def test_an_operator_sees_the_call_just_logged_on_the_console_while_the_runner_keeps_the_views(signed_in, runner):
    operator = signed_in("operator")
    response = log_call(operator)
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", response.text).group(1)

    console = operator.get("/operator")

    assert ticket in console.text  # in the queue awaiting dispatch: the page waited for this write
    assert "正在后台处理" not in console.text


def test_a_page_says_so_when_the_views_lag_behind(signed_in, web_services):
    operator = signed_in("operator")
    models = web_services.read_models
    models.catch_up()
    models.followed = True  # nobody catches up: the runner has stalled
    try:
        log_call(operator)
        console = operator.get("/operator")
    finally:
        models.followed = False

    assert console.status_code == 200
    assert "您刚才的操作仍在后台处理中" in console.text and "项更新正在后台处理" in console.text


# ---- a runner in a process of its own (gunicorn's workers run none) ------------------------------


@contextmanager
def runner_process(services, log_path):
    """``hotline projections run`` beside this process, as a deployment runs it beside gunicorn."""
    command = [sys.executable, "-m", "hotline.entrypoints.cli", "projections", "run", "--interval", "0.2"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=server_env(services.config), cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not services.read_models.is_followed():
            assert process.poll() is None, log_path.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the runner never said it follows the log"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_runner_in_its_own_process_keeps_the_views_and_pages_here_only_wait(services, tmp_path):
    app, models = services.app, services.read_models
    with runner_process(services, tmp_path / "runner.log") as runner:
        app.forget_written()
        ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no

        freshness = models.fresh_for(app.written())

        assert not models.followed  # nothing here follows the log: the other process brought the case in
        assert not freshness.own_write_missing and models.cases.search(ticket_nos=[ticket])[1] == 1
        runner.terminate()  # a clean stop takes its beat away: pages here catch up themselves at once
        assert runner.wait(timeout=30) == 0
        until(lambda: not models.is_followed(), seconds=5)
        other = app.open_case(CALL, OPERATOR_ACTOR).ticket_no
        assert models.fresh_for(None).pending == 0 and models.cases.search(ticket_nos=[other])[1] == 1


def test_a_runner_killed_without_a_goodbye_is_trusted_only_until_its_beat_runs_out(services, tmp_path):
    app, models = services.app, services.read_models
    with runner_process(services, tmp_path / "runner.log") as runner:
        runner.kill()
        runner.wait(timeout=10)
        ticket = app.open_case(CALL, OPERATOR_ACTOR).ticket_no

        stale = models.fresh_for(None)  # the beat still vouches for the views: nobody catches up

        assert stale.lagging and models.cases.search(ticket_nos=[ticket])[1] == 0
        until(lambda: not models.is_followed(), seconds=STALE_AFTER + 5)
        assert models.fresh_for(None).pending == 0 and models.cases.search(ticket_nos=[ticket])[1] == 1
