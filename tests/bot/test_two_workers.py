"""Two `kefu serve` processes on one PostgreSQL (a schema of its own) and one Redis, as in
production behind a proxy: WeChat pushes land on either worker, retries land on the other, and
every message still gets exactly one reply, sent with one access token for both workers,
and one of the two leads the timed jobs.

The passive-reply window is set near zero, so every reply goes through the customer-service
API (and needs the token); the WeChat simulator counts token fetches.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from kefu_sim.wechat import WeChatSimConfig, WeChatSimulator
from kefu_sim.wechat_xml import text_message
from tests.conftest import BACKENDS, PG_URL, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only,
              pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")]
TOKEN = "two-workers-token"
SENDERS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.3)
    raise AssertionError(f"{url} did not start:\n{log.read_text()}")


@pytest.fixture
def simulator() -> Iterator[tuple[WeChatSimulator, str]]:
    sim = WeChatSimulator(WeChatSimConfig(appid="wx" + secrets.token_hex(8),
                                          secret=secrets.token_hex(16)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(sim.app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield sim, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class Workers:
    urls: list[str]
    pids: list[int]
    logs: list[Path]
    env: dict[str, str]
    cwd: Path


@pytest.fixture
def workers(tmp_path: Path, simulator: tuple[WeChatSimulator, str]) -> Iterator[Workers]:
    sim, sim_url = simulator
    schema = f"kefu_two_{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                      "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), PYTHONPATH=str(ROOT),
               KEFU_DATABASE_URL=PG_URL, KEFU_DATABASE__SCHEMA_NAME=schema,
               KEFU_REDIS_URL="redis://127.0.0.1:6379/0", KEFU_SECRET_KEY="k" * 32,
               KEFU_APP__DATA_DIR=str(tmp_path / "data"),
               KEFU_NLU__MODEL_DIR=str(tmp_path / "model"),
               KEFU_CHANNELS__WECHAT__PASSIVE_REPLY_SECONDS="0.001",
               KEFU_CHANNELS__TELEGRAM__ENABLED="false",
               WECHAT_TOKEN=TOKEN, WECHAT_APP_ID=sim.config.appid,
               WECHAT_APP_SECRET=sim.config.secret, WECHAT_API_BASE_URL=sim_url + "/cgi-bin/")

    def kefu(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=tmp_path,
                              capture_output=True, timeout=600, check=True)

    kefu("db", "upgrade")
    kefu("nlu", "train")  # once, so the two workers do not both train into one directory
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for index in range(2):
            port = free_port()
            log = tmp_path / f"worker{index}.log"
            with log.open("w") as sink:
                processes.append(subprocess.Popen(
                    # One process each (not --workers N): two separate processes is the
                    # deployment this test stands for.
                    [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "1"],
                    env=env, cwd=tmp_path, stdout=sink, stderr=sink))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process, index in zip(urls, processes, range(2), strict=True):
            wait_healthy(url, process, tmp_path / f"worker{index}.log")
        yield Workers(urls, [p.pid for p in processes],
                      [tmp_path / f"worker{index}.log" for index in range(2)], env, tmp_path)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        import asyncpg  # the schema is dropped with a plain connection

        async def drop() -> None:
            connection = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
            try:
                await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await connection.close()

        asyncio.run(drop())


def test_interleaved_traffic_gets_one_reply_per_message_and_one_token(
        simulator: tuple[WeChatSimulator, str], workers: Workers) -> None:
    sim, _ = simulator
    openids = [f"oTwoWorkers{index:04d}{secrets.token_hex(6)}"[:28] for index in range(SENDERS)]

    async def traffic() -> None:
        pushers = [sim.pusher(url + "/webhooks/wechat", token=TOKEN, timeout=10)
                   for url in workers.urls]
        async with pushers[0] as first, pushers[1] as second:
            both = (first, second)
            messages = [text_message("/help", openid=openid) for openid in openids]
            # Each message to one worker, and WeChat's retry of it to the other, all at once.
            await asyncio.gather(*(both[i % 2].push(m) for i, m in enumerate(messages)),
                                 *(both[(i + 1) % 2].push(m) for i, m in enumerate(messages)))

    asyncio.run(traffic())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len({m.openid for m in sim.sent}) < SENDERS:
        time.sleep(0.5)
    time.sleep(3)  # anything sent twice would arrive by now
    per_sender = Counter(m.openid for m in sim.sent)
    assert per_sender == dict.fromkeys(openids, 1), per_sender
    assert sim.token_fetches == 1
    listed = subprocess.run([sys.executable, "-m", "bot", "jobs", "list", "--json"],
                            env=workers.env, cwd=workers.cwd, capture_output=True, timeout=120,
                            check=True)
    leader = json.loads(listed.stdout)["leader"]
    assert leader["alive"], leader
    assert int(leader["owner"].rpartition(":")[2]) in workers.pids, (leader, workers.pids)
    leading = [log for log in workers.logs if "leads:" in log.read_text()]
    assert len(leading) == 1, [log.read_text() for log in workers.logs]
