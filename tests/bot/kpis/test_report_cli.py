"""`kefu demo seed` then `kefu report` as an operator runs them, on both databases."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.features.kpis import periods
from tests.bot.cli.test_cli import Cli, cli  # noqa: F401 (the fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The demo history covers the previous quarter in full (and this one until yesterday).
FULL = periods.previous(periods.quarter_of(datetime.now(UTC), SHANGHAI), SHANGHAI)
BEFORE = periods.previous(FULL, SHANGHAI)
FIRST = FULL.start.astimezone(SHANGHAI).date()
LAST = (FULL.end.astimezone(SHANGHAI) - timedelta(days=1)).date()
REQUIRED = {"handled_within_48h": "0.9", "csat_satisfied": "0.85",
            "first_response_p90_minutes": "", "containment": "0.7"}


def rows(text: str) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == ["kpi", "value", "target", "previous"]
    return {row["kpi"]: row for row in reader}


def test_demo_history_gives_a_quarterly_review_in_three_formats(cli: Cli) -> None:  # noqa: F811
    first = cli("demo", "seed")
    assert "History:" in first.stdout
    quarter = cli("report", "--quarter", FULL.label, "--format", "csv").stdout
    table = rows(quarter)
    for name, target in REQUIRED.items():
        assert table[name]["target"] == target
        assert table[name]["value"] != "", name  # the demo quarter has figures for each
    for name in ("handled_within_48h", "csat_satisfied", "containment"):
        assert 0 < float(table[name]["value"]) <= 1
        assert float(table[name]["previous"] or 0) <= 1
    assert float(table["conversations"]["value"]) > 300  # a full quarter of history
    assert int(table["complaints"]["value"]) == sum(
        int(row["value"]) for name, row in table.items()
        if name.startswith("complaints_by_category:"))

    again = cli("demo", "seed")  # idempotent: nothing added, the same figures
    assert "History:" not in again.stdout
    assert cli("report", "--quarter", FULL.label, "--format", "csv").stdout == quarter

    markdown = cli("report", "--quarter", FULL.label).stdout
    assert markdown.startswith(f"# Kefu KPI review {FULL.label}")
    assert f"| {FULL.label} | target | | {BEFORE.label} |" in markdown

    out = cli.cwd / "review.html"
    cli("report", "--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--format", "html",
        "--output", str(out))
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 6
    assert "<script" not in html
    # Self-contained: nothing is fetched (the only URL is the SVG namespace).
    assert re.findall(r"(?:src|href)=", html) == []
    assert set(re.findall(r"https?://[^\s\"']+", html)) == {"http://www.w3.org/2000/svg"}

    web = rows(cli("report", "--quarter", FULL.label, "--format", "csv",
                   "--channel", "web").stdout)
    assert float(web["messages_in"]["value"]) < float(table["messages_in"]["value"])


def test_bad_periods_are_refused_with_exit_code_2(cli: Cli) -> None:  # noqa: F811
    bad = cli("report", "--quarter", "2026Q5", check=False)
    assert bad.returncode == 2
    assert "2026Q4" in bad.stderr
    both = cli("report", "--quarter", "2026Q4", "--from", "2026-01-01", check=False)
    assert both.returncode == 2
    backwards = cli("report", "--from", "2026-10-31", "--to", "2026-10-01", check=False)
    assert backwards.returncode == 2
    assert "before it starts" in backwards.stderr
