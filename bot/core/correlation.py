"""One correlation id per inbound request or message, carried by every log line, reply and
case event it causes (a context variable, so concurrent requests never mix them)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

KEY = "correlation_id"
# What we accept from an upstream proxy's X-Request-ID; anything else gets a fresh id.
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current() -> str | None:
    value = structlog.contextvars.get_contextvars().get(KEY)
    return value if isinstance(value, str) else None


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def accepted(value: str | None) -> str | None:
    """An incoming request id when it is safe to log and store, else ``None``."""
    return value if value and _VALID.match(value) else None


@contextmanager
def correlated(value: str | None = None) -> Iterator[str]:
    """Binds ``value`` (or keeps the id already bound, or makes one) for the block."""
    existing = current()
    if existing is not None and value is None:
        yield existing
        return
    chosen = value or new_id()
    tokens = structlog.contextvars.bind_contextvars(**{KEY: chosen})
    try:
        yield chosen
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
