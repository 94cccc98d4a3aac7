"""Insert-or-ignore and insert-or-update on a unique key, atomic on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Base


def _insert(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> Any:
    """The dialect's INSERT (both have ON CONFLICT) for ``model``'s table."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(cast(Table, model.__table__)).values(**values)


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, conflict: list[str]
) -> int | None:
    """Inserts a row unless one with the same ``conflict`` columns exists.

    Returns the new row's id, or ``None`` when the row already existed. Used instead of
    read-then-write so that two concurrent deliveries of one message store it once.
    """
    statement = (_insert(session, model, values)
                 .on_conflict_do_nothing(index_elements=conflict)
                 .returning(cast(Table, model.__table__).c.id))
    new_id: int | None = (await session.execute(statement)).scalar_one_or_none()
    return new_id


async def insert_ignore_many(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]], *, conflict: list[str],
    returning: list[str],
) -> list[tuple[Any, ...]]:
    """Inserts ``rows`` in one statement, skipping those whose ``conflict`` columns exist;
    returns the ``returning`` columns of the rows actually inserted."""
    if not rows:
        return []
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, model.__table__)
    # Executemany with RETURNING: SQLAlchemy batches it into few statements ("insertmanyvalues")
    # and caches the compiled form, unlike one huge VALUES list compiled anew each time.
    statement = (insert(table).on_conflict_do_nothing(index_elements=conflict)
                 .returning(*(table.c[name] for name in returning)))
    return [tuple(row) for row in (await session.execute(statement, rows)).all()]
async def insert_if_absent(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, conflict: list[str]
) -> bool:
    """Like :func:`insert_ignore` for tables without an ``id``: True when the row is new."""
    table = cast(Table, model.__table__)
    statement = (_insert(session, model, values)
                 .on_conflict_do_nothing(index_elements=conflict)
                 .returning(table.c[conflict[0]]))
    return (await session.execute(statement)).first() is not None


async def upsert(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, conflict: list[str]
) -> None:
    """Inserts a row, or updates the existing one with the same ``conflict`` columns."""
    statement = _insert(session, model, values)
    updates = {name: statement.excluded[name] for name in values if name not in conflict}
    await session.execute(statement.on_conflict_do_update(index_elements=conflict,
                                                          set_=updates))


async def insert_ignore_composite(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, conflict: list[str]
) -> None:
    """Insert-or-ignore for a table without an ``id`` column (a composite primary key)."""
    await session.execute(_insert(session, model, values)
                          .on_conflict_do_nothing(index_elements=conflict))


async def insert_many_ignore(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]], *, conflict: list[str]
) -> None:
    """Inserts ``rows`` in one statement, skipping those whose ``conflict`` columns exist."""
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(cast(Table, model.__table__)).values(rows)
                          .on_conflict_do_nothing(index_elements=conflict))
