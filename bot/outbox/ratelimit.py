"""A pacing token bucket: evenly spaced sends at a steady rate, no bursts."""

from __future__ import annotations

import asyncio
from collections import deque


class TokenBucket:
    """Hands out one permit every ``1 / rate`` seconds.

    Even spacing rather than bursts: platforms count messages per sliding second, and a
    burst at a window's edge is what earns a 429.
    """

    __slots__ = ("_interval", "_lock", "_next")

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            slot = max(now, self._next)
            self._next = slot + self._interval
        delay = slot - now
        if delay > 0:
            await asyncio.sleep(delay)


class SlidingWindow:
    """At most ``limit`` permits within any ``seconds``: the rule platforms enforce.

    Pacing alone lets a delayed send bunch up with the next ones; this cap keeps such a
    bunch within what the platform's own sliding window accepts.
    """

    __slots__ = ("_lock", "_seconds", "_starts", "limit")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self._seconds = seconds
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._starts and now - self._starts[0] >= self._seconds:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return
                await asyncio.sleep(self._seconds - (now - self._starts[0]))
