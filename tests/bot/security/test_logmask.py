"""No personal data in logs: phone numbers masked in every record, names never logged."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.app import Kefu
from bot.cli.common import setup_logging
from bot.core.logmask import mask_phones, uninstall_log_masking
from bot.server.asgi import create_app
from tests.conftest import ROOT
from tests.factories import bound_member

PHONES = ["13800000001", "+8613800000001", "138 0000 0001", "+85291234567", "0912345678"]
DIGITS = ["13800000001", "91234567", "0912345678", "912345678"]
NAMES = ["王芳", "Emily Zhao"]


@pytest.mark.parametrize(("text", "masked"), [
    ("bind +8613800000001 please", "bind 138****0001 please"),
    ("138-0000-0001", "138****0001"),
    ("HK +852 9123 4567", "HK ****4567"),
    ("TW 0912-345-678", "TW 091****5678"),
    ("store 021-52980001", "store 021****0001"),
])
def test_phone_patterns_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.mark.parametrize("text", ["order 20261123-0042", "M000001", "points 18238",
                                  "id 123456789012", "2026-11-23 14:00:00"])
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_phones(text) == text


@pytest.fixture
def masked_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    setup_logging(logging.DEBUG)  # installs the masking, as every CLI command does
    caplog.set_level(logging.DEBUG)
    yield caplog
    uninstall_log_masking()


def _all_output(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_web_chat_logs_no_phone_numbers_or_names(
    kefu: Kefu, masked_logging: pytest.LogCaptureFixture
) -> None:
    await bound_member(kefu, sender="leaky", phone="+8613800000001")
    transport = httpx.ASGITransport(app=create_app(kefu, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as client:
        for text in [*(f"绑定{p}" for p in PHONES), "我叫王芳", "I am Emily Zhao",
                     "my number is +85291234567", "/points", "/tier"]:
            response = await client.post("/webhooks/rest/webhook",
                                         json={"sender": "leaky", "message": text})
            assert response.status_code == 200
        await client.post("/model/parse", json={"text": "13800000001 王芳"})
    # A careless log call elsewhere is masked too, traceback included.
    try:
        raise ValueError("no member with phone +8613800000001")
    except ValueError:
        logging.getLogger("kefu.careless").exception("lookup of %s failed", "13800000001")
    output = _all_output(masked_logging)
    assert "careless" in output and "138****0001" in output
    for secret in [*DIGITS, *NAMES]:
        assert secret not in output, secret


def test_cli_chat_logs_no_phone_numbers_or_names(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                      "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), KEFU_APP__DATA_DIR=str(tmp_path / "data"),
               PYTHONPATH=str(ROOT),
               KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}")
    lines = "\n".join([*(f"绑定{p}" for p in PHONES), "我叫王芳", "/points"]) + "\n"
    outputs = []
    for args, stdin in ((["demo", "seed"], ""), (["chat", "--sender", "demo-gold"], lines),
                        (["members", "show", "13800000001"], "")):
        result = subprocess.run([sys.executable, "-m", "bot", *args], input=stdin,
                                capture_output=True, text=True, env=env, cwd=tmp_path,
                                timeout=180, check=False)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stderr)
    logged = "\n".join(outputs)
    for secret in [*DIGITS, *NAMES]:
        assert secret not in logged, secret
