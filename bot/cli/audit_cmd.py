"""`kefu audit`: search the audit log and export it as JSON lines. What a command needs is
imported when it runs, so that `kefu audit --help` starts fast."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.timeopt import parse_moment

app = typer.Typer(help="Search and export the audit log.", no_args_is_help=True)

ActorOpt = Annotated[str | None, typer.Option("--actor", help="e.g. agent:lihua, cli:root")]
ActionOpt = Annotated[str | None, typer.Option(
    "--action", help="e.g. pii.unmask, or pii for every pii.* action")]
SubjectOpt = Annotated[str | None, typer.Option("--subject", help="e.g. a member number")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="ISO date or date-time")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="ISO date or date-time (excl.)")]


@app.command("search")
def search(
    actor: ActorOpt = None, action: ActionOpt = None, subject: SubjectOpt = None,
    since: SinceOpt = None, until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Show matching entries, newest first."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core import audit
    from bot.core.storage.db import transaction

    settings = settings_or_exit()
    zone = settings.app.default_timezone
    start = parse_moment(since, zone=zone, option="--since")
    end = parse_moment(until, zone=zone, option="--until")

    async def work() -> list[dict[str, Any]]:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            found = await audit.search(session, actor=actor, action=action, subject=subject,
                                       since=start, until=end, limit=limit)
            return [audit.as_dict(entry) for entry in found]

    entries = run_async(work)
    for entry in entries:
        if as_json:
            typer.echo(json.dumps(entry, ensure_ascii=False))
        else:
            detail = json.dumps(entry["detail"], ensure_ascii=False) if entry["detail"] else ""
            typer.echo(f"{entry['at']}  {entry['actor']:<24} {entry['action']:<16} "
                       f"{entry['subject'] or '-':<16} {detail}")
    if not entries and not as_json:
        typer.echo("No matching audit entries.", err=True)


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="File to write (default: stdout)")] = None,
    actor: ActorOpt = None, action: ActionOpt = None, subject: SubjectOpt = None,
    since: SinceOpt = None, until: UntilOpt = None,
) -> None:
    """Write matching entries (all by default) as JSON lines, oldest first."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core import audit
    from bot.core.storage.db import transaction

    settings = settings_or_exit()
    zone = settings.app.default_timezone
    start = parse_moment(since, zone=zone, option="--since")
    end = parse_moment(until, zone=zone, option="--until")
    exporter = cli_principal().actor

    async def work() -> int:
        count = 0
        async with open_kefu(settings) as kefu:
            async with transaction(kefu.sessions) as session:
                sink = _open(output)
                try:
                    async for line in audit.export_lines(session, since=start, until=end,
                                                         actor=actor, action=action,
                                                         subject=subject):
                        sink.write(line + "\n")
                        count += 1
                finally:
                    if sink is not sys.stdout:
                        sink.close()
            async with transaction(kefu.sessions) as session:
                await audit.record(session, actor=exporter, action=audit.AUDIT_EXPORT,
                                   detail={"entries": count, "to_file": output is not None})
        return count

    count = run_async(work)
    if output is not None:
        typer.echo(f"Wrote {count} audit entries to {output}.", err=True)


def _open(output: Path | None) -> Any:
    if output is None:
        return sys.stdout
    # Owner-only: the log names accounts and members.
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(descriptor, "w", encoding="utf-8")
