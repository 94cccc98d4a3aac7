"""`kefu integrations` and `kefu members import --dry-run` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import Cli


def test_add_list_revoke_a_key(cli: Cli) -> None:
    key = json.loads(cli("integrations", "add", "Online shop", "--json").stdout)
    assert key["key_id"].startswith("kfk_") and key["secret"].startswith("kfs_")
    listed = cli("integrations", "list", "--json").stdout
    assert key["secret"] not in listed
    entry = next(k for k in json.loads(listed) if k["key_id"] == key["key_id"])
    assert entry["name"] == "Online shop" and entry["revoked_at"] is None
    assert cli("integrations", "revoke", key["key_id"]).returncode == 0
    entry = json.loads(cli("integrations", "list", "--json").stdout)[0]
    assert entry["revoked_at"] is not None
    again = cli("integrations", "revoke", key["key_id"], check=False)
    assert again.returncode == 1 and "no active key" in again.stderr
    audit = cli("audit", "search", "--subject", key["key_id"]).stdout
    assert "integration.add" in audit and "integration.revoke" in audit


def test_import_dry_run_reports_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pos.csv"
    path.write_text(
        "record,member_no,phone,occurred_at,amount,store,ref\n"
        "member,M200001,13912345678,,,,\n"
        "purchase,M200001,,2026-10-02 11:00,99.99,sh-jingan,pos-2\n", encoding="utf-8")
    dry = cli("members", "import", str(path), "--dry-run")
    assert "Dry run, nothing written" in dry.stdout
    assert "1 member(s) created" in dry.stdout and "1 point transaction(s)" in dry.stdout
    missing = cli("members", "show", "M200001", "--json", check=False)
    assert missing.returncode != 0
    cli("members", "import", str(path))
    shown = json.loads(cli("members", "show", "M200001", "--json").stdout)
    assert shown["points_balance"] == 99
