"""`kefu serve --workers 2` as a process on PostgreSQL: both workers answer on one port, and
exactly one of them runs the timed jobs."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.cli.workers import bind_sockets, default_workers
from tests.conftest import BACKENDS, PG_URL, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only,
              pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")]
WORKER = re.compile(r'^kefu_worker_info\{pid="(\d+)",worker="(\d+)"\} 1\.0$', re.M)
LEADER = re.compile(r"^kefu_scheduler_leader ([01])\.0$", re.M)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def drop_schema(schema: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    schema = f"kefu_workers_{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                      "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), PYTHONPATH=str(ROOT),
               KEFU_DATABASE_URL=PG_URL, KEFU_DATABASE__SCHEMA_NAME=schema,
               KEFU_SECRET_KEY="w" * 32, KEFU_APP__DATA_DIR=str(tmp_path / "data"),
               KEFU_NLU__MODEL_DIR=str(ROOT / ".kefu" / "nlu-model"),
               KEFU_CHANNELS__TELEGRAM__ENABLED="false")
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, cwd=tmp_path,
                   capture_output=True, timeout=600, check=True)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
            env=env, cwd=tmp_path, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url, process, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        asyncio.run(drop_schema(schema))


def test_both_workers_answer_and_one_leads(
        two_workers: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, process, log = two_workers
    leaders: dict[str, str] = {}
    replies: set[str] = set()
    deadline = time.monotonic() + 120
    # A new connection per request: the kernel hands each to one of the two workers.
    while time.monotonic() < deadline and (len(leaders) < 2 or "1" not in leaders.values()):
        scrape = httpx.get(url + "/metrics", timeout=10).text
        workers, leader = WORKER.findall(scrape), LEADER.search(scrape)
        assert len(workers) == 1 and leader is not None, scrape[-2000:]
        leaders[workers[0][1]] = leader.group(1)
        answer = httpx.post(url + "/webhooks/rest/webhook", timeout=10,
                            json={"sender": "workers-test", "message": "/help"})
        assert answer.status_code == 200
        replies.add(answer.json()[0]["text"])
    assert sorted(leaders) == ["1", "2"], log.read_text()[-3000:]
    assert sorted(leaders.values()) == ["0", "1"], leaders
    assert len(replies) == 1  # the same bot behind both
    # One kept-alive connection: no answer waits for the client's delayed ACK (40 ms each
    # when the shared socket lacked TCP_NODELAY).
    with httpx.Client(base_url=url, timeout=10) as client:
        times = []
        for _ in range(21):
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            times.append(time.perf_counter() - started)
    assert sorted(times)[10] < 0.030, times
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert "Finished server process" in log.read_text()


def test_workers_default_to_the_cpu_count_on_postgresql_and_one_on_sqlite() -> None:
    assert default_workers(embedded=True) == 1
    assert default_workers(embedded=False) == max(1, os.cpu_count() or 1)


def test_workers_stop_when_the_supervisor_is_killed(
        two_workers: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, process, log = two_workers
    pids: set[int] = set()
    deadline = time.monotonic() + 60
    while len(pids) < 2 and time.monotonic() < deadline:
        scrape = httpx.get(url + "/metrics", timeout=10).text
        pids.update(int(pid) for pid, _ in WORKER.findall(scrape))
    assert len(pids) == 2, log.read_text()[-3000:]
    process.kill()  # SIGKILL: the supervisor cannot pass anything on
    process.wait(timeout=10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.2)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], "orphaned workers"


def test_each_worker_listens_on_a_socket_of_its_own_on_one_port() -> None:
    """On one shared socket the worker that woke first accepted every connection waiting:
    bench/turns saw all 16 keep-alive connections on one of two workers (232 req/s, the
    other idle); with a socket each the kernel spreads them (333 req/s)."""
    socks = bind_sockets("127.0.0.1", 0, 2)
    try:
        assert len({s.fileno() for s in socks}) == 2
        assert len({s.getsockname() for s in socks}) == 1
        for sock in socks:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            # No answer waits for the client's delayed ACK.
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for sock in socks:
            sock.close()
