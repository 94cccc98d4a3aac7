"""`kefu db`: schema migrations. The database layer is imported when a command runs, so
that `kefu db --help` starts fast (tests/bot/cli/test_lazy.py)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply Alembic migrations up to the latest revision."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import make_engine
    from bot.core.storage.migrate import current_revision, upgrade
    from bot.features.security.rotation import seal_plain_values

    settings = settings_or_exit()

    async def work() -> str | None:
        if settings.effective_database_url.startswith("sqlite"):
            settings.app.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url,
                             schema=settings.database.schema_name)
        try:
            await upgrade(engine, schema=settings.database.schema_name)
            revision = await current_revision(engine)
        finally:
            await engine.dispose()
        # Values a migration could only move, not encrypt (it has no key), are encrypted now.
        async with open_kefu(settings) as kefu:
            await seal_plain_values(kefu.sessions, directory=kefu.directory)
        return revision

    typer.echo(f"Database is at revision {run_async(work)}.")
