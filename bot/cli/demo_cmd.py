"""`kefu demo`: demo data."""

from __future__ import annotations

import typer

from bot.cli.common import open_kefu, run_async, settings_or_exit
from bot.console.demo import login_lines, seed_console
from bot.demo.seed import SeedReport, seed_demo
from bot.dialogue.pipeline import utc_clock
from bot.settings import Settings
from bot.storage.db import transaction

app = typer.Typer(help="Demo data.", no_args_is_help=True)


async def seed(settings: Settings) -> SeedReport:
    async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
        report = await seed_demo(session, directory=kefu.directory, settings=settings,
                                 now=utc_clock())
        await seed_console(session, now=utc_clock())
        return report


@app.command("seed")
def seed_command() -> None:
    """Seed demo members, points and bound demo senders (safe to run again)."""
    settings = settings_or_exit()
    report = run_async(lambda: seed(settings))
    typer.echo(f"Demo data ready: {report.members_created} member(s) created, "
               f"{report.members_total} in all.")
    typer.echo("Bound senders: " + ", ".join(report.bound_senders))
    typer.echo("Agent console logins (demo only):\n" + "\n".join(login_lines()))
