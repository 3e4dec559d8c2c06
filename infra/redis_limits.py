"""The sign-in slow-down's counters in Redis (``HOTLINE_REDIS_URL``), so that every web process and
machine counts one account's failures together. The same ``LimitStore`` shape as the in-memory
store the web app uses when no Redis is configured (web/limits.py)."""

from __future__ import annotations

import math

import redis

PREFIX = "hotline:"


class RedisLimitStore:
    def __init__(self, url: str, prefix: str = PREFIX):
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + key

    def add(self, key: str, ttl: float, now: float) -> int:
        name = self._key(key)
        with self.client.pipeline() as pipe:  # MULTI/EXEC: the count and its expiry together
            pipe.incr(name)
            pipe.expire(name, max(1, math.ceil(ttl)), nx=True)
            count, _ = pipe.execute()
        return int(count)

    def put(self, key: str, value: float, ttl: float, now: float) -> None:
        self.client.set(self._key(key), repr(float(value)), px=max(1, math.ceil(ttl * 1000)))

    def read(self, key: str, now: float) -> float | None:
        value = self.client.get(self._key(key))
        return None if value is None else float(value)

    def drop(self, *keys: str) -> None:
        if keys:
            self.client.delete(*(self._key(key) for key in keys))

    def close(self) -> None:
        self.client.close()
