"""Privacy from the command line: no plaintext at rest, export, erase, key rotation, audit."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from bot.features.demo.seed import DEMO_MEMBERS
from tests.bot.cli import test_cli
from tests.bot.cli.test_cli import Cli

cli = test_cli.cli  # the same fixture: a fresh database per test, on every backend

KEY_A, KEY_B = "first-secret-" + "a" * 24, "second-secret-" + "b" * 24


def _sqlite_bytes(cli: Cli) -> bytes | None:
    url = cli.env["KEFU_DATABASE_URL"]
    if not url.startswith("sqlite"):
        return None
    path = Path(url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_demo_seed_leaves_no_phone_number_or_name_in_the_database_file(cli: Cli) -> None:
    cli("demo", "seed")
    raw = _sqlite_bytes(cli)
    if raw is None:
        return  # PostgreSQL: the same code path; the file check is SQLite's
    assert b"enc1:" in raw
    for demo in DEMO_MEMBERS:
        national = demo.phone.removeprefix("+86").removeprefix("+852")
        for needle in (demo.phone, national, demo.name,
                       demo.birthday.isoformat()):
            assert needle.encode() not in raw, needle


def test_export_erase_and_their_audit_trail(cli: Cli, tmp_path: Path) -> None:
    cli("demo", "seed")
    cli("chat", "--sender", "demo-gold", stdin="我是张伟，电话13800000003\n/points\n")
    exported = json.loads(cli("members", "export", "web:demo-gold").stdout)
    assert exported["profile"]["phone"] == "+8613800000003"
    assert exported["profile"]["name"] == "张伟"
    assert {"web", "console"} <= {i["channel"] for i in exported["identities"]}
    texts = [m["text"] for c in exported["conversations"] for m in c["messages"]]
    # Phone numbers customers type are masked before the text is stored (docs/SECURITY.md).
    assert "我是张伟，电话138****0003" in texts
    assert not any("13800000003" in text for text in texts)
    target = tmp_path / "export.json"
    cli("members", "export", "M000003", "--output", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["profile"]["member_no"] == "M000003"

    refused = cli("members", "erase", "M000003", check=False)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    erased = cli("members", "erase", "M000003", "--yes")
    assert "Erased M000003" in erased.stdout
    again = cli("members", "erase", "M000003", "--yes")
    assert "already erased" in again.stdout
    unknown = cli("members", "erase", "M999999", "--yes", check=False)
    assert unknown.returncode == 1 and "no member matches 'M999999'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    after = json.loads(cli("members", "export", "M000003").stdout)
    assert after["profile"]["phone"] is None and after["identities"] == []
    assert after["conversations"] == []  # unlinked, and their texts cleared
    assert after["profile"]["points_balance"] == exported["profile"]["points_balance"]

    actions = [json.loads(line)["action"] for line in
               cli("audit", "search", "--subject", "M000003", "--json").stdout.splitlines()]
    assert actions.count("member.export") == 3 and actions.count("member.erase") == 2
    exported_log = cli("audit", "export").stdout.splitlines()
    assert len(exported_log) >= 4 and all(json.loads(line)["actor"].startswith("cli:")
                                          for line in exported_log)
    requests = cli("privacy", "requests", "--status", "done", "--json").stdout.splitlines()
    assert {json.loads(r)["kind"] for r in requests} == {"export", "erase"}


def test_key_rotation_and_a_wrong_key(cli: Cli) -> None:
    cli("demo", "seed", extra_env={"KEFU_SECRET_KEY": KEY_A})
    rotating = {"KEFU_SECRET_KEY": KEY_B, "KEFU_SECRET_KEY_PREVIOUS": KEY_A}
    # Mid-rotation: old values are read and phones found through the old blind index.
    shown = json.loads(cli("members", "show", "13800000001", "--json",
                           extra_env=rotating).stdout)
    assert shown["id"] == "M000001"
    status = cli("keys", "status", extra_env=rotating).stdout
    assert "previous key" in status
    rotated = cli("keys", "rotate", "--batch", "2", extra_env=rotating).stdout
    assert "in 3 batch(es)" in rotated
    only_new = {"KEFU_SECRET_KEY": KEY_B}
    again = json.loads(cli("members", "show", "13800000001", "--json", "--unmask",
                           extra_env=only_new).stdout)
    assert again["phone"] == "+8613800000001" and again["name"] == "王芳"
    assert "current" in cli("keys", "status", extra_env=only_new).stdout
    wrong = cli("members", "show", "M000001", "--json", check=False,
                extra_env={"KEFU_SECRET_KEY": KEY_A})
    assert wrong.returncode == 1
    assert "KEFU_SECRET_KEY" in wrong.stderr and "Traceback" not in wrong.stderr
    unmasks = cli("audit", "search", "--action", "pii.unmask", "--json").stdout.splitlines()
    assert len(unmasks) == 1
