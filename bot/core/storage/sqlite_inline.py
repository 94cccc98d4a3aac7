"""SQLite calls made on the event loop's own thread, behind aiosqlite's interface.

aiosqlite runs each call (cursor, execute, fetch, close: about four per statement) on a thread
of its own and hands the result back through the event loop. For a local file these calls take
microseconds, but each hand-off queues behind whatever else the loop is doing, and a turn that
holds SQLite's one writer (bot/core/storage/db.py) holds it through all of them. Made inline, a
turn's statements run back to back. What can block the loop: a commit's fsync (about 0.3 ms
here) and another process holding the write lock (the busy timeout, short for that reason).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

# Another process (the CLI, a second server) may hold the write lock: wait at most this long,
# blocking the loop, before the statement fails as the database being busy (a 503).
BUSY_TIMEOUT_SECONDS = 2.0


class InlineCursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's request queue (SQLAlchemy sets isolation levels through it)."""

    __slots__ = ()

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(exc)


class InlineConnection:
    """What SQLAlchemy's aiosqlite adapter uses of an ``aiosqlite.Connection``."""

    __slots__ = ("_conn", "_connection", "_tx", "daemon")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow()
        self.daemon = True

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def inline_creator(database: str, *, uri: bool = False) -> Callable[[], Any]:
    """An ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine`."""

    async def connect() -> InlineConnection:
        connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS, uri=uri,
                                     check_same_thread=False)
        return InlineConnection(connection)

    return connect

