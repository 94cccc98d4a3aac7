from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.core.storage.migrate import current_revision, head_revision
from bot.core.storage.schema import Base
from tests.conftest import Database


async def test_database_is_at_head_and_matches_the_models(database: Database) -> None:
    assert await current_revision(database.engine) == head_revision()

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "models changed without a migration: " + repr(differences)
