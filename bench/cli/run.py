"""CLI start-up benchmark: python bench/cli/run.py [-n 7] [--repo PATH] [--label NAME].

Runs each command line N times as a fresh process (`python -m bot …` in the checkout at
--repo, default this one) and reports the median wall time, the median CPU time (user + sys
of the child) and how many modules were imported. On a shared machine wall time swings with
the load; CPU time and the module count do not, so they are the figures to compare.
Prints a Markdown table for the README; --repo points at another checkout (e.g. a worktree of
an older commit) to measure before and after with the same interpreter.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (
    ("kefu --help", ["--help"]),
    ("kefu report --help", ["report", "--help"]),
    ("kefu db --help", ["db", "--help"]),
    ("kefu demo --help", ["demo", "--help"]),
    ("kefu members --help", ["members", "--help"]),
    ("kefu serve --help", ["serve", "--help"]),
    ("kefu jobs --help", ["jobs", "--help"]),
    ("kefu nlu --help", ["nlu", "--help"]),
    ("kefu campaign --help", ["campaign", "--help"]),
)


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(repo: Path, args: list[str]) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    before_cpu, start = child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", *args], cwd=repo, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, child_cpu() - before_cpu


def modules(repo: Path, args: list[str]) -> int:
    """How many modules the command imports (counted with -X importtime)."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", *args], cwd=repo,
                            env=env, check=True, capture_output=True, text=True)
    return sum(1 for line in result.stderr.splitlines() if line.startswith("import time:")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=7)
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--label", default="")
    options = parser.parse_args()
    print(f"| command {options.label} | wall p50 | CPU p50 | modules imported |")
    print("|---|---:|---:|---:|")
    for name, args in COMMANDS:
        once(options.repo, args)  # warm the file cache and bytecode
        runs = [once(options.repo, args) for _ in range(options.n)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"| `{name}` | {wall:.2f} s | {cpu:.2f} s | {modules(options.repo, args)} |",
              flush=True)


if __name__ == "__main__":
    main()
