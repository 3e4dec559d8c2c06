"""Per-key rate limit for POST requests: a token bucket held in the web process.

Limits (docs/open311.md): a burst of ``capacity`` requests, refilled at ``per_minute`` a minute.
The buckets live in one process's memory: with N worker processes a key may post N times as
much, and a restart refills every bucket. That is enough to stop a runaway client; a shared
limit across servers belongs in front of the app (the reverse proxy).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


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
