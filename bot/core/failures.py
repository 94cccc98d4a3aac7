"""Quiet failure logging: one line per failure with its kind and a running count, and the
traceback at most once per kind per minute, so an outage is readable instead of a flood."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

TRACE_EVERY_SECONDS = 60.0


class FailureLog:
    """Counts failures by kind and logs each as one line through the stdlib ``logging``.

    ``kind`` is a short stable name (``outbox.telegram.transient``, ``spool.replay``); the
    count in each line is how many of that kind this process has seen, so an operator sees
    the rate without the noise. Thread-safe.
    """

    __slots__ = ("_clock", "_counts", "_last_trace", "_lock", "_logger", "_trace_every")

    def __init__(self, logger: logging.Logger, *, trace_every: float = TRACE_EVERY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._trace_every = trace_every
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._last_trace: dict[str, float] = {}
        self._lock = threading.Lock()

    def failure(self, kind: str, message: str, *args: object,
                exc: BaseException | None = None, level: int = logging.WARNING) -> int:
        """Logs one failure of ``kind``; returns how many of that kind there have been."""
        now = self._clock()
        with self._lock:
            count = self._counts.get(kind, 0) + 1
            self._counts[kind] = count
            last = self._last_trace.get(kind)
            trace = exc is not None and (last is None or now - last >= self._trace_every)
            if trace:
                self._last_trace[kind] = now
        detail = f" ({exc.__class__.__name__}: {_short(exc)})" if exc is not None else ""
        line = f"{message % args if args else message} [{kind} #{count}]{detail}"
        self._logger.log(level, "%s", line, exc_info=exc if trace else None,
                         extra={"failure_kind": kind, "failure_count": count})
        return count

    def count(self, kind: str) -> int:
        with self._lock:
            return self._counts.get(kind, 0)


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "…"
