"""`kefu campaign`: create, preview, list, follow and cancel campaigns to member segments.
What a command needs is imported when it runs, so that `kefu campaign --help` starts fast."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.timeopt import parse_moment
from bot.core.errors import NotFoundError

if TYPE_CHECKING:
    from bot.features.proactive.campaigns import Preview
    from bot.features.proactive.segments import Segment

app = typer.Typer(help="Campaigns to member segments.", no_args_is_help=True)

Tiers = Annotated[list[str] | None, typer.Option("--tier", help="standard|silver|gold|diamond "
                                                              "(repeatable)")]
Cities = Annotated[list[str] | None, typer.Option("--city", help="City of the member's latest "
                                                               "purchase (repeatable)")]
Stores = Annotated[list[str] | None, typer.Option("--store", help="Store code of the member's "
                                                                "latest purchase")]
Month = Annotated[int | None, typer.Option("--birthday-month", help="1-12")]
Before = Annotated[str | None, typer.Option("--purchased-before", help="Last purchase before "
                                                                      "this day (YYYY-MM-DD)")]
After = Annotated[str | None, typer.Option("--purchased-after", help="Last purchase after this "
                                                                    "day (YYYY-MM-DD)")]
MinPoints = Annotated[int | None, typer.Option("--min-points", help="Points balance at least")]
MaxPoints = Annotated[int | None, typer.Option("--max-points", help="Points balance at most")]
Channels = Annotated[list[str] | None, typer.Option("--channel", help="Bound on this channel")]
Languages = Annotated[list[str] | None, typer.Option("--language", help="zh-Hans|zh-Hant|en")]
Text = Annotated[str | None, typer.Option("--text", help="Text in simplified Chinese; {name}, "
                                                         "{tier}, {points} are filled in")]
TextHant = Annotated[str | None, typer.Option("--text-zh-hant", help="Text in traditional "
                                                                     "Chinese")]
TextEn = Annotated[str | None, typer.Option("--text-en", help="Text in English")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _segment(**values: Any) -> Segment:
    from pydantic import ValidationError

    from bot.cli.common import fail
    from bot.features.proactive.segments import Segment

    given = {key: value for key, value in values.items() if value not in (None, [])}
    try:
        return Segment.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'segment'}: {e['msg']}"
                             for e in exc.errors())
        raise fail(f"Error: invalid segment: {problems}", 2) from None


def _texts(text: str | None, hant: str | None, en: str | None) -> dict[str, str]:
    return {lang: value for lang, value in (("zh-Hans", text), ("zh-Hant", hant), ("en", en))
            if value}


def _preview_json(seen: Preview, names: dict[int, str | None]) -> dict[str, Any]:
    return {"matched": seen.matched, "reachable": seen.reachable, "skipped": seen.skipped,
            "sample": [{"member": t.member.member_no, "channel": t.identity.channel
                        if t.identity else None, "language": t.language,
                        "text": _masked(t.text, names.get(t.member.id))}
                       for t in seen.sample]}


def _masked(text: str, name: str | None) -> str:
    from bot.core.crypto import mask_name

    masked = mask_name(name)
    return text.replace(name, masked) if name and masked else text


def _print_preview(data: dict[str, Any]) -> None:
    typer.echo(f"{data['matched']} member(s) match; {data['reachable']} can be reached.")
    for reason, count in data["skipped"].items():
        typer.echo(f"  skipped {count}: {reason}")
    for row in data["sample"]:
        typer.echo(f"  {row['member']} {row['channel']:<9} {row['language']:<8} {row['text']}")


@app.command("preview")
def preview_command(
    campaign_id: Annotated[int | None, typer.Argument(help="A created campaign")] = None,
    tier: Tiers = None, city: Cities = None, store: Stores = None, birthday_month: Month = None,
    purchased_before: Before = None, purchased_after: After = None,
    min_points: MinPoints = None, max_points: MaxPoints = None, channel: Channels = None,
    language: Languages = None, text: Text = None, text_zh_hant: TextHant = None,
    text_en: TextEn = None, as_json: AsJson = False,
) -> None:
    """How many members a segment reaches, with a sample of the texts; nothing is sent."""
    from bot.app_proactive import planner_for
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.dialogue.pipeline import utc_clock
    from bot.features.proactive import campaigns
    from bot.features.proactive.segments import Segment

    settings = settings_or_exit()
    segment = _segment(tiers=tier, cities=city, stores=store, birthday_month=birthday_month,
                       last_purchase_before=purchased_before,
                       last_purchase_after=purchased_after, min_points=min_points,
                       max_points=max_points, channels=channel, languages=language)
    texts = _texts(text, text_zh_hant, text_en)

    async def work() -> dict[str, Any]:
        nonlocal segment, texts
        async with open_kefu(settings) as kefu, kefu.sessions() as session:
            if campaign_id is not None:
                found = await campaigns.status(session, campaign_id=campaign_id)
                if found is None:
                    raise NotFoundError(f"no campaign {campaign_id}")
                segment = Segment.model_validate(found.campaign.segment)
                texts = dict(found.campaign.texts)
            seen = await campaigns.preview(session, planner_for(kefu), segment=segment,
                                           texts=texts, now=utc_clock())
            return _preview_json(seen, {t.member.id: kefu.directory.name(t.member)
                                        for t in seen.sample})

    data = run_async(work)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_preview(data)


@app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="What the campaign is called")],
    tier: Tiers = None, city: Cities = None, store: Stores = None, birthday_month: Month = None,
    purchased_before: Before = None, purchased_after: After = None,
    min_points: MinPoints = None, max_points: MaxPoints = None, channel: Channels = None,
    language: Languages = None, text: Text = None, text_zh_hant: TextHant = None,
    text_en: TextEn = None,
    at: Annotated[str | None, typer.Option("--at", help="Start time (ISO; naive times are in "
                                                       "the default zone); default now")] = None,
    as_json: AsJson = False,
) -> None:
    """Create a campaign (sent by the server's scheduler, now or at --at)."""
    from bot.app_proactive import planner_for
    from bot.cli.actor import cli_principal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core import audit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.proactive import campaigns

    settings = settings_or_exit()
    segment = _segment(tiers=tier, cities=city, stores=store, birthday_month=birthday_month,
                       last_purchase_before=purchased_before,
                       last_purchase_after=purchased_after, min_points=min_points,
                       max_points=max_points, channels=channel, languages=language)
    send_at = parse_moment(at, zone=settings.app.default_timezone, option="--at")
    actor = cli_principal().actor

    async def work() -> dict[str, Any]:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            campaign, seen = await campaigns.create(
                session, planner_for(kefu), name=name, segment=segment,
                texts=_texts(text, text_zh_hant, text_en), now=utc_clock(), send_at=send_at,
                actor=actor)
            await audit.record(session, actor=actor, action="campaign.create",
                               subject=f"campaign:{campaign.id}",
                               detail={"segment": campaign.segment})
            return {"id": campaign.id, "status": campaign.status,
                    "send_at": campaign.send_at.isoformat(),
                    **_preview_json(seen, {t.member.id: kefu.directory.name(t.member)
                                           for t in seen.sample})}

    data = run_async(work)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Campaign {data['id']} scheduled for {data['send_at']}.")
    _print_preview(data)


@app.command("list")
def list_command(as_json: AsJson = False) -> None:
    """The latest campaigns with their state."""
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.features.proactive import campaigns

    settings = settings_or_exit()

    async def work() -> list[dict[str, Any]]:
        async with open_kefu(settings) as kefu, kefu.sessions() as session:
            found = [await campaigns.status(session, campaign_id=c.id)
                     for c in await campaigns.list_campaigns(session)]
            return [s.as_json() for s in found if s is not None]

    rows = run_async(work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['id']:>5}  {row['status']:<10} {row['send_at'][:16]}  sent "
                   f"{row['sent']}, failed {row['failed']}, skipped {row['skipped']}, pending "
                   f"{row['pending']}  {row['name']}")


@app.command("status")
def status_command(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id")],
    as_json: AsJson = False,
    follow: Annotated[bool, typer.Option(
        "--follow/--no-follow", help="Show a progress bar until sending ends (default when "
                                     "the output is a terminal)")] = sys.stdout.isatty(),
) -> None:
    """Sent, failed, skipped and pending, with the reasons."""
    from rich.progress import BarColumn, Progress, TextColumn

    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.features.proactive import campaigns

    settings = settings_or_exit()

    async def one(kefu: Any) -> dict[str, Any]:
        async with kefu.sessions() as session:
            found = await campaigns.status(session, campaign_id=campaign_id)
        if found is None:
            raise NotFoundError(f"no campaign {campaign_id}")
        return found.as_json()

    async def work() -> dict[str, Any]:
        async with open_kefu(settings) as kefu:
            data = await one(kefu)
            if as_json or not follow:
                return data
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}")) as bar:
                task = bar.add_task(f"campaign {campaign_id}", total=None)
                while True:
                    done = data["sent"] + data["failed"] + data["skipped"]
                    bar.update(task, total=max(data["recipients"], 1), completed=done,
                               description=f"campaign {campaign_id} ({data['status']}): sent "
                                           f"{data['sent']}, failed {data['failed']}, skipped "
                                           f"{data['skipped']}")
                    finished = data["status"] in (campaigns.DONE, campaigns.CANCELLED)
                    if finished and data["pending"] == 0:
                        return data
                    await asyncio.sleep(1.0)
                    data = await one(kefu)

    data = run_async(work)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Campaign {data['id']} ({data['name']}): {data['status']}; {data['recipients']} "
               f"recipient(s): sent {data['sent']}, failed {data['failed']}, skipped "
               f"{data['skipped']}, pending {data['pending']}")
    for reason, count in data["reasons"].items():
        typer.echo(f"  {count} × {reason}")


@app.command("cancel")
def cancel_command(campaign_id: Annotated[int, typer.Argument(help="Campaign id")]) -> None:
    """Stop a campaign: nothing more is queued and unsent messages are withdrawn."""
    from bot.cli.actor import cli_principal
    from bot.cli.common import open_kefu, run_async, settings_or_exit
    from bot.core import audit
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.proactive import campaigns

    settings = settings_or_exit()
    actor = cli_principal().actor

    async def work() -> str:
        async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
            campaign = await campaigns.cancel(session, campaign_id=campaign_id, now=utc_clock())
            await audit.record(session, actor=actor, action="campaign.cancel",
                               subject=f"campaign:{campaign.id}")
            return campaign.status

    typer.echo(f"Campaign {campaign_id}: {run_async(work)}.")
