"""Insert-or-ignore on a unique key, atomic on both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Base


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, conflict: list[str]
) -> int | None:
    """Inserts a row unless one with the same ``conflict`` columns exists.

    Returns the new row's id, or ``None`` when the row already existed. Used instead of
    read-then-write so that two concurrent deliveries of one message store it once.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, model.__table__)
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c.id)
    )
    result = await session.execute(statement)
    new_id: int | None = result.scalar_one_or_none()
    return new_id


async def upsert(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, conflict: list[str]
) -> None:
    """Inserts a row, or updates the existing one with the same ``conflict`` columns."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, model.__table__)
    statement = insert(table).values(**values)
    updates = {name: statement.excluded[name] for name in values if name not in conflict}
    await session.execute(statement.on_conflict_do_update(index_elements=conflict,
                                                          set_=updates))
