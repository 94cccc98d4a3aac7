"""Every command and curl example in README.md, replayed as written.

The examples run in a scratch directory laid out like a fresh clone (`.venv`, `config.yml`,
`nlu/`, `knowledge.yml`), against `kefu serve --demo` started there as a process on a free
port; `localhost:8000` in an example becomes that port. Output printed in the README is
compared line by line, in order, with numbers and "…" free to differ (balances and dates move with the
day the demo is seeded). Examples that cannot run inside a test say why below.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
KEFU = ROOT / ".venv" / "bin" / "kefu"
# Examples not replayed, and why.
NOT_REPLAYED = {
    "./scripts/setup": "installs Kefu into .venv: the environment running this test is that "
                       "install; the `kefu serve --demo` of the same line is the server below",
    "./scripts/test": "runs the whole test suite, this test included",
    "KEFU_LOGS__FORMAT=json .venv/bin/kefu serve": "a server in the foreground; its JSON lines "
                                                   "are tested in tests/bot/test_serve_observability.py",
}
# Sections whose examples share shell state (variables, a function) and are replayed as one
# script by a test of their own.
NOT_REPLAYED_SECTIONS = {
    "### Purchases from tills and shops": "replayed as one script, as written, by "
                                          "tests/bot/server/test_readme_purchases.py",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not KEFU.exists(), reason="needs the .venv of scripts/setup"),
]


@dataclass(frozen=True)
class Example:
    command: str
    expected: tuple[str, ...]  # output lines shown in the README ("" when none)
    typed: tuple[str, ...]  # what a transcript shows the customer typing ("you> …")
    line: int
    section: str = ""


def examples(text: str) -> list[Example]:
    """Commands of ```bash and ```console blocks (`$ ` lines in the latter), with the output
    lines that follow each one."""
    found: list[Example] = []
    block: str | None = None
    current: list[str] | None = None
    start = 0
    lines = text.splitlines()
    section = ""
    for number, line in enumerate(lines, start=1):
        if block is None and line.startswith("#"):
            section = line.strip()
        fence = re.match(r"^```(\w*)", line)
        if fence:
            if block is not None:
                block = None
                continue
            block = fence.group(1)
            continue
        if block == "bash" and line.strip():
            found.append(Example(line.strip(), (), (), number, section))
        elif block == "console":
            if line.startswith("$ "):
                current = []
                start = number
                found.append(Example(line[2:].strip(), (), (), number, section))
            elif found and found[-1].line == start and current is not None:
                current.append(line)
                output = tuple(current)
                typed = tuple(m.group(1) for m in (re.match(r"^you> (.*)$", o) for o in output)
                              if m)
                found[-1] = Example(found[-1].command, output, typed, start, section)
    return found


def shape(expected: str) -> re.Pattern[str]:
    """A README output line as a pattern: digits and '…' may differ."""
    parts = []
    for piece in re.split(r"(\d[\d,.]*|…)", expected.strip()):
        if piece == "…":
            parts.append(".*")
        elif piece and piece[0].isdigit():
            parts.append(r"\d[\d,.]*")
        else:
            parts.append(re.escape(piece))
    return re.compile("^" + "".join(parts) + "$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Clone:
    path: Path
    port: int
    env: dict[str, str]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clone]:
    path = tmp_path_factory.mktemp("clone")
    for name in (".venv", "config.yml", "nlu", "knowledge.yml", "scripts"):
        (path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "WECHAT_",
                                                                    "TELEGRAM_"))}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    port = free_port()
    log = (path / "serve.log").open("w")
    server = subprocess.Popen([str(KEFU), "serve", "--demo", "--port", str(port)], cwd=path,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, (path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("kefu serve --demo did not answer /healthz within 120 s")
        yield Clone(path, port, env)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


ALL = examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples_to_replay() -> None:
    commands = [e.command for e in ALL]
    assert any(c.startswith("curl -s localhost:8000/webhooks/rest/webhook") for c in commands)
    assert any(c.startswith("curl -s localhost:8000/model/parse") for c in commands)
    assert "../shared/" not in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", ALL, ids=[f"line{e.line}" for e in ALL])
def test_example_runs_as_written(example: Example, clone: Clone) -> None:
    skipped = next((why for prefix, why in NOT_REPLAYED.items()
                    if example.command.startswith(prefix)), None)
    skipped = skipped or NOT_REPLAYED_SECTIONS.get(example.section)
    if skipped:
        pytest.skip(skipped)
    command = (example.command.replace("localhost:8000", f"127.0.0.1:{clone.port}")
               .replace("127.0.0.1:8000", f"127.0.0.1:{clone.port}"))
    words = shlex.split(command, comments=True)
    stdin = "".join(f"{t}\n" for t in example.typed) if example.typed else ""
    result = subprocess.run(command, shell=True, cwd=clone.path, env=clone.env, input=stdin,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    printed = output if any(line.startswith("Invalid configuration")
                            for line in example.expected) else result.stdout
    expects_failure = any(line.startswith("Invalid configuration") for line in example.expected)
    if expects_failure:
        assert result.returncode == 2, output
    else:
        assert result.returncode == 0, output
    if words[0] == "curl" and "/metrics" not in command:  # /metrics is Prometheus text
        assert result.stdout.startswith(("[", "{")), output  # JSON, not an error page
        assert '"error"' not in result.stdout, output
    if example.typed:
        return  # a transcript: the conversations themselves are replayed in tests/transcripts
    shown = [line for line in example.expected if line.strip()]
    got = [line for line in printed.splitlines() if line.strip()]
    # In order; lines the README leaves out (a reply's buttons) may come between.
    rest = iter(got)
    for line in shown:
        pattern = shape(line)
        assert any(pattern.match(g.strip()) for g in rest), \
            f"no line like {line!r} (in order) in:\n{printed}"
