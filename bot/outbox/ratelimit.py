"""A pacing token bucket: evenly spaced sends at a steady rate, no bursts."""

from __future__ import annotations

import asyncio


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
