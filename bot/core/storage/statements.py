"""Counts the SQL statements an engine sends: the cost of a turn that profiles hide."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

STATEMENTS = Counter("kefu_db_statements_total",
                     "SQL statements sent to the database (divide by kefu_turn_seconds_count "
                     "for statements per turn)")


class StatementLog:
    """The statements sent while a :func:`recording` block is open (tests, the bench)."""

    __slots__ = ("statements",)

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{i + 1:3}. {s.split(chr(10))[0][:120]}"
                         for i, s in enumerate(self.statements))


def watch(engine: AsyncEngine) -> None:
    """Counts ``engine``'s statements in ``kefu_db_statements_total``."""
    event.listen(engine.sync_engine, "before_cursor_execute", _count)


def _count(_conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
    STATEMENTS.inc()


@contextmanager
def recording(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Records the text of every statement ``engine`` sends inside the block."""
    log = StatementLog()

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", _record)
    try:
        yield log
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _record)
