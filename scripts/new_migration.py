"""Autogenerates an Alembic revision from the models.

Usage: python scripts/new_migration.py MESSAGE REVISION [BASE]

A throw-away SQLite database is upgraded to all current heads first, so the new revision holds
only what the models add beyond them. BASE (default: the single head) is the parent revision;
parallel work may branch from the same parent, `kefu db upgrade` applies every head. Review the
generated file by hand: keep only your own changes, add server defaults to NOT NULL columns.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection

from bot.core.storage.db import make_engine
from bot.core.storage.migrate import alembic_config


async def main(message: str, rev_id: str, base: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'autogen.db'}")

        def generate(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id,
                             head=base or "head", splice=base is not None)

        async with engine.begin() as connection:
            await connection.run_sync(generate)
        await engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None))
