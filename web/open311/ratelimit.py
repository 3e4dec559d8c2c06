"""Per-key rate limit for POST requests: a token bucket held in the web process.

Limits (docs/open311.md): a burst of ``capacity`` requests, refilled at ``per_minute`` a minute.
Without Redis the buckets live in one process's memory: with N worker processes a key may post
N times as much, and a restart refills every bucket. With ``HOTLINE_REDIS_URL`` the bound is
counted in Redis per clock minute (``SharedWindowLimiter``), the same for every process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any


class TokenBucketLimiter:
    def __init__(self, capacity: int = 30, per_minute: float = 30, clock: Callable[[], float] = time.monotonic):
        self.capacity = capacity
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket: 0 if allowed, else the seconds until one is back."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else math.inf


class SharedWindowLimiter:
    """The same bound counted in a shared store (Redis, ``HOTLINE_REDIS_URL``): at most
    ``per_minute`` posts per key in each clock minute, whatever the number of web processes."""

    def __init__(self, store: Any, per_minute: int = 30, clock: Callable[[], float] = time.time):
        self.store = store
        self.per_minute = per_minute
        self.clock = clock

    def take(self, key: str) -> float:
        now = self.clock()
        minute = int(now // 60)
        count = self.store.add(f"open311:{key}:{minute}", 61, now)
        return 0.0 if count <= self.per_minute else (minute + 1) * 60 - now
