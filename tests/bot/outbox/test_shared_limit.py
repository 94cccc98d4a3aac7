"""Two processes sending on one bot never exceed its limit together (Redis or database)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Database

LIMIT, SECONDS, PER_WORKER = 10, 1.0, 25
REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

WORKER = """
import asyncio, json, sys
from bot.outbox.shared_limit import DatabaseLimit, RedisLimit
from bot.core.storage.db import make_engine, make_sessionmaker

async def main(kind, target, schema, key, limit, seconds, count):
    engine = None
    if kind == "redis":
        limiter = RedisLimit(target, key=key, limit=limit, seconds=seconds)
    else:
        engine = make_engine(target, schema=schema or None)
        limiter = DatabaseLimit(make_sessionmaker(engine), key=key, limit=limit,
                                seconds=seconds)
    stamps = []
    for _ in range(count):
        stamps.append(await limiter.acquire())
    await limiter.aclose()
    if engine is not None:
        await engine.dispose()
    print(json.dumps(stamps))

kind, target, schema, key = sys.argv[1:5]
asyncio.run(main(kind, target, schema, key, int(sys.argv[5]), float(sys.argv[6]),
                 int(sys.argv[7])))
"""


def _max_in_any_window(stamps: list[float], seconds: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def _run_two(kind: str, target: str, schema: str, key: str, tmp_path: Path) -> list[float]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), kind, target, schema, key, str(LIMIT), str(SECONDS),
            str(PER_WORKER)]
    workers = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env) for _ in range(2)]
    stamps: list[float] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        stamps += json.loads(out)
    return stamps


def _assert_shared(stamps: list[float]) -> None:
    # Grant times on the limit's own clock (Redis TIME, or the hosts' shared clock).
    assert len(stamps) == 2 * PER_WORKER
    assert _max_in_any_window(stamps, SECONDS) <= LIMIT
    # …and the limit is used, not starved: 50 permits at 10/s take about 4-5 s.
    assert max(stamps) - min(stamps) < 2 * PER_WORKER / LIMIT + 2


def test_two_processes_share_one_limit_in_redis(tmp_path: Path) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running")
    key = f"kefu-test:{secrets.token_hex(6)}"
    try:
        _assert_shared(_run_two("redis", REDIS_URL, "", key, tmp_path))
    finally:
        redis.Redis.from_url(REDIS_URL).delete(key)


async def test_two_processes_share_one_limit_in_the_database(
        database: Database, tmp_path: Path) -> None:
    import asyncio

    stamps = await asyncio.to_thread(_run_two, "database", database.url, database.schema or "",
                                     f"test:{secrets.token_hex(4)}", tmp_path)
    _assert_shared(stamps)
