"""The CLI as an operator uses it: real processes, real databases."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_URL, ROOT


class Cli:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd

    def __call__(self, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
            env={**self.env, **(extra_env or {})}, cwd=self.cwd, timeout=120, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"kefu {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                      "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), KEFU_APP__DATA_DIR=str(tmp_path / "data"),
               PYTHONPATH=str(ROOT))
    schema = None
    if request.param == "postgresql":
        schema = f"kefu_cli_{secrets.token_hex(4)}"
        env.update(KEFU_DATABASE_URL=PG_URL, KEFU_DATABASE__SCHEMA_NAME=schema)
    else:
        env.update(KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}")
    runner = Cli(env, tmp_path)
    if schema:
        runner("db", "upgrade")
    yield runner
    if schema:
        import asyncio

        from sqlalchemy import text

        from bot.core.storage.db import make_engine

        async def drop() -> None:
            engine = make_engine(PG_URL)
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()

        asyncio.run(drop())


def test_chat_reports_the_same_balance_as_members_show(cli: Cli) -> None:
    cli("demo", "seed")
    shown = json.loads(cli("members", "show", "web:demo-gold", "--json").stdout)
    assert shown["tier"] == "gold"
    assert isinstance(shown["points_balance"], int) and shown["points_balance"] > 0
    assert shown["phone"] == "138****0003"
    chat = cli("chat", "--sender", "demo-gold", stdin="/points\n").stdout
    balance = int(re.search(r"([\d,]+) 分", chat).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert balance == shown["points_balance"]
    # seeding again is idempotent
    cli("demo", "seed")
    again = json.loads(cli("members", "show", "console:demo-gold", "--json").stdout)
    assert again["points_balance"] == shown["points_balance"]


def test_members_show_by_phone_and_unknown_member(cli: Cli) -> None:
    cli("demo", "seed")
    by_phone = json.loads(cli("members", "show", "13800000004", "--json").stdout)
    assert by_phone["tier"] == "diamond"
    unmasked = json.loads(cli("members", "show", "M000004", "--json", "--unmask").stdout)
    assert unmasked["phone"] == "+8613800000004"
    missing = cli("members", "show", "web:nobody", "--json", check=False)
    assert missing.returncode == 1
    assert "no member matches" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_import_reports_row_errors_and_exit_code(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("record,member_no,phone\nmember,M300001,13912345678\nmember,M300002,123\n",
                   encoding="utf-8")
    result = cli("members", "import", str(bad), check=False)
    assert result.returncode == 1
    assert "row 3: phone" in result.stderr
    assert "nothing imported" in result.stderr
    ok = cli("members", "import", str(bad), "--skip-invalid")
    assert "1 member(s) created" in ok.stdout
    assert json.loads(cli("members", "show", "M300001", "--json").stdout)["tier"] == "standard"


def test_chat_scripted_multilingual(cli: Cli) -> None:
    cli("demo", "seed")
    out = cli("chat", "--sender", "demo-diamond", "--lang", "en",
              stdin="/tier\n/upgrade\n").stdout
    assert "Diamond" in out
    assert "top tier" in out


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("app:\n  colour: blue\n", "app.colour: unknown key"),
        ("nlu:\n  threshold: high\n", "nlu.threshold"),
        ("secret_key: abc\n", "holds a secret"),
        ("app: [\n", "not valid YAML"),
    ],
)
def test_invalid_config_exits_2_naming_the_key(cli: Cli, tmp_path: Path, config: str,
                                               expected: str) -> None:
    base = (ROOT / "config.yml").read_text(encoding="utf-8")
    path = tmp_path / "bad.yml"
    path.write_text(base + "\n" + config if not config.startswith("app: [") else config,
                    encoding="utf-8")
    result = cli("members", "show", "M000001", check=False,
                 extra_env={"KEFU_CONFIG": str(path)})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_a_secret(cli: Cli) -> None:
    result = cli("members", "show", "M000001", check=False,
                 extra_env={"KEFU_APP__ENVIRONMENT": "production"})
    assert result.returncode == 2
    assert "KEFU_SECRET_KEY" in result.stderr


def test_production_refuses_one_time_codes_in_the_log(cli: Cli) -> None:
    production = {"KEFU_APP__ENVIRONMENT": "production",
                  "KEFU_SECRET_KEY": "production-secret-" + "k" * 20}
    result = cli("serve", "--port", "0", check=False, extra_env=production)
    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert problems == ["  - sms.provider: 'log' writes one-time codes to the log; production "
                        "needs 'http' with sms.url (environment override: KEFU_SMS__PROVIDER)"]
    assert "Traceback" not in result.stderr
    no_url = cli("members", "show", "M000001", check=False,
                 extra_env={**production, "KEFU_SMS__PROVIDER": "http"})
    assert no_url.returncode == 2 and "sms.url" in no_url.stderr
    gateway = {**production, "KEFU_SMS__PROVIDER": "http",
               "KEFU_SMS__URL": "https://sms.example.com/send"}
    accepted = cli("members", "show", "M000001", check=False, extra_env=gateway)
    assert accepted.returncode != 2, accepted.stderr  # past the configuration check
    # Missing secret and demo SMS together: one line each.
    both = cli("members", "show", "M000001", check=False,
               extra_env={"KEFU_APP__ENVIRONMENT": "production"})
    assert both.returncode == 2
    assert len([line for line in both.stderr.splitlines() if line.startswith("  - ")]) == 2
