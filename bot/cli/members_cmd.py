"""`kefu members`: look up and import members. What a command needs is imported when it
runs, so that `kefu members --help` starts fast (tests/bot/cli/test_lazy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.core.errors import NotFoundError

if TYPE_CHECKING:
    from bot.features.members import importer

app = typer.Typer(help="Look up and import members.", no_args_is_help=True)
PROGRESS_FROM_ROWS = 2000


@app.command("show")
def show(
    member: Annotated[str, typer.Argument(help="Phone, member number (M000001), numeric id "
                                                "or CHANNEL:SENDER (web:demo-gold)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    unmask: Annotated[bool, typer.Option("--unmask", help="Show personal data unmasked")] = False,
) -> None:
    """Show a member: tier, points balance, language; personal data masked."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.loyalty.service import member_standing

    settings = settings_or_exit()

    async def work() -> dict[str, Any]:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            found = await kefu.directory.find(session, member)
            if found is None:
                raise NotFoundError(f"no member matches {member!r}")
            standing = await member_standing(session, member=found, settings=settings,
                                             now=utc_clock())
            if unmask:  # the CLI is the operator role, which may; the audit log says who did
                return await kefu.directory.reveal(session, standing,
                                                   actor=cli_principal().actor,
                                                   purpose="kefu members show --unmask")
            return kefu.directory.describe(standing, unmask=False)

    data = run_async(work)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key, value in data.items():
        typer.echo(f"{key:>28}: {value}")


@app.command("import")
def import_members(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8 or GB18030)")],
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the valid rows and report the invalid ones")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check and apply everything, report, then roll it all back")] = False,
) -> None:
    """Import or update members, purchases and point transactions from a CSV export."""
    from rich.progress import Progress

    from bot.cli.common import fail, open_kefu, run_async, settings_or_exit
    from bot.dialogue.pipeline import utc_clock
    from bot.features.members import importer

    settings = settings_or_exit()
    clock_now = utc_clock()
    rows = run_async(lambda: _read(file))
    parsed, errors = importer.validate(rows, settings=settings, today=clock_now.date())
    if errors:
        for error in errors[:50]:
            typer.echo(error, err=True)
        if len(errors) > 50:
            typer.echo(f"… and {len(errors) - 50} more", err=True)
        if not skip_invalid:
            raise fail(f"{len(errors)} invalid row(s); nothing imported. Fix them or pass "
                       "--skip-invalid to import the valid rows only.")

    async def work() -> importer.ImportReport:
        async with open_kefu(settings) as kefu, kefu.sessions() as session:
            pending = await session.begin()
            if len(parsed) < PROGRESS_FROM_ROWS:
                report = await importer.apply(session, parsed, directory=kefu.directory,
                                              settings=settings, now=clock_now,
                                              skip_invalid=skip_invalid)
            else:
                with Progress(transient=True) as progress:
                    task = progress.add_task("Importing", total=len(parsed))
                    report = await importer.apply(
                        session, parsed, directory=kefu.directory, settings=settings,
                        now=clock_now, skip_invalid=skip_invalid,
                        progress=lambda n: progress.advance(task, n))
            # A dry run goes through every step (points by the rules included), then keeps
            # nothing.
            await (pending.rollback() if dry_run else pending.commit())
            return report

    report = run_async(work)
    for problem in report.skipped:
        typer.echo(problem, err=True)
    typer.echo(
        ("Dry run, nothing written: would have imported " if dry_run else "Imported ")
        + f"{report.rows} row(s): {report.members_created} member(s) created, "
        f"{report.members_updated} updated, {report.purchases_added} purchase(s) and "
        f"{report.points_added} point transaction(s) added, {report.unchanged} unchanged"
        + (f", {len(errors) + len(report.skipped)} skipped" if skip_invalid else "") + ".")


async def _read(path: Path) -> list[dict[str, str]]:
    from bot.features.members import importer

    return importer.read_csv(path)
