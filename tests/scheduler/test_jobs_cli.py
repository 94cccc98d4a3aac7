"""`kefu jobs list` and `kefu jobs run` as an operator types them (another process than any
server: everything comes from the durable records)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.scheduler.processes import base_env


def kefu(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_run_a_job_then_list_it(tmp_path: Path) -> None:
    env = base_env(tmp_path, KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}")
    before = json.loads(kefu(env, tmp_path, "jobs", "list", "--json").stdout)
    assert {job["id"] for job in before["jobs"]} >= {"points-expiry", "retention-purge",
                                                     "sla-check"}
    assert all(job["last_run"] is None for job in before["jobs"]) and before["leader"] is None

    ran = kefu(env, tmp_path, "jobs", "run", "retention-purge")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("retention-purge: ok in ")

    after = {job["id"]: job for job in
             json.loads(kefu(env, tmp_path, "jobs", "list", "--json").stdout)["jobs"]}
    purge = after["retention-purge"]
    assert purge["last_outcome"] == "ok" and purge["runs"] == 1
    assert purge["last_result"] == "0 messages, 0 outbox rows deleted"
    assert purge["schedule"] == "daily 03:30 Asia/Shanghai"
    assert purge["duration_ms"] is not None and purge["next_run"] is not None
    assert after["sla-check"]["last_run"] is None

    table = kefu(env, tmp_path, "jobs", "list").stdout
    assert "retention-purge" in table and "Leader: none yet" in table

    unknown = kefu(env, tmp_path, "jobs", "run", "no-such-job")
    assert unknown.returncode == 2
    assert "no job 'no-such-job'" in unknown.stderr and "sla-check" in unknown.stderr
