"""Sliding-window rate limiting and a settable clock shared by the platform simulators."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]
"""Returns seconds; simulators take one so tests can move time instead of sleeping."""


class ManualClock:
    """A clock that only moves when told to, for window and expiry tests."""

    __slots__ = ("_lock", "_now")

    def __init__(self, start: float | None = None) -> None:
        # Starting at the real time keeps timestamps plausible for code that checks them.
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds.

    A sliding window rather than a token bucket: a bucket lets a client send two bursts
    back to back across a refill, which would let a benchmark look faster than the real
    platform allows.
    """

    __slots__ = ("_events", "limit", "window")

    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1:
            raise ValueError(f"SlidingWindow limit must be >= 1, got {limit}")
        if window <= 0:
            raise ValueError(f"SlidingWindow window must be > 0 seconds, got {window}")
        self.limit = limit
        self.window = window
        self._events: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def retry_after(self, now: float) -> int:
        """Whole seconds to wait before one more event fits; 0 when it fits now."""
        self._expire(now)
        if len(self._events) < self.limit:
            return 0
        # Telegram's retry_after is an integer and never 0 on a 429, so round up to >= 1.
        return max(1, math.ceil(self._events[0] + self.window - now))

    def record(self, now: float) -> None:
        self._events.append(now)
