"""The comparison as a Markdown table: one row per figure, Kefu, Rasa and Rasa ÷ Kefu."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LANGUAGES = ("zh-Hans", "zh-Hant", "en")


def ratio(kefu: float, rasa: float) -> str:
    if kefu == 0 or kefu != kefu or rasa != rasa:
        return "–"
    return f"{rasa / kefu:.2f}×"


def table(kefu: dict[str, Any], rasa: dict[str, Any]) -> str:
    """Markdown: one row per figure, Kefu's and Rasa's value and Rasa ÷ Kefu."""
    rows: list[tuple[str, float, float, str]] = []

    def add(label: str, path: Sequence[str], unit: str) -> None:
        k: Any = kefu
        r: Any = rasa
        for key in path:
            k, r = k[key], r[key]
        rows.append((label, float(k), float(r), unit))

    add("held-out accuracy, all", ("heldout", "accuracy"), "score")
    add("held-out macro-F1, all", ("heldout", "macro_f1"), "score")
    for language in LANGUAGES:
        if language in kefu["heldout"]["by_language"]:
            n = kefu["heldout"]["by_language"][language]["n"]
            add(f"held-out accuracy, {language} ({n})", ("heldout", "by_language", language,
                                                         "accuracy"), "score")
            add(f"held-out macro-F1, {language} ({n})", ("heldout", "by_language", language,
                                                         "macro_f1"), "score")
    for key, label in (("parse_1", "/model/parse, 1 connection"),
                       ("parse_16", "/model/parse, 16 connections"),
                       ("webhook_1", "REST webhook, 1 connection"),
                       ("webhook_16", "REST webhook, 16 connections")):
        add(f"{label}: req/s", (key, "req_per_s"), "rate")
        add(f"{label}: p50", (key, "p50_ms"), "ms")
        add(f"{label}: p99", (key, "p99_ms"), "ms")
        if key.startswith("webhook"):
            add(f"{label}: errors", (key, "errors"), "count")
    add("training", ("train_s",), "s")
    add("start-up to first parse", ("startup_s",), "s")
    add("server RSS after the run", ("memory", "rss_mb"), "MB")
    add("server peak RSS", ("memory", "peak_mb"), "MB")
    lines = ["| measure | Kefu | Rasa 3.6 | Rasa ÷ Kefu |", "|---|---|---|---|"]
    for label, k, r, unit in rows:
        lines.append(f"| {label} | {fmt(k, unit)} | {fmt(r, unit)} | {ratio(k, r)} |")
    return "\n".join(lines)


def fmt(value: float, unit: str) -> str:
    if value != value:
        return "–"
    if unit == "score":
        return f"{value:.3f}"
    if unit == "rate":
        return f"{value:,.1f}"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.1f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.0f}"
