"""The README's purchase example, replayed as written against `kefu serve` as a process.

Only the port changes (the test binds a free one). The demo Gold member's balance must rise by
exactly the Gold rule, the bot's /points must show it, the repeat must change nothing and the
refund must take it back.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import httpx
import pytest

from bot.settings import load_settings
from tests.conftest import BACKENDS, PG_URL, ROOT

README = ROOT / "README.md"
KEFU = [sys.executable, "-m", "bot"]


def readme_block() -> str:
    """The ```bash block of the section "Purchases from tills and shops"."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Purchases from tills and shops"):]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, "the README section has no bash example"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {k: v for k, v in os.environ.items()
              if not k.startswith(("KEFU_", "TELEGRAM_", "WECHAT_"))}
    values.update(KEFU_CONFIG=str(ROOT / "config.yml"), KEFU_APP__DATA_DIR=str(tmp_path / "d"),
                  KEFU_SECRET_KEY="readme-test-" + secrets.token_hex(16), PYTHONPATH=str(ROOT))
    schema = None
    if request.param == "postgresql":
        schema = f"kefu_readme_{secrets.token_hex(4)}"
        values.update(KEFU_DATABASE_URL=PG_URL, KEFU_DATABASE__SCHEMA_NAME=schema)
    else:
        values.update(KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}")
    if schema:
        run(values, "db", "upgrade")
    yield values
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


def run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*KEFU, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, f"kefu {args}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen([*KEFU, "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.2)
        else:
            pytest.fail("kefu serve did not answer /healthz within 60 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def balance(env: dict[str, str]) -> int:
    return int(json.loads(run(env, "members", "show", "M000003", "--json"))["points_balance"])


def test_the_readme_purchase_example_earns_shows_repeats_and_refunds(
    env: dict[str, str], server: int
) -> None:
    run(env, "demo", "seed")
    key = json.loads(run(env, "integrations", "add", "Jing'an tills", "--json"))
    before = balance(env)
    rate = load_settings(ROOT / "config.yml").tier("gold").points_per_yuan
    expected = int((Decimal("128.00") * rate).to_integral_value(rounding=ROUND_FLOOR))
    script = readme_block().replace("localhost:8000", f"127.0.0.1:{server}")
    # The README runs from the repository's root with its .venv; so does the test.
    result = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=180, check=False,
                            env={**env, "KEY": key["key_id"], "SECRET": key["secret"]})
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()
               if line.startswith("{")]
    earned, repeated, refunded = answers
    assert earned["member"] == "M000003" and earned["tier"] == "gold"
    assert earned["points"] == expected == 192
    assert earned["balance"] == before + expected
    chat = result.stdout.splitlines()[1]  # the bot's answer to /points
    assert f"{before + expected:,} 分" in chat
    assert repeated == earned
    assert refunded["points"] == -expected
    assert refunded["balance"] == before
    assert balance(env) == before
