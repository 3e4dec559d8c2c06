"""Whether a projection runner follows the log from another process.

``hotline serve`` runs its runner as a thread, so its pages know the views are kept up to date.
Under gunicorn the workers run no runner: ``hotline projections run`` follows the log beside them,
in a process of its own. Each runner writes a heartbeat row here (``hv_runner_beat``) about once a
second (after every page of a long catch-up too), saying until when it vouches for the views, and
deletes it when it stops; a page that sees a beat still valid reads the views as they are (waiting
only for the user's own last write) instead of catching up inside the request. A runner killed
without a goodbye stops beating, and ``STALE_AFTER`` seconds past its pause pages catch up
themselves again, so a dead runner never leaves pages stale for long.

Beats are wall-clock seconds of the runner's host: the web hosts' clocks must agree with it to a
second or two (NTP), as they must for the times the record keeps anyway.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from hotline.projections.store import ViewRecorder

BEAT = "hv_runner_beat"
BEAT_EVERY = 1.0  # seconds between two beats of a running runner
STALE_AFTER = 5.0  # a beat is valid until its runner's pause plus this: then the runner is gone (killed, or stalled)
CHECK_EVERY = 1.0  # a page process looks at the beats at most this often


class RunnerBeat:
    def __init__(self, view: ViewRecorder, clock: Callable[[], float] = time.time):
        self.view, self.clock = view, clock
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this process's runner
        self.stale_after = STALE_AFTER
        self._beaten_at = 0.0
        self._checked: tuple[float, bool] = (-CHECK_EVERY, False)
        self._lock = threading.Lock()

    def create(self) -> None:
        with self.view.writing(None) as cursor:
            self.view.lock_tables(cursor)
            self.view.execute(
                cursor,
                f"CREATE TABLE IF NOT EXISTS {self.view.table(BEAT)} "
                "(name TEXT PRIMARY KEY, valid_until DOUBLE PRECISION NOT NULL)",
            )

    def beat(self, pause: float = 0.0) -> None:
        """The runner is alive: called on every turn of its loop (``pause``: how long it may then
        wait for new events) and after every page it reads; written about once a second."""
        now = self.clock()
        if now - self._beaten_at < BEAT_EVERY:
            return
        with self.view.writing(None) as cursor:
            self.view.upsert(cursor, BEAT, ("name", "valid_until"), [(self.name, now + pause + self.stale_after)])
        self._beaten_at = now

    def stop(self) -> None:
        """The runner stops: pages catch up themselves again at once, not after ``STALE_AFTER``."""
        with self.view.writing(None) as cursor:
            self.view.execute(cursor, f"DELETE FROM {self.view.table(BEAT)} WHERE name = ?", (self.name,))
        self._beaten_at = 0.0
        self._checked = (-CHECK_EVERY, False)

    def alive(self) -> bool:
        """Whether any runner (in this process or another) has a beat still valid."""
        checked_at, alive = self._checked
        monotonic = time.monotonic()
        if monotonic - checked_at < CHECK_EVERY:
            return alive
        with self._lock:
            rows = self.view.query(f"SELECT MAX(valid_until) AS latest FROM {self.view.table(BEAT)}")
            latest = rows[0]["latest"] if rows else None
            alive = latest is not None and self.clock() < float(latest)
            self._checked = (monotonic, alive)
        return alive
