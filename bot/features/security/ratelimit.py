"""Fixed-window rate limits, in memory or shared through Redis."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.settings import RateLimit, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # Seconds until the window resets: the Retry-After of a refusal.
    retry_after: int
    remaining: int


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window: int) -> Decision:
        """Counts one request against ``key``; refused once more than ``limit`` came in
        the current ``window`` seconds."""
        ...

    async def reset(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryRateLimiter:
    """Counts in this process only (one worker, tests, no Redis configured)."""

    __slots__ = ("_clock", "_windows")
    _MAX_KEYS = 50_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window: int) -> Decision:
        now = self._clock()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window:
            started, count = now, 0
        count += 1
        if len(self._windows) >= self._MAX_KEYS:
            self._evict(now, window)
        self._windows[key] = (started, count)
        retry = max(1, math.ceil(started + window - now))
        return Decision(count <= limit, 0 if count <= limit else retry, max(0, limit - count))

    def _evict(self, now: float, window: int) -> None:
        # Drops finished windows; a flood of distinct keys cannot grow memory without bound.
        for key in [k for k, (s, _) in self._windows.items() if now - s >= window]:
            del self._windows[key]
        if len(self._windows) >= self._MAX_KEYS:
            self._windows.clear()

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def aclose(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    """Counts in Redis, shared by every process; falls back to memory while Redis is down
    (limits stay per process rather than vanishing)."""

    __slots__ = ("_fallback", "_redis", "_warned", "prefix")

    def __init__(self, url: str, *, prefix: str = "kefu:rl:") -> None:
        self._redis: Redis[bytes] = Redis.from_url(url, socket_timeout=0.5,
                                                   socket_connect_timeout=0.5)
        self._fallback = MemoryRateLimiter()
        self._warned = False
        self.prefix = prefix

    async def hit(self, key: str, *, limit: int, window: int) -> Decision:
        name = self.prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(name, 0, ex=window, nx=True)
                pipe.incr(name)
                pipe.ttl(name)
                _, count, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            if not self._warned:
                log.warning("Redis rate limiting unavailable (%s); counting per process",
                            exc.__class__.__name__)
                self._warned = True
            return await self._fallback.hit(key, limit=limit, window=window)
        self._warned = False
        count = int(count)
        retry = max(1, int(ttl)) if int(ttl) > 0 else window
        return Decision(count <= limit, 0 if count <= limit else retry, max(0, limit - count))

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self.prefix + key)
        except (RedisError, OSError):
            log.warning("Redis unavailable: could not reset a rate limit")
        await self._fallback.reset(key)

    async def aclose(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]  # types-redis predates it


def build_limiter(settings: Settings) -> RateLimiter:
    url = settings.effective_redis_url
    return RedisRateLimiter(url) if url else MemoryRateLimiter()


async def check(limiter: RateLimiter, key: str, rule: RateLimit) -> Decision:
    return await limiter.hit(key, limit=rule.requests, window=rule.seconds)
