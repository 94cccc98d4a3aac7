"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.core.crypto import Keyring
from bot.core.errors import ConfigError
from bot.core.storage import statements
from bot.core.storage.sqlite_inline import BUSY_TIMEOUT_SECONDS, inline_creator


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url``; on PostgreSQL ``schema`` becomes the search path."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError and ValueError variants
        raise ConfigError(f"Database URL {url!r} is not a valid SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    # hide_parameters: SQL errors and echo logs never carry values (message texts, names).
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            raise ConfigError("SQLite URLs must use the async driver: sqlite+aiosqlite:///path.db")
        connect_args["timeout"] = 30
    elif backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            raise ConfigError("PostgreSQL URLs must use the async driver: postgresql+asyncpg://…")
        if schema:
            connect_args["server_settings"] = {"search_path": schema}
        # A connection attempt that hangs (a partition) fails after this, instead of
        # asyncpg's 60 s: callers can then keep the work elsewhere and say so.
        connect_args["timeout"] = 10
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    else:
        raise ConfigError(f"Database backend {backend!r} is not supported; use SQLite or "
                          "PostgreSQL")
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # Calls on the loop's own thread instead of aiosqlite's (bot/core/storage/sqlite_inline.py).
        kwargs["async_creator"] = inline_creator(parsed.database)
        connect_args = {}
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    statements.watch(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web server read while the scheduler or an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # Only other processes can hold the write lock (this one queues its writers): wait for
    # them, blocking the loop (inline calls), at most this long.
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine, *,
                      keyring: Keyring | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions of ``engine``; with ``keyring`` message texts are encrypted at rest
    (bot/core/storage/sealed.py)."""
    # Imported here: the ORM events register with the import, for every session maker.
    from bot.core.storage import sealed

    info: dict[str, Any] = {sealed.INFO_KEY: keyring} if keyring is not None else {}
    if engine.dialect.name == "sqlite":
        info[WRITE_GATE_KEY] = WriteGate()
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


WRITE_GATE_KEY = "kefu_write_gate"


class WriteGate:
    """One writing transaction at a time in this process, for SQLite.

    SQLite has one writer per database. Left to itself, each of several connections starts a
    deferred transaction, collides on its first write and sleeps in the busy handler (or fails
    at once when its read snapshot went stale), so concurrent turns wait for nothing. Queued
    here instead, a transaction starts the moment the previous one commits, with ``BEGIN
    IMMEDIATE``; the busy handler is then only for other processes (the CLI, a second
    ``kefu chat``).
    """

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        # One lock per event loop: tests and the CLI may run several loops in turn.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock


# Set while this task holds the gate: a transaction opened inside another one (which would
# wait for itself forever) goes through without queueing again.
_holding: ContextVar[bool] = ContextVar("kefu_write_gate_held", default=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session, one transaction: committed on success, rolled back on any error.

    On SQLite the transaction waits for its turn to write (:class:`WriteGate`), so keep it
    short: no network calls inside.
    """
    gate = sessions.kw.get("info", {}).get(WRITE_GATE_KEY)
    if not isinstance(gate, WriteGate) or _holding.get():
        async with sessions() as session, session.begin():
            yield session
        return
    async with gate.lock():
        token = _holding.set(True)
        try:
            async with sessions() as session, session.begin():
                # pysqlite issues no BEGIN of its own once one is open: the write lock is
                # taken here, not at the first write halfway through the turn.
                await session.execute(text("BEGIN IMMEDIATE"))
                yield session
        finally:
            _holding.reset(token)
