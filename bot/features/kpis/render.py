"""The review as Markdown, CSV (``kpi,value,target,previous``) and self-contained HTML."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.features.kpis import charts
from bot.features.kpis.catalogue import KpiDef
from bot.features.kpis.compute import Kpis
from bot.features.kpis.review import Review

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(("html",), default_for_string=True, default=True),
    trim_blocks=True, lstrip_blocks=True)
BREAKDOWNS = (("complaints_by_category", "投诉类别 Complaints by category"),
              ("complaints_by_store", "投诉门店 Complaints by store"),
              ("handoff_reasons", "转人工原因 Handoff reasons"),
              ("intents", "意图 Intents by volume"))


def show(kpi: KpiDef, value: float | None) -> str:
    """A value as a person reads it: 87.5%, 1 h 45 min, 3.67, 12."""
    if value is None:
        return "—"
    if kpi.unit == "share":
        return f"{value:.1%}"
    if kpi.unit == "minutes":
        whole = round(value)
        return f"{whole // 60} h {whole % 60} min" if whole >= 60 else f"{value:.0f} min"
    if kpi.unit == "score":
        return f"{value:.2f}"
    return f"{value:.0f}"


def _raw(kpi: KpiDef, value: float | None) -> str:
    if value is None:
        return ""
    if kpi.unit == "count":
        return str(round(value))
    return f"{value:.4f}".rstrip("0").rstrip(".") if kpi.unit != "minutes" else f"{value:.1f}"


def verdict(meets: bool | None) -> str:
    return {True: "✓ 达标 met", False: "✗ 未达标 missed", None: ""}[meets]


def _filters_text(kpis: Kpis) -> str:
    f = kpis.filters
    parts = [f"{name} {value}" for name, value in
             (("channel", f.channel), ("store", f.store), ("category", f.category)) if value]
    return ", ".join(parts) if parts else "all channels, stores and categories"


def _previous_counts(previous: Kpis, attribute: str) -> dict[str, int]:
    items: Sequence[tuple[str, int]] = getattr(previous, attribute)
    return dict(items)


def to_csv(review: Review) -> str:
    """One row per KPI, then one per breakdown entry (``intents:points_balance``); shares
    are fractions 0–1, times minutes, an empty cell means nothing to measure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kpi", "value", "target", "previous"])
    for line in review.lines:
        writer.writerow([line.kpi.name, _raw(line.kpi, line.value),
                         "" if line.target is None else f"{line.target:g}",
                         _raw(line.kpi, line.previous)])
    for attribute, _title in BREAKDOWNS:
        before = _previous_counts(review.previous, attribute)
        for name, count in getattr(review.current, attribute):
            writer.writerow([f"{attribute}:{name}", count, "", before.get(name, 0)])
    for channel, inbound, outbound in review.current.messages_by_channel:
        writer.writerow([f"messages_in:{channel}", inbound, "", ""])
        writer.writerow([f"messages_out:{channel}", outbound, "", ""])
    return out.getvalue()


def to_markdown(review: Review) -> str:
    current, previous = review.current, review.previous
    out = [f"# Kefu KPI review {current.period.label}",
           "",
           f"Compared with {previous.period.label}; {_filters_text(current)}; data as of "
           f"{review.as_of.astimezone(review.zone):%Y-%m-%d %H:%M} ({review.zone.key}).",
           "",
           f"| KPI | {current.period.label} | target | | {previous.period.label} |",
           "|---|---:|---:|---|---:|"]
    for line in review.lines:
        target = "" if line.target is None else show(line.kpi, line.target)
        out.append(f"| {line.kpi.label} | {show(line.kpi, line.value)} | {target} | "
                   f"{verdict(line.meets)} | {show(line.kpi, line.previous)} |")
    for attribute, title in BREAKDOWNS:
        out += ["", f"## {title}", ""]
        items: list[tuple[str, int]] = getattr(current, attribute)
        if not items:
            out.append("None in this period.")
            continue
        before = _previous_counts(previous, attribute)
        out += [f"| | {current.period.label} | {previous.period.label} |", "|---|---:|---:|"]
        out += [f"| {name} | {count} | {before.get(name, 0)} |" for name, count in items[:15]]
    out += ["", "## 渠道消息 Messages by channel", "", "| channel | in | out |", "|---|---:|---:|"]
    out += [f"| {name} | {inbound} | {outbound} |"
            for name, inbound, outbound in current.messages_by_channel]
    return "\n".join(out) + "\n"


def fragment(review: Review) -> Markup:
    """The review's body (tables and charts), shared by the HTML file and the console."""
    handled_target = next((line.target for line in review.lines
                           if line.kpi.name == "handled_within_48h"), None)
    chart = {
        "targets": Markup(charts.targets_chart(review.lines)),  # noqa: S704 (escaped inside)
        "weekly": Markup(charts.weekly_chart(review.weeks, target=handled_target)),  # noqa: S704
        "breakdowns": [(title, Markup(charts.bars_chart(  # noqa: S704
            getattr(review.current, attribute), title=title)))
            for attribute, title in BREAKDOWNS],
    }
    html = TEMPLATES.get_template("fragment.html").render(
        review=review, chart=chart, show=show, verdict=verdict,
        scope=_filters_text(review.current))
    return Markup(html)  # noqa: S704 (rendered with autoescape)


def to_html(review: Review) -> str:
    """One self-contained file: inline CSS and SVG, no script, nothing fetched."""
    return TEMPLATES.get_template("standalone.html").render(review=review,
                                                            body=fragment(review))
