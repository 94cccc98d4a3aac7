"""Kefu beside Rasa 3.6, measured in one run; prints a Markdown table (Kefu, Rasa, Rasa ÷ Kefu).

Usage (from the repository root, with Kefu's venv; `bench/rasa/setup` first):
  .venv/bin/python bench/rasa/run.py [--requests 400] [--kefu-port P] [--rasa-port P] [--json F]
                                     [--kefu-postgres [URL]]   # Kefu on PostgreSQL, not SQLite
  .venv/bin/python bench/rasa/run.py train                  # train Rasa (cached by content hash)
  .venv/bin/python bench/rasa/run.py serve --port 5005 [--token T]   # Rasa's REST server alone

The run starts `kefu serve --demo` and `rasa run --enable-api` (REST channel, --auth-token) on
loopback, then with one asyncio client measures: held-out accuracy and macro-F1 overall and per
language through each server's POST /model/parse; /model/parse latency and throughput at 1 and
16 connections; POST /webhooks/rest/webhook at 1 and 16 connections; training time, start-up
time and server memory. Rasa is trained once per content hash of its generated project
(bench/rasa/work/, git-ignored); Kefu's embedded model is trained fresh in the run.
Kefu's rate limits are lifted for the run (Rasa has none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

from client import Load, run_load, summarise  # noqa: E402
from model import ensure_model, rasa_command, rasa_env, start_rasa  # noqa: E402
from report import table  # noqa: E402
from scores import intent_scores, predicted_intent  # noqa: E402

HELDOUT = ROOT / "nlu" / "heldout"
KEFU = Path(sys.executable).with_name("kefu")
HOST = "127.0.0.1"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SENDERS = 256  # distinct senders, so no two concurrent requests share a conversation lock


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a server may fork helpers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of the process tree now, and the peak of the largest process."""
    now = peak = 0.0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                now += int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return {"rss_mb": now, "peak_mb": peak}


def log_tail(log: Path, lines: int = 15) -> str:
    """The end of a server's log (it lives in a temporary folder removed on exit)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


async def wait_ready(port: int, path: str, server: subprocess.Popen[bytes], log: Path,
                     deadline_s: float = 600.0) -> float:
    """Seconds from now until the server answers one parse with 200."""
    started = time.perf_counter()
    body = json.dumps({"text": "你好"}).encode()
    while time.perf_counter() - started < deadline_s:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}; the end of its log:\n"
                     f"{log_tail(log)}")
        load = await run_load(HOST, port, [(path, body)], connections=1, seconds_each=60)
        if load.answers[0].status == 200:
            return time.perf_counter() - started
        await asyncio.sleep(0.5)
    sys.exit(f"no answer from port {port} within {deadline_s:.0f} s; the end of its log:\n"
             f"{log_tail(log)}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def kefu_folder(folder: Path) -> Path:
    """A folder of Kefu's own for the run: its database, model and secret land there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "nlu", "knowledge.yml"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def kefu_env(token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEFU_", "WECHAT_", "TELEGRAM_"))}
    lifted = "1000000"  # Rasa has no rate limits; Kefu's are lifted for the run
    env.update({"KEFU_PARSE_TOKEN": token,
                "KEFU_SECURITY__WEB_PER_IP__REQUESTS": lifted,
                "KEFU_SECURITY__WEB_PER_SENDER__REQUESTS": lifted,
                "KEFU_SECURITY__PARSE_PER_IP__REQUESTS": lifted,
                "KEFU_SECURITY__PARSE_PER_TOKEN__REQUESTS": lifted})
    return env


async def postgres_schema(url: str, schema: str, *, create: bool) -> None:
    """A schema of the run's own on a shared PostgreSQL (other runs may use the database)."""
    from sqlalchemy import text

    from bot.core.storage.db import make_engine

    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"' if create
                                      else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


def kefu_db_upgrade(folder: Path, env: dict[str, str]) -> None:
    """`kefu serve` migrates SQLite itself; PostgreSQL is upgraded by the operator."""
    subprocess.run([str(KEFU), "db", "upgrade"], cwd=folder, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def kefu_train_seconds(folder: Path, env: dict[str, str]) -> float:
    """`kefu nlu train` as a process (start-up included, as for `rasa train`)."""
    started = time.perf_counter()
    with (folder / "train.log").open("wb") as log:
        subprocess.run([str(KEFU), "nlu", "train"], cwd=folder, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started


def start_kefu(port: int, folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`kefu serve --demo` as its own process, as operators run it."""
    with (folder / "serve.log").open("wb") as log:
        return subprocess.Popen([str(KEFU), "serve", "--demo", "--host", HOST, "--port",
                                 str(port)], cwd=folder, env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def parse_requests(texts: Sequence[str], token: str) -> list[tuple[str, bytes]]:
    path = f"/model/parse?token={token}"
    return [(path, json.dumps({"text": t}, ensure_ascii=False).encode()) for t in texts]


def webhook_requests(texts: Sequence[str], count: int) -> list[tuple[str, bytes]]:
    return [("/webhooks/rest/webhook",
             json.dumps({"sender": f"bench-{i % SENDERS}", "message": texts[i % len(texts)]},
                        ensure_ascii=False).encode()) for i in range(count)]


async def measure_server(name: str, port: int, server: subprocess.Popen[bytes], log: Path,
                         token: str, texts: Sequence[str], gold: Sequence[str],
                         languages: Sequence[str], requests: int) -> dict[str, Any]:
    parse_path = f"/model/parse?token={token}"
    result: dict[str, Any] = {"startup_s": await wait_ready(port, parse_path, server, log)}
    print(f"{name}: ready after {result['startup_s']:.1f} s", file=sys.stderr)
    parses = parse_requests(texts, token)
    await run_load(HOST, port, parses[:50], connections=1)  # warm-up
    await run_load(HOST, port, webhook_requests(texts[50:], 50), connections=1)
    sequential: Load = await run_load(HOST, port, parses, connections=1)
    result["heldout"] = intent_scores(
        gold, [predicted_intent(a.body) for a in sequential.answers], languages)
    result["parse_1"] = summarise(sequential)
    result["parse_16"] = summarise(await run_load(HOST, port, parses, connections=16))
    print(f"{name}: parse done", file=sys.stderr)
    for connections in (1, 16):
        load = await run_load(HOST, port, webhook_requests(texts, requests),
                              connections=connections)
        summary = summarise(load)
        summary["empty_replies"] = float(sum(1 for a in load.answers
                                             if a.status == 200 and a.body.strip() == b"[]"))
        result[f"webhook_{connections}"] = summary
    print(f"{name}: webhook done", file=sys.stderr)
    result["memory"] = memory_mb(server.pid)
    return result


def heldout() -> tuple[list[str], list[str], list[str]]:
    from nlu.evaluation import example_language
    from nlu.loader import load_nlu_dir

    examples = load_nlu_dir(HELDOUT).examples
    return ([e.text for e in examples], [e.intent for e in examples],
            [example_language(e) for e in examples])


async def compare(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    folder, model_file, rasa_train_s = ensure_model()
    texts, gold, languages = heldout()
    token = secrets.token_urlsafe(18)
    kefu_port = args.kefu_port or free_port()
    rasa_port = args.rasa_port or free_port()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kefu-vs-rasa-") as scratch:
        work = Path(scratch)
        folder_k, env = kefu_folder(work / "kefu"), kefu_env(token)
        schema = f"bench_rasa_{secrets.token_hex(4)}" if args.kefu_postgres else None
        server = None
        try:
            if schema:
                await postgres_schema(args.kefu_postgres, schema, create=True)
                env.update({"KEFU_DATABASE_URL": args.kefu_postgres,
                            "KEFU_DATABASE__SCHEMA_NAME": schema})
                kefu_db_upgrade(folder_k, env)
            kefu_train_s = kefu_train_seconds(folder_k, env)
            # One server at a time, so neither competes with the other for the cores.
            server = start_kefu(kefu_port, folder_k, env)
            results["kefu"] = await measure_server(
                "kefu", kefu_port, server, folder_k / "serve.log", token, texts, gold,
                languages, args.requests)
        finally:
            if server is not None:
                stop(server)
            if schema:
                await postgres_schema(args.kefu_postgres, schema, create=False)
        results["kefu"]["train_s"] = kefu_train_s
        log = work / "rasa.log"
        server = start_rasa(folder, model_file, port=rasa_port, token=token, log=log)
        try:
            results["rasa"] = await measure_server("rasa", rasa_port, server, log, token, texts,
                                                   gold, languages, args.requests)
        finally:
            stop(server)
        results["rasa"]["train_s"] = rasa_train_s
    results["load_average"] = {"before": load_before, "after": os.getloadavg()}
    results["model"] = model_file.name
    results["kefu_database"] = "PostgreSQL" if args.kefu_postgres else "SQLite"
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--requests", type=int, default=400,
                        help="webhook requests per connection count (default 400)")
    parser.add_argument("--kefu-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--rasa-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--kefu-postgres", nargs="?", const=PG_URL, metavar="URL",
                        help=f"run Kefu on PostgreSQL (a schema of its own) instead of "
                             f"SQLite; URL defaults to {PG_URL}")
    sub.add_parser("train", help="train Rasa on the generated project (cached by hash)")
    serve = sub.add_parser("serve", help="train if needed, then run Rasa's REST server")
    serve.add_argument("--host", default=HOST)
    serve.add_argument("--port", type=int, default=5005)
    serve.add_argument("--token", help="--auth-token for Rasa's API (/model/parse)")
    args = parser.parse_args(argv)
    if args.command == "train":
        _, model_file, seconds = ensure_model()
        print(f"{model_file} (trained in {seconds:.0f} s)")
        return
    if args.command == "serve":
        folder, model_file, _ = ensure_model()
        command = rasa_command(model_file, host=args.host, port=args.port, token=args.token)
        print(f"Rasa on http://{args.host}:{args.port} (REST channel: /webhooks/rest/webhook)",
              file=sys.stderr, flush=True)
        os.chdir(folder)
        os.execve(command[0], command, rasa_env())  # Rasa takes this process's place
    results = asyncio.run(compare(args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    before, after = results["load_average"]["before"], results["load_average"]["after"]
    print(table(results["kefu"], results["rasa"]))
    print(f"\nload average (1/5/15 min) before {before[0]:.1f}/{before[1]:.1f}/{before[2]:.1f}, "
          f"after {after[0]:.1f}/{after[1]:.1f}/{after[2]:.1f}; "
          f"Kefu on {results['kefu_database']}; Rasa model {results['model']}; "
          f"{len(heldout()[0])} held-out sentences, {args.requests} webhook requests per row")


if __name__ == "__main__":
    main()
