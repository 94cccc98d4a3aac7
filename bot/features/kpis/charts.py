"""Charts as inline SVG drawn on the server: no script, no external file, no inline style
(only presentation attributes), so they show under the console's strict CSP and in a
self-contained HTML file alike."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.features.kpis.review import Line, Week

INK, PAST, GOOD, BAD, GRID, TEXT = "#2563eb", "#cbd5e1", "#16a34a", "#dc2626", "#e2e8f0", "#1e293b"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
            f'class="chart">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = TEXT,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" {FONT}>{escape(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"/>'


def targets_chart(lines: Sequence[Line], *, title: str = "KPIs against their targets") -> str:
    """One row per share with a target: this period (blue when kept, red when missed), the
    previous period (grey) and the target (a black tick)."""
    shown = [line for line in lines if line.kpi.unit == "share" and line.target is not None]
    label_w, bar_w, row_h = 300, 300, 38
    width, height = label_w + bar_w + 70, row_h * len(shown) + 30
    body = [_text(label_w, 16, "0%", anchor="middle"),
            _text(label_w + bar_w, 16, "100%", anchor="middle")]
    for index, line in enumerate(shown):
        y = 24 + index * row_h
        body.append(_text(label_w - 8, y + 16, line.kpi.label, anchor="end"))
        body.append(_rect(label_w, y + 2, bar_w, 26, GRID))
        if line.previous is not None:
            body.append(_rect(label_w, y + 20, bar_w * line.previous, 8, PAST))
        if line.value is not None:
            colour = GOOD if line.meets else BAD
            body.append(_rect(label_w, y + 4, bar_w * line.value, 14, colour))
            body.append(_text(label_w + bar_w + 8, y + 16, f"{line.value:.0%}",
                              fill=colour, weight="bold"))
        else:
            body.append(_text(label_w + bar_w + 8, y + 16, "—"))
        assert line.target is not None
        x = label_w + bar_w * line.target
        body.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 30}" stroke="{TEXT}" '
                    'stroke-width="2"/>')
    return _svg(width, height, title, body)


def weekly_chart(weeks: Sequence[Week], *, target: float | None,
                 title: str = "Cases per week and share handled within 48 h") -> str:
    """Cases filed per week (grey columns) and the share of feedback handled within 48 hours
    (blue points and line; the dashed line is the target)."""
    width, height, left, top, plot_h = 680, 240, 40, 20, 170
    plot_w = width - left - 50
    step = plot_w / max(len(weeks), 1)
    most = max((w.cases for w in weeks), default=0) or 1
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            f'stroke="{TEXT}"/>',
            _text(left - 6, top + 8, str(most), anchor="end"),
            _text(left - 6, top + plot_h, "0", anchor="end"),
            _text(left + plot_w + 6, top + 8, "100%"),
            _text(left + plot_w + 6, top + plot_h, "0%")]
    if target is not None:
        y = top + plot_h * (1 - target)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                    f'stroke="{BAD}" stroke-dasharray="6 4"/>')
        body.append(_text(left + plot_w + 6, y + 4, f"{target:.0%}", fill=BAD))
    points: list[str] = []
    for index, week in enumerate(weeks):
        x = left + index * step
        h = plot_h * week.cases / most
        body.append(_rect(x + step * 0.15, top + plot_h - h, step * 0.7, h, PAST))
        if index % 2 == 0:
            body.append(_text(x + step / 2, top + plot_h + 16, week.label, anchor="middle"))
        if week.handled_within_48h is not None:
            cx, cy = x + step / 2, top + plot_h * (1 - week.handled_within_48h)
            points.append(f"{cx:.1f},{cy:.1f}")
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{INK}"/>')
    if len(points) > 1:
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{INK}" '
                    'stroke-width="2"/>')
    return _svg(width, height, title, body)


def bars_chart(items: Sequence[tuple[str, int]], *, title: str, limit: int = 10) -> str:
    """Horizontal bars for a ranked count (intents, categories, stores, reasons)."""
    shown = list(items[:limit])
    label_w, bar_w, row_h = 170, 360, 24
    height = row_h * max(len(shown), 1) + 10
    most = max((count for _, count in shown), default=0) or 1
    body: list[str] = []
    if not shown:
        body.append(_text(label_w, 20, "—"))
    for index, (name, count) in enumerate(shown):
        y = 6 + index * row_h
        body.append(_text(label_w - 8, y + 14, name, anchor="end"))
        body.append(_rect(label_w, y + 2, bar_w * count / most, 16, INK))
        body.append(_text(label_w + bar_w * count / most + 6, y + 14, str(count)))
    return _svg(label_w + bar_w + 60, height, title, body)
