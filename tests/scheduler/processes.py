"""`kefu serve` as a real process for the scheduler tests: free port, own environment,
health wait, and the log it wrote."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no operator KEFU_/platform variables, the repo's config, a
    trained NLU model shared with the rest of the test session."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEFU_", "TELEGRAM_", "WECHAT_"))}
    env.update(KEFU_CONFIG=str(ROOT / "config.yml"), KEFU_APP__DATA_DIR=str(tmp_path / "data"),
               KEFU_NLU__MODEL_DIR=str(ROOT / ".kefu" / "nlu-model"),
               KEFU_NLU__DATA_DIR=str(ROOT / "nlu" / "data"),
               KEFU_KNOWLEDGE__FILE=str(ROOT / "knowledge.yml"),
               KEFU_SECRET_KEY="scheduler-test-" + "x" * 24, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


class Served:
    """One `kefu serve` process; its stderr goes to a file the test can read."""

    def __init__(self, env: dict[str, str], cwd: Path, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        # One worker: these tests read each server's own /metrics and log as one process
        # (several workers of one server are tested in tests/bot/cli/test_serve_workers.py).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port), "--workers", "1"],
            env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_healthy(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"kefu serve exited {self.process.returncode}:\n{self.log}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"kefu serve did not answer /healthz in {seconds} s:\n{self.log}")

    @property
    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine or the OOM killer stops it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def metric_value(text: str, name: str) -> float:
    """A sample's value from Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
