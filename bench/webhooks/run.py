"""Webhook and outbox benchmark: python bench/webhooks/run.py [--db sqlite,postgresql] [-n 300].

Measures, per database:
- WeChat webhook (plain and safe mode) and Telegram webhook: requests/s with 8 concurrent
  senders and p50/p99 latency of single requests, through the real FastAPI app in process
  (the dialogue, its transaction and the outbox write included; delivery excluded);
- outbox delivery rate against the Telegram simulator limited to 30 messages/s, and how
  many 429s it answered (target: >= 28.5 msg/s sustained, 0 x 429).
Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import build_kefu
from bot.channels.telegram_sender import TelegramSender, make_bot
from bot.core.messages import OutboundMessage
from bot.core.metrics import OUTBOX_RETRIED
from bot.core.storage.db import make_engine, transaction
from bot.delivery import TELEGRAM_POLICY
from bot.outbox import store as outbox
from bot.outbox.dispatcher import Dispatcher
from bot.server.asgi import create_app
from bot.settings import (
    AppSettings,
    DatabaseSettings,
    Settings,
    load_settings,
)
from kefu_sim import WeChatPusher, text_message, text_update

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TG_TOKEN, TG_SECRET = "777:AAE-bench", "bench-secret"
WX_TOKEN, WX_APPID = "bench-wx-token", "wx0123456789abcdef"
WX_AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def configure(backend: str, tmp: Path, schema: str) -> Settings:
    base = load_settings(ROOT / "config.yml")
    url = PG_URL if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    return base.model_copy(update={
        "secret_key": SecretStr("bench-secret-key-0123456789"),
        "database_url": url,
        "database": DatabaseSettings(url=url, schema_name=schema if backend == "postgresql"
                                     else None),
        "app": AppSettings(**{**base.app.model_dump(), "data_dir": tmp / "data"}),
        "telegram_bot_token": SecretStr(TG_TOKEN),
        "telegram_webhook_secret": SecretStr(TG_SECRET),
        "telegram_api_base_url": "http://127.0.0.1:9/unused",
        "wechat_token": SecretStr(WX_TOKEN), "wechat_app_id": WX_APPID,
        "wechat_aes_key": SecretStr(WX_AES),
        # The plain-mode figures need plain pushes accepted beside the AES key.
        "channels": base.channels.model_copy(update={
            "wechat": base.channels.wechat.model_copy(update={"accept_plain": True})}),
    })


async def measure(send: Callable[[int], Awaitable[None]], n: int) -> tuple[float, float, float]:
    """(requests/s with 8 concurrent senders, p50 ms, p99 ms of sequential requests)."""
    latencies = []
    for i in range(n):
        start = time.perf_counter()
        await send(i)
        latencies.append((time.perf_counter() - start) * 1000)
    queue = list(range(n, 2 * n))

    async def worker() -> None:
        while queue:
            await send(queue.pop())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    rate = n / (time.perf_counter() - start)
    quantiles = statistics.quantiles(latencies, n=100)
    return rate, statistics.median(latencies), quantiles[98]


async def webhooks(backend: str, n: int) -> dict[str, tuple[float, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"kefu_bench_{secrets.token_hex(3)}"
        settings = configure(backend, Path(tmp), schema)
        kefu = await build_kefu(settings, migrate=True)
        # No dispatcher: this measures taking messages in, not delivering them.
        app = create_app(kefu, background=False)
        results: dict[str, tuple[float, float, float]] = {}
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://kefu") as client:
            for mode in ("plain", "safe"):
                pusher = WeChatPusher("http://kefu/webhooks/wechat", token=WX_TOKEN,
                                      appid=WX_APPID, encoding_aes_key=WX_AES,
                                      mode=mode, client=client)  # type: ignore[arg-type]

                async def push(i: int, pusher: WeChatPusher = pusher, mode: str = mode) -> None:
                    result = await pusher.push(text_message("/help", openid=f"o{mode}{i % 50}"))
                    assert result.ok, result.error

                results[f"WeChat webhook ({mode})"] = await measure(push, n)

            async def tg(i: int) -> None:
                response = await client.post(
                    "/webhooks/telegram", json=text_update("/help", user_id=1000 + i % 50),
                    headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
                assert response.status_code == 200

            results["Telegram webhook"] = await measure(tg, n)
        if backend == "postgresql":
            async with kefu.engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await kefu.aclose()
        return results


@contextmanager
def simulator_process(port: int) -> Iterator[str]:
    """The Telegram simulator in a process of its own, as the real platform is: sharing this
    process's GIL would make its arrival times jitter with Kefu's own work."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "simulate", "telegram", "--port", str(port),
         "--token", TG_TOKEN, "--global-limit", "30"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/_sim/sent", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def delivery(backend: str, n: int) -> tuple[float, int]:
    with simulator_process(free_port()) as url, tempfile.TemporaryDirectory() as tmp:
        schema = f"kefu_bench_{secrets.token_hex(3)}"
        settings = configure(backend, Path(tmp), schema)
        kefu = await build_kefu(settings, migrate=True)
        now = datetime.now(UTC)
        async with transaction(kefu.sessions) as session:
            for i in range(n):
                await outbox.enqueue(session, OutboundMessage("telegram", str(5000 + i),
                                                              f"bench {i}"),
                                     identity_id=None, now=now)
        dispatcher = Dispatcher(sessions=kefu.sessions,
                                senders={"telegram": TelegramSender(make_bot(TG_TOKEN, url))},
                                policies={"telegram": TELEGRAM_POLICY})
        throttled_before = _throttled()
        while dispatcher.sent < n:
            await dispatcher.run_once()
        await dispatcher.aclose()
        async with httpx.AsyncClient() as client:
            sent = (await client.get(f"{url}/_sim/sent")).json()
        times = sorted(float(m["at"]) for m in sent)
        throttled = _throttled() - throttled_before
        if backend == "postgresql":
            engine = make_engine(PG_URL)
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await engine.dispose()
        await kefu.aclose()
        return (len(times) - 1) / (times[-1] - times[0]), throttled


def _throttled() -> int:
    """429s the dispatcher met (each parks a row: the retried counter with that reason)."""
    return int(OUTBOX_RETRIED.labels("telegram", "rate_limited")._value.get())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("-n", type=int, default=300, help="requests per measurement")
    parser.add_argument("--deliver", type=int, default=450, help="messages to deliver")
    args = parser.parse_args()
    rows = []
    for backend in args.db.split(","):
        for name, (rate, p50, p99) in (await webhooks(backend, args.n)).items():
            rows.append(f"| {name} | {backend} | {rate:.0f} msg/s | {p50:.1f} ms | "
                        f"{p99:.1f} ms |")
        rate, throttled = await delivery(backend, args.deliver)
        rows.append(f"| Outbox → Telegram simulator (30 msg/s limit) | {backend} | "
                    f"{rate:.1f} msg/s | {throttled} × 429 | |")
    print("| measurement | database | throughput | p50 | p99 |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
