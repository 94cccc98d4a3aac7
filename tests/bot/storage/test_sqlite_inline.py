"""SQLite statements run on the event loop's thread (bot/core/storage/sqlite_inline.py): a turn's
statements do not wait behind other requests between each other."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from bot.core.storage.db import make_engine
from bot.core.storage.sqlite_inline import InlineConnection


async def test_file_databases_use_the_inline_driver(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    try:
        async with engine.begin() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT sum(n) FROM t"))).scalar() == 3
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            assert mode == "wal"
    finally:
        await engine.dispose()


async def test_statements_do_not_yield_to_other_tasks(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        async with engine.begin() as connection:
            before = ticks
            for n in range(50):
                await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            # With a driver thread each statement would hand over to the loop several times.
            assert ticks - before <= 2
        task.cancel()
    finally:
        await engine.dispose()
