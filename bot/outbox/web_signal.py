"""Wake-ups for open web chat streams: which recipients got new outbox rows.

The transaction that enqueues a web row calls :func:`announce`. On PostgreSQL that is a
``pg_notify`` in the same transaction, so every Kefu process listening hears it exactly when
the row is committed (never before, never for a rollback). In every case the recipients are
also handed to this process's listeners after the commit (the stream hub, and its Redis
publisher when Redis carries the wake-ups).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

CHANNEL = "kefu_web"
WEB = "web"  # the web chat's channel name
_PENDING = "kefu_web_wake"
_listeners: list[Callable[[str], None]] = []


def add_listener(listener: Callable[[str], None]) -> None:
    _listeners.append(listener)


def remove_listener(listener: Callable[[str], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def announce(session: AsyncSession, recipient_id: str) -> None:
    """Wakes ``recipient_id``'s open streams once this transaction commits."""
    session.info.setdefault(_PENDING, set()).add(recipient_id)
    if session.get_bind().dialect.name == "postgresql":
        # Deployments sharing a database share the channel: a stranger's wake-up costs one
        # empty look at the outbox, nothing more.
        await session.execute(select(func.pg_notify(CHANNEL, recipient_id)))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    recipients: set[str] = session.info.pop(_PENDING, set())
    for recipient in recipients:
        for listener in list(_listeners):
            listener(recipient)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def pending(session: Any) -> set[str]:
    """Recipients announced in ``session``'s open transaction (for tests)."""
    found: set[str] = session.info.get(_PENDING, set())
    return found
