"""Loyalty benchmark: python bench/loyalty/run.py [--db postgresql] [-n 300] [--batches 6]
[--balance-only].

Measures, on the database named (PostgreSQL by default):
- signed purchases through the real FastAPI app in process (signature check, member lookup by
  phone's blind index or member number, tier at the time, ledger writes, the balance answer):
  one by one (purchases/s, p50/p99 per request) and in batches of 500 (purchases/s,
  p50/p99 per batch);
- the balance answer for a member with 10,000 ledger entries: the standing the bot's /points
  computes (p50/p99; target <= 10 ms), and /points through the web chat end to end.
Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import Kefu, build_kefu
from bot.core.storage import members as member_store
from bot.core.storage.db import make_engine, transaction
from bot.core.storage.models import PointTransaction
from bot.features.loyalty.integrations import add_key, sign
from bot.features.loyalty.ledger import ledger_entries
from bot.features.loyalty.points import EARN, REDEEM, lot_expiry, summarise
from bot.features.loyalty.service import member_standing
from bot.server.asgi import create_app
from bot.settings import AppSettings, DatabaseSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
MEMBERS = 500


def configure(backend: str, tmp: Path, schema: str) -> Settings:
    base = load_settings(ROOT / "config.yml")
    url = PG_URL if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    return base.model_copy(update={
        "secret_key": SecretStr("bench-secret-key-0123456789"),
        "database_url": url,
        "database": DatabaseSettings(url=url, schema_name=schema if backend == "postgresql"
                                     else None),
        "app": AppSettings(**{**base.app.model_dump(), "data_dir": tmp / "data"}),
    })


def quantiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=100)[98]


async def seed_members(kefu: Kefu, now: datetime) -> None:
    async with transaction(kefu.sessions) as session:
        for i in range(MEMBERS):
            await kefu.directory.create(
                session, member_no=f"M{800000 + i}", phone=f"+86139{i:08d}", name=None,
                birthday=date(1990, 1 + i % 12, 1), language="zh-Hans",
                timezone="Asia/Shanghai", joined_at=now - timedelta(days=400))


async def long_ledger(kefu: Kefu, now: datetime, entries: int) -> int:
    """A member with ``entries`` ledger rows over the last year: earns and redemptions."""
    async with transaction(kefu.sessions) as session:
        member = await kefu.directory.create(
            session, member_no="M900000", phone="+8613700000000", name=None, birthday=None,
            language="zh-Hans", timezone="Asia/Shanghai", joined_at=now - timedelta(days=800))
        identity = await member_store.ensure_identity(session, channel="web",
                                                      external_id="long-ledger", now=now)
        await member_store.bind_identity(session, identity=identity, member=member, now=now)
        rows = []
        for i in range(entries):
            when = now - timedelta(minutes=52 * (entries - i))  # ~10,000 over a year
            earn = i % 4 != 3
            rows.append({"member_id": member.id, "kind": EARN if earn else REDEEM,
                         "points": 120 if earn else -200, "occurred_at": when,
                         "expires_on": lot_expiry(when.date(), 12) if earn else None,
                         "reason": "", "external_ref": f"bench:{i}", "created_at": when})
        for start in range(0, len(rows), 1000):
            await session.execute(insert(PointTransaction), rows[start:start + 1000])
        return member.id


async def run(backend: str, n: int, batches: int,
              balance_only: bool = False) -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"kefu_bench_{secrets.token_hex(3)}"
        settings = configure(backend, Path(tmp), schema)
        kefu = await build_kefu(settings, migrate=True)
        now = datetime.now(UTC)
        await seed_members(kefu, now)
        async with transaction(kefu.sessions) as session:
            key = await add_key(session, name="bench", actor="bench", now=now)
        app = create_app(kefu, background=False)
        rows: list[tuple[str, str, str, str]] = []

        async def post(client: httpx.AsyncClient, path: str, body: object) -> httpx.Response:
            raw = json.dumps(body).encode()
            ts = str(int(time.time()))
            response = await client.post(path, content=raw, headers={
                "X-Kefu-Key": key.key_id, "X-Kefu-Timestamp": ts,
                "X-Kefu-Signature": sign(key.secret, ts, raw),
                "Content-Type": "application/json"})
            assert response.status_code == 200, response.text
            return response

        def purchase(i: int) -> dict[str, str]:
            member = f"M{800000 + i % MEMBERS}" if i % 2 else f"139{i % MEMBERS:08d}"
            return {"ref": f"bench-{i}", "member": member, "amount": f"{50 + i % 400}.50",
                    "store": "sh-jingan",
                    "occurred_at": (now - timedelta(seconds=i % 3000)).isoformat()}

        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://kefu") as client:
            latencies = []
            start = time.perf_counter()
            for i in range(n if not balance_only else 0):
                t0 = time.perf_counter()
                await post(client, "/api/v1/purchases", purchase(i))
                latencies.append((time.perf_counter() - t0) * 1000)
            if not balance_only:
                rate = n / (time.perf_counter() - start)
                p50, p99 = quantiles(latencies)
                rows.append((f"purchases one by one ({n})", f"{rate:.0f}/s", f"{p50:.1f} ms",
                             f"{p99:.1f} ms"))

            latencies = []
            start = time.perf_counter()
            for b in range(batches if not balance_only else 0):
                items = [purchase(100_000 + b * 500 + i) for i in range(500)]
                t0 = time.perf_counter()
                response = await post(client, "/api/v1/purchases", items)
                latencies.append((time.perf_counter() - t0) * 1000)
                assert all(item["status"] == 200 for item in response.json())
            if not balance_only:
                rate = batches * 500 / (time.perf_counter() - start)
                p50, p99 = quantiles(latencies)
                rows.append((f"purchases in batches of 500 ({batches} batches)",
                             f"{rate:.0f}/s", f"{p50:.0f} ms per batch",
                             f"{p99:.0f} ms per batch"))

            member_id = await long_ledger(kefu, now, 10_000)
            if backend == "postgresql":
                # What autovacuum does to a table within minutes: the visibility map lets
                # the snapshot's entry count be an index-only scan.
                async with kefu.engine.connect() as connection:
                    raw = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await raw.execute(text("VACUUM (ANALYZE) point_transactions"))
            timings = []
            for _ in range(60):
                async with transaction(kefu.sessions) as session:
                    member = await member_store.get_member(session, member_id=member_id)
                    assert member is not None
                    t0 = time.perf_counter()
                    standing = await member_standing(session, member=member,
                                                     settings=settings, now=now)
                    timings.append((time.perf_counter() - t0) * 1000)
            p50, p99 = quantiles(timings[10:])
            rows.append(("balance, member with 10,000 ledger entries (target ≤ 10 ms)",
                         f"balance {standing.points.balance:,}", f"{p50:.1f} ms",
                         f"{p99:.1f} ms"))
            timings = []
            for _ in range(12):  # the same without the snapshot: the whole ledger replayed
                async with transaction(kefu.sessions) as session:
                    t0 = time.perf_counter()
                    full = summarise(await ledger_entries(session, member_id=member_id,
                                                          zone=standing.zone),
                                     today=standing.today)
                    timings.append((time.perf_counter() - t0) * 1000)
            assert full.balance == standing.points.balance
            p50, p99 = quantiles(timings[2:])
            rows.append(("same balance replaying the whole ledger (no snapshot)",
                         f"balance {full.balance:,}", f"{p50:.1f} ms", f"{p99:.1f} ms"))
            timings = []
            for _ in range(30):
                t0 = time.perf_counter()
                response = await client.post("/webhooks/rest/webhook",
                                             json={"sender": "long-ledger", "message": "/points"})
                timings.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
            p50, p99 = quantiles(timings[5:])
            rows.append(("/points via the web chat, same member (whole turn)", "",
                         f"{p50:.1f} ms", f"{p99:.1f} ms"))
        await kefu.aclose()
        if backend == "postgresql":
            engine = make_engine(PG_URL)
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await engine.dispose()
        return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--balance-only", action="store_true")
    args = parser.parse_args()
    for backend in args.db.split(","):
        rows = await run(backend, args.n, args.batches, args.balance_only)
        print(f"\n{backend}\n\n| measurement | throughput / result | p50 | p99 |")
        print("|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    asyncio.run(main())
