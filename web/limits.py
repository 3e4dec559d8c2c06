"""Failed sign-ins slow an account down instead of locking it: after a few free tries, each next
try must wait twice as long as the one before (1 s, 2 s, 4 s … at most a minute), so guessing
is hopeless while the right password still gets in. An address is stopped only after a much
higher number of failures (a call centre signs in from behind one NAT).

The counters live in a ``LimitStore``: in this process's memory by default, in Redis when the
composition root hands one over (``HOTLINE_REDIS_URL``), so that every web process shares them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class LimitStore(Protocol):
    """Counters and timestamps that expire; shared between processes when the store is Redis."""

    def add(self, key: str, ttl: float, now: float) -> int:
        """Add one to ``key`` (kept ``ttl`` seconds after its first addition); the new count."""
        ...

    def put(self, key: str, value: float, ttl: float, now: float) -> None: ...

    def read(self, key: str, now: float) -> float | None: ...

    def drop(self, *keys: str) -> None: ...


class MemoryLimitStore:
    """The counters in this process: enough for one web process."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at)
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> tuple[float, float] | None:
        entry = self._values.get(key)
        if entry is not None and entry[1] <= now:
            del self._values[key]
            return None
        return entry

    def add(self, key: str, ttl: float, now: float) -> int:
        with self._lock:
            entry = self._live(key, now)
            value, expires = entry if entry else (0.0, now + ttl)
            self._values[key] = (value + 1, expires)
            return int(value + 1)

    def put(self, key: str, value: float, ttl: float, now: float) -> None:
        with self._lock:
            self._values[key] = (value, now + ttl)

    def read(self, key: str, now: float) -> float | None:
        with self._lock:
            entry = self._live(key, now)
            return entry[0] if entry else None

    def drop(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


@dataclass
class SignInLimits:
    store: LimitStore
    now: Callable[[], float]
    free_tries: int = 3  # failures before any delay
    first_delay: float = 1.0  # seconds, doubling with each further failure
    max_delay: float = 60.0
    account_memory: float = 15 * 60.0  # an account's failures are forgotten this long after the last
    address_limit: int = 100  # failures from one address …
    address_window: float = 5 * 60.0  # … in this many seconds stop that address for the rest of it

    def wait(self, username: str, address: str) -> float:
        """Seconds until a sign-in for ``username`` from ``address`` may be tried; 0: now."""
        now = self.now()
        if (self.store.read(_address(address), now) or 0) >= self.address_limit:
            return self.address_window
        failures = int(self.store.read(_failures(username), now) or 0)
        if failures < self.free_tries:
            return 0.0
        delay = min(self.first_delay * 2 ** (failures - self.free_tries), self.max_delay)
        last = self.store.read(_last(username), now) or 0.0
        return max(0.0, last + delay - now)

    def failed(self, username: str, address: str) -> None:
        now = self.now()
        self.store.add(_address(address), self.address_window, now)
        # An account's count is kept for ``account_memory`` after its latest failure.
        count = int(self.store.read(_failures(username), now) or 0) + 1
        self.store.put(_failures(username), count, self.account_memory, now)
        self.store.put(_last(username), now, self.account_memory, now)

    def succeeded(self, username: str) -> None:
        self.store.drop(_failures(username), _last(username))


def _failures(username: str) -> str:
    return f"signin:user:{username}:failures"


def _last(username: str) -> str:
    return f"signin:user:{username}:last"


def _address(address: str) -> str:
    return f"signin:addr:{address}"
