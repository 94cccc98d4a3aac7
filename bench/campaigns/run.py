"""Campaign benchmark: Telegram at its 30 msg/s with two workers, and Kefu's own ceiling.

    python bench/campaigns/run.py --recipients 6000 --seconds 180          # the limit, 2 workers
    python bench/campaigns/run.py --recipients 100000 --unlimited          # Kefu's ceiling

Members are seeded into a PostgreSQL schema of their own, a campaign is created and expanded
into the outbox by the campaign job (timed), then worker processes deliver it to the Telegram
simulator (a process of its own; `--global-limit 30` unless --unlimited). Reports the sustained
rate seen by the simulator, 429s met by the workers, duplicates, and the workers' peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import build_kefu
from bot.app_proactive import planner_for
from bot.core.storage.db import make_engine, transaction
from bot.core.storage.models import ChannelIdentity, Member
from bot.core.storage.security_models import ConsentEvent
from bot.features.proactive import campaigns
from bot.features.proactive.live import LiveProactive
from bot.features.proactive.segments import Segment
from bot.features.proactive.settings import QuietHours
from bot.settings import DatabaseSettings, load_settings
from scheduler.campaigns import send_due_campaigns

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TOKEN = "123456:bench-campaigns"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def simulator(port: int, limited: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bot", "simulate", "telegram", "--port", str(port),
            "--token", TOKEN]
    if limited:
        args += ["--global-limit", "30"]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def prepare(schema: str, recipients: int) -> float:
    """Seeds members and a campaign; returns the expansion rate (recipients/s)."""
    base = load_settings(ROOT / "config.yml")
    proactive = base.proactive.model_copy(update={"quiet_hours": QuietHours(
        start=datetime.min.time(), end=datetime.min.time())})
    settings = base.model_copy(update={
        "database_url": PG_URL, "database": DatabaseSettings(url=PG_URL, schema_name=schema),
        "secret_key": SecretStr("bench-" + "x" * 30), "telegram_bot_token": SecretStr(TOKEN),
        "proactive": proactive})
    engine = make_engine(PG_URL)
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await engine.dispose()
    kefu = await build_kefu(settings, migrate=True)
    now = datetime.now(UTC)
    async with transaction(kefu.sessions) as session:
        for start in range(0, recipients, 5000):
            count = min(5000, recipients - start)
            await session.execute(insert(Member), [
                {"member_no": f"M{1_000_000 + start + i}", "language": "zh-Hans",
                 "timezone": "Asia/Shanghai", "tier": "gold", "joined_at": now,
                 "consent_greetings": True, "consent_promotions": True, "created_at": now,
                 "updated_at": now} for i in range(count)])
        ids = list((await session.execute(select(Member.id).order_by(Member.id))).scalars())
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            await session.execute(insert(ChannelIdentity), [
                {"channel": "telegram", "external_id": str(10_000_000 + start + i),
                 "member_id": member_id, "bound_at": now, "created_at": now,
                 "last_seen_at": now, "window_sent": 0} for i, member_id in enumerate(chunk)])
            await session.execute(insert(ConsentEvent), [
                {"member_id": member_id, "kind": "promotions", "granted": True,
                 "source": "bench", "at": now} for member_id in chunk])
    planner = planner_for(kefu, LiveProactive(settings.proactive, None))
    async with transaction(kefu.sessions) as session:
        await campaigns.create(session, planner, name="bench", segment=Segment(tiers=["gold"]),
                               texts={"zh-Hans": "{name}，金卡会员专享"}, now=now,
                               send_at=now - timedelta(seconds=1), actor="bench")
    started = time.perf_counter()
    await send_due_campaigns(sessions=kefu.sessions, planner=planner,
                             clock=lambda: datetime.now(UTC))
    elapsed = time.perf_counter() - started
    async with kefu.engine.begin() as connection:
        await connection.execute(text("ANALYZE outbox"))
    await kefu.aclose()
    return recipients / elapsed


def deliver(schema: str, sim_url: str, workers: int, seconds: float, limited: bool,
            redis_url: str | None) -> list[dict[str, int]]:
    args = [sys.executable, str(ROOT / "bench/campaigns/worker.py"), PG_URL, schema, sim_url,
            str(seconds), "1" if limited else "0", *([redis_url] if redis_url else [])]
    procs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE) for _ in range(workers)]
    return [json.loads(p.communicate()[0].decode().strip().splitlines()[-1]) for p in procs]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=6000)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--unlimited", action="store_true")
    parser.add_argument("--redis", default=None, help="share the limit in this Redis")
    args = parser.parse_args()
    schema = f"kefu_bench_{secrets.token_hex(3)}"
    port = free_port()
    sim = simulator(port, not args.unlimited)
    url = f"http://127.0.0.1:{port}"
    try:
        expansion = asyncio.run(prepare(schema, args.recipients))
        for _ in range(100):
            try:
                httpx.get(f"{url}/_sim/sent", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = deliver(schema, url, args.workers, args.seconds, not args.unlimited,
                          args.redis)
        sent = httpx.get(f"{url}/_sim/sent", timeout=60).json()
        times = sorted(float(m["at"]) for m in sent)
        per_chat = Counter(str(m["chat_id"]) for m in sent)
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        print(json.dumps({
            "recipients": args.recipients, "workers": args.workers,
            "limit": None if args.unlimited else 30,
            "expansion_per_s": round(expansion), "delivered": len(sent),
            "rate_per_s": round(rate, 1), "throttled": sum(r["throttled"] for r in results),
            "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
            "worker_rss_mb": max(r["rss_mb"] for r in results),
            "bench_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
    finally:
        sim.terminate()
        sim.wait(timeout=10)
        engine = make_engine(PG_URL)

        async def drop() -> None:
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()

        asyncio.run(drop())


if __name__ == "__main__":
    main()
