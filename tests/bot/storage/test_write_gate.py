"""SQLite writers queue in the process (bot/core/storage/db.py WriteGate) instead of colliding in
the database and sleeping in its busy handler."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.storage.db import make_engine, make_sessionmaker, transaction

WRITERS = 20


async def impatient_engine(path: Path) -> AsyncEngine:
    """SQLite that refuses at once where it would otherwise sleep: any collision shows."""
    engine = make_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counts (n INTEGER)"))
    return engine


async def test_concurrent_transactions_take_turns_without_colliding(tmp_path: Path) -> None:
    engine = await impatient_engine(tmp_path / "gate.db")
    sessions = make_sessionmaker(engine)

    async def write(n: int) -> None:
        async with transaction(sessions) as session:
            # A read first, then writes with a pause between: the shape of a turn.
            await session.execute(text("SELECT count(*) FROM counts"))
            await session.execute(text("INSERT INTO counts VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.005)
            await session.execute(text("UPDATE counts SET n = n + 1000 WHERE n = :n"), {"n": n})

    try:
        await asyncio.gather(*(write(n) for n in range(WRITERS)))
        async with engine.connect() as connection:
            values = (await connection.execute(text("SELECT n FROM counts"))).scalars().all()
    finally:
        await engine.dispose()
    assert sorted(values) == [n + 1000 for n in range(WRITERS)]


async def test_without_the_gate_the_same_writers_collide(tmp_path: Path) -> None:
    """Why the gate exists: plain sessions meet SQLite's lock (and would sleep on it)."""
    engine = await impatient_engine(tmp_path / "nogate.db")
    sessions = make_sessionmaker(engine)

    async def write(n: int) -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT count(*) FROM counts"))
            await session.execute(text("INSERT INTO counts VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.005)

    try:
        with pytest.raises(OperationalError, match="locked"):
            await asyncio.gather(*(write(n) for n in range(WRITERS)))
    finally:
        await engine.dispose()
