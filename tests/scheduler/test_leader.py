"""One leader: two real `kefu serve` processes on one PostgreSQL schema; only one runs the
jobs, and the other takes over within 30 s after the leader is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.core.storage.db import make_engine
from scheduler.leader import FileLock, PostgresLock
from tests.conftest import BACKENDS, PG_URL
from tests.scheduler.processes import Served, base_env, metric_value

needs_postgres = pytest.mark.skipif("postgresql" not in BACKENDS,
                                    reason="KEFU_TEST_DATABASES does not include postgresql")


def leads(served: Served) -> bool:
    try:
        page = httpx.get(served.url + "/metrics", timeout=5).text
    except httpx.HTTPError:
        return False
    return metric_value(page, "kefu_scheduler_leader") == 1


def sla_runs(served: Served) -> float:
    page = httpx.get(served.url + "/metrics", timeout=5).text
    return metric_value(page, 'kefu_job_runs_total{job="sla-check",outcome="ok"}')


def wait_until(check: Any, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"kefu_leader_{secrets.token_hex(4)}"
    yield schema

    async def drop() -> None:
        engine = make_engine(PG_URL)
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


@needs_postgres
@pytest.mark.slow
def test_another_server_takes_over_after_the_leader_is_killed(
        tmp_path: Path, pg_schema: str, embedded_nlu: Any) -> None:
    env = base_env(tmp_path, KEFU_DATABASE_URL=PG_URL, KEFU_DATABASE__SCHEMA_NAME=pg_schema,
                   KEFU_SCHEDULER__SLA_CHECK_SECONDS="1")
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)
    first = Served(env, tmp_path, "first")
    second: Served | None = None
    try:
        first.wait_healthy()
        wait_until(lambda: leads(first), 15, "the first server leading")
        second = Served(env, tmp_path, "second")
        second.wait_healthy()
        assert "already runs the timed jobs" in second.log
        time.sleep(3)  # several SLA passes: all in the leader
        assert sla_runs(first) >= 2
        assert not leads(second) and sla_runs(second) == 0

        first.kill()
        took = wait_until(lambda: leads(second), 30, "the second server taking over")
        print(f"took over {took:.1f} s after SIGKILL")
        wait_until(lambda: sla_runs(second) >= 2, 10, "the new leader running the SLA pass")
        listed = subprocess.run([sys.executable, "-m", "bot", "jobs", "list"], env=env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=120,
                                check=True).stdout
        assert f":{second.process.pid} since" in listed
    finally:
        first.kill()
        if second is not None:
            second.stop()


@needs_postgres
async def test_the_advisory_lock_is_held_once_per_schema(pg_schema: str) -> None:
    engine = make_engine(PG_URL)
    one, two = PostgresLock(engine, schema=pg_schema), PostgresLock(engine, schema=pg_schema)
    elsewhere = PostgresLock(engine, schema=pg_schema + "_other")
    try:
        assert await one.try_acquire()
        assert not await two.try_acquire()
        assert await elsewhere.try_acquire()  # another schema is another Kefu
        assert await one.still_held()
        await one.release()
        assert await two.try_acquire()
    finally:
        for lock in (one, two, elsewhere):
            await lock.release()
        await engine.dispose()


async def test_the_lock_file_is_held_once(tmp_path: Path) -> None:
    one, two = FileLock(tmp_path / "kefu.db.scheduler.lock"), FileLock(
        tmp_path / "kefu.db.scheduler.lock")
    assert await one.try_acquire()
    assert not await two.try_acquire()
    assert two.holder_hint().startswith("Kefu process ")
    await one.release()
    assert await two.try_acquire()
    await two.release()
