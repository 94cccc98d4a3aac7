"""Send pacing (aiolimiter, evenly spaced) and a hard cap per sliding window.

aiolimiter is a leaky bucket: it holds an average rate, but it cannot promise "at most N in
any S seconds" (after an idle spell it lets N through and then keeps leaking), which is the
rule platforms enforce; :class:`SlidingWindow` is that cap. Across processes the cap is
bot/outbox/shared_limit.py, which aiolimiter does not do either."""

from __future__ import annotations

import asyncio
from collections import deque

from aiolimiter import AsyncLimiter


def pacer(rate: float) -> AsyncLimiter:
    """One permit every ``1 / rate`` seconds: aiolimiter's leaky bucket with room for one.

    Even spacing rather than bursts: platforms count messages per sliding second, and a
    burst at a window's edge is what earns a 429.
    """
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    return AsyncLimiter(1, 1.0 / rate)


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
