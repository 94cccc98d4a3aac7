"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.core.crypto import Keyring
from bot.core.errors import ConfigError


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
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web server read while the scheduler or an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine, *,
                      keyring: Keyring | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions of ``engine``; with ``keyring`` message texts are encrypted at rest
    (bot/core/storage/sealed.py)."""
    # Imported here: the ORM events register with the import, for every session maker.
    from bot.core.storage import sealed

    info = {sealed.INFO_KEY: keyring} if keyring is not None else {}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session, one transaction: committed on success, rolled back on any error."""
    async with sessions() as session, session.begin():
        yield session
