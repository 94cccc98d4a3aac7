"""`kefu greetings preview` as an operator runs it, on the demo data."""

from __future__ import annotations

import json

from tests.cli_runner import Cli


def test_preview_lists_the_spring_festival_greeting_of_consenting_demo_members(
        cli: Cli) -> None:
    cli("demo", "seed")
    rows = json.loads(cli("greetings", "preview", "--on", "2027-02-06", "--json").stdout)
    # The demo records greetings consent for demo-silver and demo-gold only (demo-diamond
    # declined, the others never answered).
    assert [(r["member"], r["occasion"], r["channel"]) for r in rows] == [
        ("M000002", "spring_festival", "web"), ("M000003", "spring_festival", "web")]
    assert all(r["language"] == "zh-Hans" and "新春快乐" in r["text"] for r in rows)
    assert "张伟" not in rows[1]["text"] and rows[1]["text"].startswith("张*")
    everyone = json.loads(cli("greetings", "preview", "--on", "2027-02-06", "--json",
                              "--skipped").stdout)
    assert len(everyone) == 6
    assert {r["member"]: r.get("skipped") for r in everyone}["M000004"] is not None
    birthday = json.loads(cli("greetings", "preview", "--on", "2027-11-28", "--json").stdout)
    assert [(r["member"], r["occasion"]) for r in birthday] == [("M000003", "birthday")]
    assert "生日礼券100元" in birthday[0]["text"]


def test_preview_refuses_a_malformed_day(cli: Cli) -> None:
    result = cli("greetings", "preview", "--on", "2027-13-01", check=False)
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr
