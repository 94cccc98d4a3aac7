"""`kefu demo`: demo data."""

from __future__ import annotations

import typer

from bot.cli.common import open_kefu, run_async, settings_or_exit
from bot.demo.seed import SeedReport, seed_demo
from bot.dialogue.pipeline import utc_clock
from bot.settings import Settings
from bot.storage.db import transaction

app = typer.Typer(help="Demo data.", no_args_is_help=True)


async def seed(settings: Settings) -> SeedReport:
    async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
        return await seed_demo(session, directory=kefu.directory, settings=settings,
                               now=utc_clock())


@app.command("seed")
def seed_command() -> None:
    """Seed demo members, points and bound demo senders (safe to run again)."""
    settings = settings_or_exit()
    report = run_async(lambda: seed(settings))
    typer.echo(f"Demo data ready: {report.members_created} member(s) created, "
               f"{report.members_total} in all.")
    typer.echo("Bound senders: " + ", ".join(report.bound_senders))
