"""`kefu` run as an operator runs it: a real process on a fresh database (the `cli` fixture of
tests/conftest.py hands one out per backend)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class Cli:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd

    def __call__(self, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
            env={**self.env, **(extra_env or {})}, cwd=self.cwd, timeout=120, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"kefu {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result
