"""`kefu demo`: demo data. What a command needs is imported when it runs, so that
`kefu demo --help` starts fast (tests/bot/cli/test_lazy.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.features.demo.seed import SeedReport
    from bot.settings import Settings

app = typer.Typer(help="Demo data.", no_args_is_help=True)


async def seed(settings: Settings) -> SeedReport:
    report, _history = await seed_all(settings)
    return report


async def seed_all(settings: Settings) -> tuple[SeedReport, int]:
    """Demo members, console accounts, and two quarters of history (conversations made)."""
    from bot.cli.common import open_kefu
    from bot.console.demo import seed_console
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.demo.history import seed_history
    from bot.features.demo.seed import seed_demo

    async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
        report = await seed_demo(session, directory=kefu.directory, settings=settings,
                                 now=utc_clock())
        await seed_console(session, now=utc_clock())
        history = await seed_history(session, settings=settings, now=utc_clock())
        return report, history


@app.command("seed")
def seed_command() -> None:
    """Seed demo members, points and bound demo senders (safe to run again)."""
    from bot.cli.common import run_async, settings_or_exit
    from bot.console.demo import login_lines

    settings = settings_or_exit()
    report, history = run_async(lambda: seed_all(settings))
    typer.echo(f"Demo data ready: {report.members_created} member(s) created, "
               f"{report.members_total} in all.")
    if history:
        typer.echo(f"History: {history} conversations over two quarters, for `kefu report`.")
    typer.echo("Bound senders: " + ", ".join(report.bound_senders))
    typer.echo("Agent console logins (demo only):\n" + "\n".join(login_lines()))
