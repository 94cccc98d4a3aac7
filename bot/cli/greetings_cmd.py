"""`kefu greetings`: who would be greeted on a day, without sending. What the command needs
is imported when it runs, so that `kefu greetings --help` starts fast."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bot.features.proactive.greetings import Greeting

app = typer.Typer(help="Birthday and holiday greetings.", no_args_is_help=True)


def _row(greeting: Greeting, masked_name: str | None, real_name: str | None) -> dict[str, Any]:
    text = greeting.text
    if real_name and masked_name:  # the preview shows the text, not the member's name
        text = text.replace(real_name, masked_name)
    row: dict[str, Any] = {"member": greeting.member.member_no, "occasion": greeting.occasion,
                           "day": greeting.day.isoformat(), "channel": greeting.channel,
                           "language": greeting.language, "tier": greeting.member.tier,
                           "text": text}
    if greeting.skipped is not None:
        row["skipped"] = greeting.skipped
    return row


@app.command("preview")
def preview(
    on: Annotated[str, typer.Option("--on", help="The day, YYYY-MM-DD (each member's local "
                                                 "day)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list")] = False,
    skipped: Annotated[bool, typer.Option(
        "--skipped", help="Also list who is not greeted, with the reason")] = False,
) -> None:
    """List who would be greeted on a day, for which occasion, on which channel, with the
    text (names masked). Nothing is sent."""
    from bot.app_proactive import planner_for
    from bot.cli.common import fail, open_kefu, run_async, settings_or_exit
    from bot.core.crypto import mask_name

    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise fail(f"Error: --on {on!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-02-06",
                   2) from None
    settings = settings_or_exit()

    async def work() -> list[dict[str, Any]]:
        async with open_kefu(settings) as kefu, kefu.sessions() as session:
            planner = planner_for(kefu)
            rows = []
            for greeting in await planner.plan(session, day):
                if greeting.skipped is not None and not skipped:
                    continue
                name = kefu.directory.name(greeting.member)
                rows.append(_row(greeting, mask_name(name), name))
            return rows

    rows = run_async(work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(f"Nobody would be greeted on {day.isoformat()}.")
    for row in rows:
        where = row["channel"] or "-"
        reason = f"  [skipped: {row['skipped']}]" if "skipped" in row else ""
        typer.echo(f"{row['member']}  {row['occasion']:<20} {where:<9} {row['language']:<8} "
                   f"{row['text']}{reason}")
