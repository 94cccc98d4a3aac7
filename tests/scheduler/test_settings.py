"""A malformed scheduler setting stops `kefu serve` before it starts, in the config error
format: exit code 2, the key and its environment override named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.scheduler.processes import base_env


@pytest.mark.parametrize("value", ["abc", "0"])
def test_a_bad_sla_interval_stops_serve(tmp_path: Path, value: str) -> None:
    env = base_env(tmp_path, KEFU_SCHEDULER__SLA_CHECK_SECONDS=value,
                   KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}")
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "1"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert ("scheduler.sla_check_seconds" in result.stderr
            and "(environment override: KEFU_SCHEDULER__SLA_CHECK_SECONDS)" in result.stderr)
    assert not (tmp_path / "kefu.db").exists()  # nothing started
