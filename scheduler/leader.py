"""Who runs the jobs: exactly one process per database holds the leader lock.

PostgreSQL: a session-level advisory lock on a connection of its own. The server drops it the
moment that connection ends (a killed process included), so another process takes over at
its next check. SQLite: an exclusive lock file next to the database file; the kernel frees it
when the holder dies. Either way a process that does not lead keeps serving HTTP.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
# A check that does not answer in this time counts as a lost lock.
CHECK_TIMEOUT = 5.0


class LeaderLock(Protocol):
    """A lock one process at a time can hold."""

    async def try_acquire(self) -> bool: ...

    async def still_held(self) -> bool: ...

    async def release(self) -> None: ...

    def holder_hint(self) -> str:
        """Who holds it, when the lock can tell (for the start-up message)."""
        ...


def advisory_key(schema: str | None) -> int:
    """A signed 64-bit key per schema, so Kefus in different schemas never contend."""
    digest = hashlib.blake2b(f"kefu.scheduler:{schema or 'public'}".encode(),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresLock:
    """``pg_try_advisory_lock`` held on a dedicated autocommit connection."""

    def __init__(self, engine: AsyncEngine, *, schema: str | None) -> None:
        self._engine = engine
        self._key = advisory_key(schema)
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                connection = await self._engine.connect()
                self._connection = await connection.execution_options(
                    isolation_level="AUTOCOMMIT")
            got = await asyncio.wait_for(self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}), CHECK_TIMEOUT)
        except Exception:  # the database is away: not the leader, try again later
            log.warning("could not ask PostgreSQL for the scheduler lock", exc_info=True)
            await self._drop()
            return False
        return bool(got)

    async def still_held(self) -> bool:
        """The lock lives as long as its session: a live connection still holds it."""
        if self._connection is None:
            return False
        try:
            await asyncio.wait_for(self._connection.execute(text("SELECT 1")), CHECK_TIMEOUT)
        except Exception:
            log.warning("the scheduler lock's connection failed", exc_info=True)
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                               {"key": self._key})
            except Exception:  # closing the connection frees the lock anyway
                log.debug("advisory unlock failed", exc_info=True)
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except Exception:  # already broken
                log.debug("closing the lock connection failed", exc_info=True)

    def holder_hint(self) -> str:
        return "another Kefu process on this database"


class FileLock:
    """An exclusive ``flock`` on a file; holds while the file stays open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder_hint(self) -> str:
        try:
            pid = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            pid = ""
        return f"Kefu process {pid}" if pid else "another Kefu process"


def lock_for(engine: AsyncEngine, *, schema: str | None, data_dir: Path) -> LeaderLock:
    """The lock that fits the database behind ``engine``."""
    url = make_url(engine.url)
    if url.get_backend_name() == "postgresql":
        return PostgresLock(engine, schema=schema)
    database = url.database
    if database and database != ":memory:":
        return FileLock(Path(database).resolve().with_name(
            Path(database).name + ".scheduler.lock"))
    return FileLock(data_dir.resolve() / "scheduler.lock")
