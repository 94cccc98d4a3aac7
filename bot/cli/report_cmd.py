"""`kefu report`: the KPI review of a quarter or a date range, in Markdown, CSV or HTML."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    # Imported when the command runs, so that `kefu --help` stays fast.
    from bot.features.kpis.rows import Filters, Period
    from bot.settings import Settings

Format = Literal["md", "csv", "html"]


def report(
    quarter: Annotated[str | None, typer.Option(
        "--quarter", help="A calendar quarter such as 2026Q4 (against the one before).")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", help="First day, YYYY-MM-DD (with --to; against as many days before).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")]
    = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="md (default), csv (kpi,value,target,previous) or html.")] = "md",
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write to this file instead of stdout.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (web, wechat, …).")]
    = None,
    store: Annotated[str | None, typer.Option(help="Only cases of this store code.")] = None,
    category: Annotated[str | None, typer.Option(
        help="Only cases of this feedback category (product, service, …).")] = None,
) -> None:
    """The KPI review: each KPI against its target and the previous period."""
    from bot.cli.common import fail, run_async, settings_or_exit
    from bot.features.kpis import periods
    from bot.features.kpis.review import review_zone
    from bot.features.kpis.rows import Filters

    if output_format not in ("md", "csv", "html"):
        raise typer.BadParameter(f"{output_format!r} is not one of md, csv, html",
                                 param_hint="--format")
    if (quarter is None) == (start is None and end is None) or (start is None) != (end is None):
        raise fail("Give either --quarter YYYYQn or both --from DATE and --to DATE.", 2)
    settings = settings_or_exit()
    zone = review_zone(settings)
    try:
        if quarter is not None:
            period: Period = periods.quarter(quarter, zone)
        else:
            assert start is not None and end is not None
            period = periods.date_range(_day(start, "--from"), _day(end, "--to"), zone)
    except ValueError as exc:
        raise fail(f"Error: {exc}", 2) from None
    text = run_async(lambda: _render(settings, period, Filters(channel, store, category),
                                     output_format))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output} ({period.label}, {output_format}).", err=True)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date such as 2026-10-01",
                                 param_hint=option) from None


async def _render(settings: Settings, period: Period, filters: Filters,
                  output_format: str) -> str:
    from bot.cli.common import open_kefu
    from bot.core.storage.db import transaction
    from bot.dialogue.pipeline import utc_clock
    from bot.features.kpis import render
    from bot.features.kpis.review import build_review

    async with open_kefu(settings) as kefu, transaction(kefu.sessions) as session:
        review = await build_review(session, settings=settings, period=period, now=utc_clock(),
                                    filters=filters)
    if output_format == "csv":
        return render.to_csv(review)
    if output_format == "html":
        return render.to_html(review)
    return render.to_markdown(review)
