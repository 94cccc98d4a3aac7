"""Whole turns over HTTP: python bench/turns/run.py [--runs sqlite,postgresql]
[--connections 1,16,64] [--seconds 10] [--rasa-url http://127.0.0.1:5005].

Starts `kefu serve --demo` as its own process (rate limits lifted through the environment),
first on SQLite, then on PostgreSQL (a schema of its own, dropped afterwards), and drives its
REST webhook (`POST /webhooks/rest/webhook`, Rasa's REST channel) from this process with a
light asyncio HTTP/1.1 client (raw keep-alive sockets, so the client costs little of the
machine's CPU): a rotating mix of member questions in three languages (balance, tier, FAQ, free
text) from the demo members and from unknown senders, at 1, 16 and 64 connections. Reports
requests/s, p50/p99 latency, errors (non-200 answers and answers slower than 5 s, WeChat's
passive-reply window), SQL statements per turn (from /metrics: kefu_db_statements_total over
kefu_turn_seconds_count, summed over the workers) and the server's resident memory after the
run; then `/model/parse` p50 over HTTP at one connection. With --rasa-url the same client
drives Rasa's REST channel and /model/parse in the same run. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
KEFU = ROOT / ".venv" / "bin" / "kefu"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TIMEOUT = 5.0  # WeChat's passive-reply window: a slower answer counts as an error
GUESTS = 50

# (sender kind, text): demo members ask about their account, unknown senders ask anything.
QUESTIONS = (
    ("member", "我有多少积分"),
    ("member", "我现在是什么等级"),
    ("member", "How many points do I have?"),
    ("guest", "退货政策是什么"),
    ("member", "我的積分還有多少"),
    ("guest", "你们几点开门"),
    ("member", "what tier am I"),
    ("guest", "What is your return policy?"),
    ("member", "積分什麼時候過期"),
    ("guest", "上海有门店吗"),
    ("guest", "你好"),
    ("member", "how do I reach the next tier"),
    ("guest", "今天天气怎么样"),
    ("member", "积分明细"),
    ("guest", "請問退貨要帶什麼"),
    ("guest", "hello, are you a bot?"),
)
MEMBERS = ("demo-silver", "demo-gold", "demo-diamond")
PARSE_TEXTS = ("我有多少积分", "what tier am I", "積分什麼時候過期", "退货政策是什么")


@dataclass
class Level:
    server: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    statements: float | None
    rss_mb: str
    cpu_ms: float | None  # server CPU (all its processes) per answered request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- a small HTTP/1.1 keep-alive client --------------------------------------------------


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """Returns the body of a 200 answer; raises on anything else."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        status = int((await self.reader.readline()).split()[1])
        length, chunked, closing = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                closing = True
        if chunked:
            data = b""
            while (size := int((await self.reader.readline()).strip(), 16)):
                data += await self.reader.readexactly(size + 2)
            await self.reader.readline()
        else:
            data = await self.reader.readexactly(length)
        if closing:
            await self.close()
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {data[:200]!r}")
        return data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def messages(run_id: str) -> itertools.cycle[bytes]:
    bodies = []
    for index, (kind, text) in enumerate(QUESTIONS * GUESTS):
        sender = (MEMBERS[index % len(MEMBERS)] if kind == "member"
                  else f"bench-{run_id}-guest-{index % GUESTS:03d}")
        bodies.append(json.dumps({"sender": sender, "message": text}).encode())
    return itertools.cycle(bodies)


async def drive(url: str, path: str, connections: int, seconds: float,
                bodies: itertools.cycle[bytes]) -> tuple[int, list[float], int]:
    """Sends for ``seconds`` over ``connections`` keep-alive connections: (answered,
    latencies of the good answers, errors)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        connection = Connection(host, port)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                await asyncio.wait_for(connection.request("POST", path, next(bodies)), TIMEOUT)
            except (OSError, RuntimeError, TimeoutError, asyncio.IncompleteReadError,
                    ValueError, IndexError):
                errors += 1
                await connection.close()
                connection = Connection(host, port)
                continue
            latencies.append(time.perf_counter() - started)
        await connection.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return len(latencies) + errors, latencies, errors


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the server -------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (the workers of `kefu serve --workers N`)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(entry.name))
    return pids


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of ``pid`` and its children (the workers)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def server_rss(pid: int) -> str:
    """The serving processes' RSS: one figure, or one per worker."""
    tree = process_tree(pid)
    workers = tree[1:] or tree
    return " + ".join(f"{rss_mb(p):.0f}" for p in workers)


STATEMENTS = re.compile(r"^kefu_db_statements_total ([0-9.e+]+)$", re.M)
TURNS = re.compile(r'^kefu_turn_seconds_count\{channel="web"\} ([0-9.e+]+)$', re.M)
WORKER = re.compile(r'^kefu_worker_info\{pid="(\d+)"', re.M)


async def counters(url: str, workers: int) -> tuple[float, float] | None:
    """Statements and turns so far, summed over the workers (each scrape reaches one)."""
    seen: dict[str, tuple[float, float]] = {}
    parts = urlsplit(url)
    for _ in range(200):
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            text = (await connection.request("GET", "/metrics")).decode()
        finally:
            await connection.close()
        worker = WORKER.search(text)
        statements, turns = STATEMENTS.search(text), TURNS.search(text)
        if statements is None:
            return None  # a Kefu from before the statement counter
        key = worker.group(1) if worker else "only"
        seen[key] = (float(statements.group(1)), float(turns.group(1)) if turns else 0.0)
        if len(seen) >= workers:
            break
    return sum(s for s, _ in seen.values()), sum(t for _, t in seen.values())


def server_env(backend: str, data: Path, schema: str | None, code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEFU_", "TELEGRAM_", "WECHAT_"))}
    env.update(KEFU_CONFIG=str(code / "config.yml"), KEFU_SECRET_KEY="bench-" + "t" * 26,
               KEFU_APP__DATA_DIR=str(data), KEFU_NLU__MODEL_DIR=str(ROOT / ".kefu/nlu-model"),
               KEFU_KNOWLEDGE__FILE=str(code / "knowledge.yml"),
               KEFU_CHANNELS__TELEGRAM__ENABLED="false", PYTHONPATH=str(code))
    # Rate limits lifted for the run: one client address sends everything.
    for rule in ("WEB_PER_IP", "WEB_PER_SENDER", "WEBHOOK_PER_IP", "PARSE_PER_IP"):
        env[f"KEFU_SECURITY__{rule}__REQUESTS"] = "1000000"
    if backend == "postgresql":
        env.update(KEFU_DATABASE_URL=PG_URL, KEFU_DATABASE__SCHEMA_NAME=schema or "")
    else:
        env["KEFU_DATABASE_URL"] = f"sqlite+aiosqlite:///{data / 'kefu.db'}"
    return env


async def pg(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kefu serve exited:\n{tail(log)}")
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            await connection.request("GET", "/healthz")
            return
        except (OSError, RuntimeError, asyncio.IncompleteReadError, IndexError):
            await asyncio.sleep(0.3)
        finally:
            await connection.close()
    raise SystemExit(f"kefu serve did not become healthy:\n{tail(log)}")


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def start_server(command: list[str], env: dict[str, str], cwd: Path,
                 log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=sink)


def upgrade(env: dict[str, str], cwd: Path) -> None:
    subprocess.run([str(KEFU), "db", "upgrade"], env=env, cwd=cwd, check=True,
                   capture_output=True)


async def parse_p50(url: str, requests: int) -> float:
    parts = urlsplit(url)
    connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
    latencies = []
    try:
        for index in range(requests):
            body = json.dumps({"text": PARSE_TEXTS[index % len(PARSE_TEXTS)]}).encode()
            started = time.perf_counter()
            await connection.request("POST", "/model/parse", body)
            latencies.append(time.perf_counter() - started)
    finally:
        await connection.close()
    return statistics.median(latencies[requests // 10:]) * 1000  # after a warm-up tenth


async def measure(server: str, url: str, path: str, levels: list[int], seconds: float,
                  run_id: str, *, workers: int = 1, pid: int | None = None) -> list[Level]:
    bodies = messages(run_id)
    await drive(url, path, 4, 2.0, bodies)  # warm-up: every guest known, caches filled
    results = []
    for connections in levels:
        before = await counters(url, workers) if pid else None
        cpu_before = cpu_seconds(pid) if pid else 0.0
        started = time.perf_counter()
        answered, latencies, errors = await drive(url, path, connections, seconds, bodies)
        elapsed = time.perf_counter() - started
        cpu = (cpu_seconds(pid) - cpu_before) * 1000 / max(1, answered) if pid else None
        statements = None
        after = await counters(url, workers) if before is not None else None
        if before is not None and after is not None:
            turns = after[1] - before[1]
            statements = (after[0] - before[0]) / turns if turns else None
        results.append(Level(server, connections, len(latencies) / elapsed,
                             percentile(latencies, 0.5) * 1000,
                             percentile(latencies, 0.99) * 1000, errors, statements,
                             server_rss(pid) if pid else "–", cpu))
        print(f"  {server} {connections:>3} connections: {answered} requests, "
              f"{len(latencies) / elapsed:.0f}/s, p50 {results[-1].p50_ms:.1f} ms, "
              f"p99 {results[-1].p99_ms:.1f} ms, {errors} errors", file=sys.stderr)
    return results


async def run_kefu(backend: str, args: argparse.Namespace) -> tuple[list[Level], float]:
    schema = f"bench_turns_{secrets.token_hex(3)}" if backend == "postgresql" else None
    with tempfile.TemporaryDirectory(prefix="kefu-turns-") as tmp:
        data = Path(tmp)
        code = args.checkout or ROOT
        env = server_env(backend, data, schema, code)
        if schema:
            await pg(f'CREATE SCHEMA "{schema}"')
            upgrade(env, data)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # `python -m bot` from the checkout measured (PYTHONPATH puts it first).
        command = [sys.executable, "-m", "bot", "serve", "--demo", "--port", str(port)]
        workers = 1 if backend == "sqlite" else (args.workers or os.cpu_count() or 1)
        if workers > 1:
            command += ["--workers", str(workers)]
        log = data / "serve.log"
        process = start_server(command, env, data, log)
        try:
            await wait_healthy(url, process, log)
            name = f"Kefu, {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}"
            if workers > 1:
                name += f" ({workers} workers)"
            levels = await measure(name, url, "/webhooks/rest/webhook", args.levels,
                                   args.seconds, secrets.token_hex(2), workers=workers,
                                   pid=process.pid)
            parse = await parse_p50(url, args.parse_requests)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
            if schema:
                await pg(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return levels, parse


def table(levels: list[Level], parses: dict[str, float]) -> str:
    lines = ["| server | connections | req/s | p50 ms | p99 ms | errors | statements/turn "
             "| server CPU ms/request | server RSS MB |", "|---|---|---|---|---|---|---|---|---|"]
    for level in levels:
        statements = f"{level.statements:.1f}" if level.statements is not None else "–"
        cpu = f"{level.cpu_ms:.1f}" if level.cpu_ms is not None else "–"
        lines.append(f"| {level.server} | {level.connections} | {level.rps:.0f} | "
                     f"{level.p50_ms:.1f} | {level.p99_ms:.0f} | {level.errors} | "
                     f"{statements} | {cpu} | {level.rss_mb} |")
    lines += ["", "| server | `/model/parse` p50 ms (1 connection) |", "|---|---|"]
    lines += [f"| {server} | {p50:.2f} |" for server, p50 in parses.items()]
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="sqlite,postgresql")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level")
    parser.add_argument("--workers", type=int, default=None,
                        help="kefu serve workers on PostgreSQL (default: the CPU count)")
    parser.add_argument("--parse-requests", type=int, default=2000)
    parser.add_argument("--checkout", default=None,
                        help="measure the Kefu in this directory (e.g. an older commit "
                             "unpacked with git archive) instead of this one")
    parser.add_argument("--rasa-url", default=None,
                        help="a Rasa server with the REST channel, measured the same way")
    args = parser.parse_args()
    args.levels = [int(n) for n in args.connections.split(",")]
    args.checkout = Path(args.checkout).resolve() if args.checkout else None
    return args


async def main(args: argparse.Namespace) -> None:
    levels: list[Level] = []
    parses: dict[str, float] = {}
    for backend in args.runs.split(","):
        results, parse = await run_kefu(backend.strip(), args)
        levels += results
        parses[results[0].server] = parse
    if args.rasa_url:
        url = args.rasa_url.rstrip("/")
        levels += await measure("Rasa 3.6 REST", url, "/webhooks/rest/webhook", args.levels,
                                args.seconds, secrets.token_hex(2))
        parses["Rasa 3.6"] = await parse_p50(url, args.parse_requests)
    load = os.getloadavg()
    print(table(levels, parses))
    print(f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} CPUs); {args.seconds:.0f} s per level.")


if __name__ == "__main__":
    try:
        import uvloop  # the client's own overhead stays small

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(arguments()))
