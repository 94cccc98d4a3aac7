"""`kefu members export|erase` and `kefu privacy`: members' rights and retention by hand.
What a command needs is imported when it runs, so that `--help` starts fast."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.core.errors import NotFoundError

if TYPE_CHECKING:
    from bot.features.privacy.erase import ErasureReport
    from scheduler.retention import PurgeReport

app = typer.Typer(help="Privacy: retention purge and members' requests.", no_args_is_help=True)
MemberArg = Annotated[str, typer.Argument(
    help="Member number (M000001), phone, numeric id or CHANNEL:SENDER")]


def _not_found(reference: str) -> NotFoundError:
    return NotFoundError(f"no member matches {reference!r}; give a member number (M000001), "
                         "a phone number, a numeric id or CHANNEL:SENDER (web:demo-gold)")


def export_command(
    member: MemberArg,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (owner-only) instead of stdout")] = None,
) -> None:
    """Everything Kefu holds about a member, decrypted, as JSON (the member's copy)."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core import audit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.privacy import requests
    from bot.features.privacy.export import export_member

    settings = settings_or_exit()
    actor = cli_principal().actor

    async def work() -> dict[str, Any]:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            found = await kefu.directory.find(session, member)
            if found is None:
                raise _not_found(member)
            now = utc_clock()
            data = await export_member(session, directory=kefu.directory, member=found,
                                       settings=settings, now=now)
            await requests.complete_requests(session, member_id=found.id, kind=requests.EXPORT,
                                             actor=actor, now=now, outcome="exported")
            await audit.record(session, actor=actor, action=audit.MEMBER_EXPORT,
                               subject=found.member_no, detail={"to_file": output is not None},
                               now=now)
            return data

    data = run_async(work)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        typer.echo(text)
        return
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
        sink.write(text + "\n")
    typer.echo(f"Wrote the export of {data['profile']['member_no']} to {output}.", err=True)


def erase_command(
    member: MemberArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase a member's personal data and message texts; ledger totals and statistics stay."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import fail, open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.privacy.erase import erase_member

    settings = settings_or_exit()
    actor = cli_principal().actor
    if not yes:
        if not sys.stdin.isatty():
            raise fail("Refusing to erase without confirmation: add --yes")
        typer.confirm(f"Erase the personal data of {member}? This cannot be undone", abort=True)

    async def work() -> ErasureReport:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            found = await kefu.directory.find(session, member)
            if found is None:
                raise _not_found(member)
            return await erase_member(session, member=found, actor=actor, now=utc_clock())

    report = run_async(work)
    if report.already_erased:
        typer.echo(f"{report.member_no} was already erased; "
                   f"{report.messages_cleared} remaining message(s) cleared.")
        return
    typer.echo(f"Erased {report.member_no}: personal data removed, "
               f"{report.identities_unlinked} identit(y/ies) unlinked, "
               f"{report.messages_cleared} message(s) cleared in "
               f"{report.conversations_cleared} conversation(s). Ledger and statistics kept.")


@app.command("purge")
def purge(
    batch: Annotated[int, typer.Option("--batch", min=1, max=100_000)] = 1000,
) -> None:
    """Delete messages and finished deliveries older than privacy.retention_days now."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.dialogue.pipeline import utc_clock
    from scheduler.retention import purge_expired

    settings = settings_or_exit()

    async def work() -> PurgeReport:
        async with open_kefu(settings) as kefu:
            return await purge_expired(kefu.sessions, settings=settings, clock=utc_clock,
                                       batch=batch)

    report = run_async(work)
    typer.echo(f"Deleted {report.messages_deleted} message(s) and {report.outbox_deleted} "
               f"delivery row(s) from before {report.cutoff:%Y-%m-%d %H:%M} UTC.")


@app.command("requests")
def list_requests(
    status: Annotated[str | None, typer.Option(
        "--status", help="pending, done or cancelled")] = "pending",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Members' privacy requests (pending ones by default)."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core.storage.db import transaction
    from bot.core.storage.members import get_member
    from bot.features.privacy import requests

    settings = settings_or_exit()

    async def work() -> list[dict[str, Any]]:

        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            rows = []
            for request in await requests.list_requests(session, status=status or None):
                owner = (await get_member(session, member_id=request.member_id)
                         if request.member_id else None)
                rows.append({"id": request.id, "member_no": owner.member_no if owner else None,
                             "kind": request.kind, "status": request.status,
                             "source": request.source,
                             "requested_at": request.requested_at.isoformat(),
                             "outcome": request.outcome})
            return rows

    rows = run_async(work)
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            typer.echo(f"#{row['id']:<5} {row['member_no'] or '-':<10} {row['kind']:<7} "
                       f"{row['status']:<9} {row['source']:<8} {row['requested_at']}")
    if not rows and not as_json:
        typer.echo("No privacy requests.", err=True)
