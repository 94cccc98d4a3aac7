"""Soak: python bench/soak/run.py [--minutes 10] [--senders 200] [--think 10] [--sample 10].

Starts `kefu serve` as its own process on PostgreSQL (a schema of its own, dropped at the
end), after `kefu db upgrade` and `kefu demo seed` through the CLI. Half the senders are web
chat senders bound to the demo members, half are unknown; each asks in zh-Hans, zh-Hant or
English. Every sender is a closed loop: one `POST /webhooks/rest/webhook`, wait for the
answer, read it and type the next one for --think seconds on average (0.5 to 1.5 times
that, as people chat), the next message. A small --think (or 0) makes it a stress test: the
offered load then exceeds what the server can do, it is always saturated, and the latency is
all queueing. Bounded: exactly --senders connections, a timeout per request, a fixed
duration.

Reports throughput, latency p50/p99, errors (non-200, timeouts, broken connections, an
answer that is not a JSON list, or an empty one), and the server's resident memory sampled
every --sample seconds: first, last, max, and the slope after the first minute (warm-up) and
over the second half of the run.
The rate limits per IP and per sender are raised for the run (every sender is on loopback,
and they are tested elsewhere); nothing else is changed from config.yml.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
KEFU = ROOT / ".venv" / "bin" / "kefu"
PG_URL = os.environ.get("KEFU_BENCH_POSTGRES_URL",
                        "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = "soak-secret-key-0123456789abcdef"
TICKS = os.sysconf("SC_CLK_TCK")
TIMEOUT = 30.0
# What customers ask most, in the three languages (no binding or unsubscribing: the soak
# must not change who is who while it runs).
MESSAGES = {
    "zh-Hans": ("你好", "我还有多少积分", "我是什么等级", "积分什么时候过期", "门店几点开门",
                "金卡有什么权益", "怎么升级到钻石卡", "最近的积分记录", "谢谢"),
    "zh-Hant": ("你好", "我還有多少積分", "我是什麼等級", "積分什麼時候過期", "門店幾點開門",
                "金卡有什麼權益", "怎麼升級", "謝謝"),
    "en": ("hello", "how many points do I have", "what is my tier",
           "when do my points expire", "what are the store hours",
           "what does gold membership give me", "thanks"),
}
DEMO_MEMBER_NOS = ("M000001", "M000002", "M000003", "M000004", "M000005", "M000006")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    replies: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread * 60


class Connection:
    """One keep-alive HTTP/1.1 connection: a light client leaves the cores to the server.
    Like a browser, it opens a new one after an idle pause longer than the server keeps an
    idle connection (uvicorn: 5 s)."""

    IDLE_SECONDS = 4.0

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is not None and time.monotonic() - self.used > self.IDLE_SECONDS:
            await self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: "
                          f"application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                          + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:] if line)}
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        self.used = time.monotonic()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def sender(port: int, name: str, language: str, stop: float, tally: Tally,
                 rng: random.Random, think: float) -> None:
    connection = Connection(port)
    try:
        # Senders start spread over one think time, not all in the same millisecond.
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < stop:
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
            text = rng.choice(MESSAGES[language])
            body = json.dumps({"sender": name, "message": text}, ensure_ascii=False).encode()
            started = time.perf_counter()
            try:
                status, payload = await asyncio.wait_for(
                    connection.post("/webhooks/rest/webhook", body), TIMEOUT)
            except TimeoutError:
                tally.error("timeout")
                await connection.close()
                continue
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(exc.__class__.__name__)
                await connection.close()
                await asyncio.sleep(0.1)
                continue
            tally.latencies.append(time.perf_counter() - started)
            if status != 200:
                tally.error(f"HTTP {status}")
                continue
            try:
                replies = json.loads(payload)
            except ValueError:
                tally.error("not JSON")
                continue
            if not isinstance(replies, list) or not replies:
                tally.error("no reply")
                continue
            tally.replies += len(replies)
    finally:
        await connection.close()


def kefu(args: list[str], env: dict[str, str], cwd: Path) -> None:
    subprocess.run([str(KEFU), *args], env=env, cwd=cwd, check=True, timeout=900,
                   stdout=subprocess.DEVNULL)


def start_server(port: int, env: dict[str, str], tmp: Path) -> subprocess.Popen[bytes]:
    """`kefu serve` in a process of its own, as operators run it."""
    with (tmp / "server.log").open("wb") as log:
        return subprocess.Popen([str(KEFU), "serve", "--port", str(port)], env=env, cwd=tmp,
                                stdout=log, stderr=log)


async def bind_senders(env: dict[str, str], names: list[str]) -> None:
    """Binds the member half of the senders to the demo members, as a bind would."""
    from bot.app import build_kefu
    from bot.core.storage import members as member_store
    from bot.core.storage.db import transaction
    from bot.settings import load_settings

    os.environ.update(env)
    settings = load_settings(ROOT / "config.yml")
    app = await build_kefu(settings)
    try:
        now = datetime.now(UTC)
        async with transaction(app.sessions) as session:
            members = [await member_store.find_member_by_no(session, member_no=no)
                       for no in DEMO_MEMBER_NOS]
            for index, name in enumerate(names):
                member = members[index % len(members)]
                assert member is not None, "kefu demo seed did not create the demo members"
                identity = await member_store.ensure_identity(session, channel="web",
                                                              external_id=name, now=now)
                await member_store.bind_identity(session, identity=identity, member=member,
                                                 now=now)
    finally:
        await app.aclose()


async def drop_schema(schema: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


async def soak(minutes: float, senders: int, sample: float, think: float
               ) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="kefu-soak-"))
    schema = f"bench_soak_{secrets.token_hex(4)}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "TELEGRAM_",
                                                                     "WECHAT_"))}
    env.update({
        "KEFU_CONFIG": str(ROOT / "config.yml"), "KEFU_DATABASE_URL": PG_URL,
        "KEFU_DATABASE__SCHEMA_NAME": schema, "KEFU_SECRET_KEY": SECRET,
        "KEFU_APP__DATA_DIR": str(tmp / "data"),
        # The NLU model is trained once there and reused by later runs.
        "KEFU_NLU__MODEL_DIR": str(ROOT / ".kefu" / "nlu-model"),
        "KEFU_CHANNELS__TELEGRAM__ENABLED": "false",
        "KEFU_SECURITY__WEB_PER_IP__REQUESTS": "1000000",
        "KEFU_SECURITY__WEB_PER_SENDER__REQUESTS": "1000000",
    })
    server: subprocess.Popen[bytes] | None = None
    try:
        kefu(["db", "upgrade"], env, tmp)
        kefu(["demo", "seed"], env, tmp)
        members = [f"soak-member-{i:03d}" for i in range(senders // 2)]
        unknown = [f"soak-visitor-{i:03d}-{secrets.token_hex(3)}"
                   for i in range(senders - len(members))]
        await bind_senders(env, members)
        server = start_server(port, env, tmp)
        for _ in range(3000):  # the first run trains the NLU model
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"kefu serve exited; see {tmp / 'server.log'}") from None
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        languages = list(MESSAGES)
        tally = Tally()
        load_before = os.getloadavg()
        started = time.monotonic()
        stop = started + minutes * 60
        cpu0 = cpu_seconds(server.pid)
        samples: list[tuple[float, float]] = [(0.0, rss_mb(server.pid))]
        tasks = [asyncio.create_task(sender(port, name, languages[i % 3], stop, tally,
                                            random.Random(i), think))
                 for i, name in enumerate(members + unknown)]
        while time.monotonic() < stop:
            await asyncio.sleep(min(sample, max(0.0, stop - time.monotonic())))
            samples.append((time.monotonic() - started, rss_mb(server.pid)))
            done = len(tally.latencies)
            print(f"  {samples[-1][0]:5.0f} s  {done} requests  {sum(tally.errors.values())} "
                  f"errors  RSS {samples[-1][1]:.0f} MB", file=sys.stderr, flush=True)
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        cpu = (cpu_seconds(server.pid) - cpu0) / elapsed * 100
        load_after = os.getloadavg()
        latencies = sorted(tally.latencies)
        rss = [s[1] for s in samples]
        steady = [s for s in samples if s[0] >= 60] or samples
        return {
            "minutes": minutes, "senders": senders, "think": think,
            "requests": len(latencies),
            "throughput": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
            "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
            if latencies else float("nan"),
            "errors": sum(tally.errors.values()), "error_kinds": tally.errors,
            "replies": tally.replies, "server_cpu_percent": cpu,
            "rss_first": rss[0], "rss_last": rss[-1], "rss_max": max(rss),
            "rss_slope_mb_per_min": slope_per_minute(steady),
            # Warm-up (caches, the allocator) bends the curve early; a leak keeps its slope.
            "rss_slope_second_half": slope_per_minute(
                [s for s in samples if s[0] >= elapsed / 2] or samples),
            "rss_samples": [round(r) for r in rss],
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
            "server_log": str(tmp / "server.log"),
        }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        await drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--think", type=float, default=10.0,
                        help="mean seconds a sender waits after an answer (0: none)")
    parser.add_argument("--sample", type=float, default=10.0,
                        help="seconds between memory samples")
    args = parser.parse_args()
    result = asyncio.run(soak(args.minutes, args.senders, args.sample, args.think))
    print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
    print("| senders | think | minutes | requests | throughput | p50 / p99 | errors | "
          "server CPU | server RSS first → last (max) | RSS slope after 1 min / 2nd half | "
          "load average |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {result['senders']} | {result['think']:g} s | {result['minutes']:g} | "
          f"{result['requests']:,} | "
          f"{result['throughput']:.1f}/s | {result['p50_ms']:.0f} / {result['p99_ms']:.0f} ms "
          f"| {result['errors']} | {result['server_cpu_percent']:.0f}% | "
          f"{result['rss_first']:.0f} → {result['rss_last']:.0f} ({result['rss_max']:.0f}) MB | "
          f"{result['rss_slope_mb_per_min']:+.2f} / {result['rss_slope_second_half']:+.2f} "
          "MB/min | "
          f"{result['load_before'][0]} → {result['load_after'][0]} |")


if __name__ == "__main__":
    main()
