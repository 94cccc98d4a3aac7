"""Open web chat streams: python bench/streams/run.py [--streams 1000] [--runs ...].

Starts `kefu serve` as its own process, opens N `/webchat/stream` connections (raw sockets,
so the client stays light), then measures on the server process:
- CPU while every stream is open and nothing happens (IDLE seconds),
- resident memory before and with the streams open,
- delivery latency: M agent-style messages enqueued one at a time from this process (as
  another Kefu process would), from commit to the event arriving on its stream.
Runs: postgresql-notify, postgresql-poll, sqlite-poll, sqlite-redis. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import build_kefu
from bot.core.messages import OutboundMessage
from bot.core.storage.db import make_engine, transaction
from bot.outbox import store as outbox
from bot.server.stream_hub import build_hub
from bot.settings import DatabaseSettings, RedisSettings, WebchatSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
KEFU = ROOT / ".venv" / "bin" / "kefu"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
SECRET = "bench-secret-key-0123456789"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    run: str
    streams: int
    open_seconds: float
    idle_cpu: float
    rss_before: float
    rss_open: float
    p50_ms: float
    p99_ms: float
    delivered: int
    sent: int
    idle_looks: float  # outbox table scans per second while idle (PostgreSQL; -1 on SQLite)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Streams:
    """N open streams; records when each bench message arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, port: int, sender: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /webchat/stream?sender={sender} HTTP/1.1\r\nHost: bench\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        self.writers.append(writer)
        self.tasks.append(asyncio.create_task(self._read(reader)))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            if line.startswith(b"data: ") and b"bench-" in line:
                marker = line.split(b"bench-", 1)[1].split(b'"', 1)[0].decode()
                self.arrived[marker] = time.perf_counter()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            writer.close()


async def run_once(name: str, *, streams: int, idle: float, messages: int) -> Result:
    backend, mode = name.split("-", 1)
    tmp = Path(tempfile.mkdtemp(prefix="kefu-streams-"))
    schema = f"bench_streams_{secrets.token_hex(3)}" if backend == "postgresql" else None
    url = PG_URL if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    if schema:
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await engine.dispose()
    notify = {"notify": "auto", "poll": "poll", "redis": "redis"}[mode]
    base = load_settings(ROOT / "config.yml")
    settings = base.model_copy(update={
        "database_url": url,
        "database": DatabaseSettings(url=url, schema_name=schema),
        "redis": RedisSettings(url=REDIS_URL if mode == "redis" else None),
        "webchat": WebchatSettings(max_streams_per_ip=streams + 10, notify=notify),  # type: ignore[arg-type]
    })
    from pydantic import SecretStr
    settings = settings.model_copy(update={"secret_key": SecretStr(SECRET)})
    kefu = await build_kefu(settings, migrate=True)
    port = free_port()
    env = {**os.environ, "KEFU_CONFIG": str(ROOT / "config.yml"), "KEFU_DATABASE_URL": url,
           "KEFU_SECRET_KEY": SECRET,
           # The NLU model is trained once there and reused by later runs.
           "KEFU_APP__DATA_DIR": str(ROOT / ".kefu"),
           "KEFU_WEBCHAT__MAX_STREAMS_PER_IP": str(streams + 10),
           "KEFU_WEBCHAT__NOTIFY": notify}
    if schema:
        env["KEFU_DATABASE__SCHEMA_NAME"] = schema
    if mode == "redis":
        env["KEFU_REDIS_URL"] = REDIS_URL
    server = start_server(port, env, tmp)
    hub = build_hub(settings)  # this process publishes its wake-ups too (Redis)
    await hub.start()
    clients = Streams()
    try:
        for _ in range(1800):  # up to 3 minutes: the first run trains the NLU model
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"kefu serve exited; see {tmp / 'server.log'}") from None
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        rss_before = rss_mb(server.pid)
        started = time.perf_counter()
        for batch in range(0, streams, 50):
            await asyncio.gather(*(clients.open(port, f"visitor-{i}")
                                   for i in range(batch, min(streams, batch + 50))))
        opened = time.perf_counter() - started
        # Settle: a stream is open once its headers arrive, before its first look at the
        # outbox; wait until those looks are done (scans stop growing; 10 s on SQLite).
        await asyncio.sleep(3.0)
        for _ in range(60 if schema else 0):
            before = await outbox_scans(kefu, schema)
            await asyncio.sleep(1.0)
            if await outbox_scans(kefu, schema) == before:
                break
        if not schema:
            await asyncio.sleep(7.0)
        cpu0, scans0 = cpu_seconds(server.pid), await outbox_scans(kefu, schema)
        await asyncio.sleep(idle)
        idle_cpu = (cpu_seconds(server.pid) - cpu0) / idle * 100
        looks = (await outbox_scans(kefu, schema) - scans0) / idle
        rss_open = rss_mb(server.pid)
        committed: dict[str, float] = {}
        rng = random.Random(7)
        for n in range(messages):
            sender = f"visitor-{rng.randrange(streams)}"
            async with transaction(kefu.sessions) as session:
                await outbox.enqueue(session, OutboundMessage("web", sender, f"bench-{n}"),
                                     identity_id=None, now=kefu_now(), purpose="agent")
            committed[str(n)] = time.perf_counter()
            await asyncio.sleep(0.02)
        await asyncio.sleep(3.0)
        latencies = sorted((clients.arrived[k] - t) * 1000 for k, t in committed.items()
                           if k in clients.arrived)
        p50 = statistics.median(latencies) if latencies else float("nan")
        p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
        return Result(name, streams, opened, idle_cpu, rss_before, rss_open, p50, p99,
                      len(latencies), messages, looks)
    finally:
        await clients.close()
        await hub.stop()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        await kefu.aclose()
        if schema:
            engine = make_engine(url)
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await engine.dispose()


def start_server(port: int, env: dict[str, str], tmp: Path) -> subprocess.Popen[bytes]:
    """`kefu serve` in a process of its own, as operators run it."""
    with (tmp / "server.log").open("wb") as log:
        return subprocess.Popen([str(KEFU), "serve", "--port", str(port)], env=env, cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=log)


async def outbox_scans(kefu: object, schema: str | None) -> float:
    """Scans of the outbox table so far (PostgreSQL statistics; -1 on SQLite)."""
    if schema is None:
        return -1.0
    async with transaction(kefu.sessions) as session:  # type: ignore[attr-defined]
        found = await session.scalar(text(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE schemaname = :schema AND relname = 'outbox'"), {"schema": schema})
    return float(found or 0)


def kefu_now() -> object:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU sampling")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", default="postgresql-notify,postgresql-poll,sqlite-poll,"
                        "sqlite-redis")
    args = parser.parse_args()
    results = []
    for name in args.runs.split(","):
        result = await run_once(name, streams=args.streams, idle=args.idle,
                                messages=args.messages)
        print(f"{name}: {result}", file=sys.stderr)
        results.append(result)
    print("| run | open streams | opened in | server CPU, idle | outbox scans/s, idle | "
          "server RSS before → with streams | delivery p50 / p99 | delivered within 3 s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        scans = "n/a" if r.run.startswith("sqlite") else f"{r.idle_looks:.1f}"
        print(f"| {r.run} | {r.streams:,} | {r.open_seconds:.1f} s | {r.idle_cpu:.1f}% | "
              f"{scans} | {r.rss_before:.0f} → {r.rss_open:.0f} MB | "
              f"{r.p50_ms:.0f} / {r.p99_ms:.0f} ms | {r.delivered}/{r.sent} |")


if __name__ == "__main__":
    asyncio.run(main())
