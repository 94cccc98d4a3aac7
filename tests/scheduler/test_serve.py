"""The issue's "done when": `kefu serve` on SQLite with `scheduler.sla_check_seconds: 2`.

A handed-off chat whose first-response target is 2 minutes gets its warning (1 minute before)
and then its breach, with nobody calling a job by hand, counted in /metrics; `kefu jobs list`
in another process reads what happened; a second `kefu serve` on the same database says it
does not run the jobs.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from tests.conftest import ROOT
from tests.scheduler.processes import Served, base_env, metric_value

pytestmark = pytest.mark.slow


def config_with_two_minute_chats(tmp_path: Path) -> Path:
    """The repo's config, with a desk open all day today and tomorrow and a 2-minute first
    response for live chats (normal priority), warned 1 minute before."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    cases = config["cases"]
    cases["business_hours"] = {"start": "00:00", "end": "23:59"}
    cases["calendar"] = {"closed_days": [], "workdays": [today, today + timedelta(days=1)]}
    cases["sla"]["normal"] = {"first_response": "2m", "resolution": "36h"}
    cases["warn_before"] = "1m"
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def sla_events(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        return [(kind, json.loads(data)["deadline"]) for kind, data in connection.execute(
            "SELECT kind, data FROM case_events WHERE kind LIKE 'sla_%' ORDER BY id")]


def wait_for(check: Any, seconds: float, what: str, served: Served) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {seconds} s:\n{served.log[-3000:]}")


def test_serve_warns_then_escalates_a_two_minute_chat(tmp_path: Path, embedded_nlu: Any) -> None:
    database = tmp_path / "kefu.db"
    env = base_env(tmp_path, KEFU_CONFIG=str(config_with_two_minute_chats(tmp_path)),
                   KEFU_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
                   KEFU_SCHEDULER__SLA_CHECK_SECONDS="2")
    leader = Served(env, tmp_path, "leader")
    second: Served | None = None
    try:
        leader.wait_healthy()
        asked = datetime.now(UTC)
        reply = httpx.post(leader.url + "/webhooks/rest/webhook",
                           json={"sender": "sla-visitor", "message": "/human_agent"}, timeout=30)
        assert reply.status_code == 200, reply.text
        with sqlite3.connect(database) as connection:
            priority, status = connection.execute(
                "SELECT priority, status FROM cases").fetchone()
        assert (priority, status) == ("normal", "new")

        # A second server on the same database serves, but leaves the jobs to the first.
        second = Served(env, tmp_path, "second")
        second.wait_healthy()
        assert "already runs the timed jobs" in second.log

        wait_for(lambda: ("sla_warning", "first_response") in sla_events(database), 100,
                 "the SLA warning", leader)
        # Not before the last minute: the warning instant is stored, not rounded to minutes.
        assert datetime.now(UTC) - asked >= timedelta(seconds=58)
        wait_for(lambda: ("sla_breach", "first_response") in sla_events(database), 100,
                 "the SLA breach", leader)
        assert datetime.now(UTC) - asked >= timedelta(seconds=115)
        assert sla_events(database) == [("sla_warning", "first_response"),
                                        ("sla_breach", "first_response")]

        metrics = httpx.get(leader.url + "/metrics", timeout=10).text
        assert metric_value(metrics, "kefu_sla_warnings_total") == 1
        assert metric_value(metrics, "kefu_sla_breaches_total") == 1
        assert metric_value(metrics, 'kefu_job_runs_total{job="sla-check",outcome="ok"}') >= 30
        assert metric_value(metrics, "kefu_scheduler_leader") == 1
        # The second server ran nothing: its counters stayed at zero.
        other = httpx.get(second.url + "/metrics", timeout=10).text
        assert metric_value(other, 'kefu_job_runs_total{job="sla-check",outcome="ok"}') == 0
        assert metric_value(other, "kefu_scheduler_leader") == 0

        listed = subprocess.run([sys.executable, "-m", "bot", "jobs", "list", "--json"],
                                env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, check=True)
        status = json.loads(listed.stdout)
        jobs = {job["id"]: job for job in status["jobs"]}
        assert jobs["sla-check"]["last_outcome"] == "ok"
        assert jobs["sla-check"]["schedule"] == "every 2 s"
        assert jobs["points-expiry"]["last_outcome"] == "ok"  # caught up at the first start
        assert status["leader"]["alive"] is True
        assert status["leader"]["owner"].endswith(f":{leader.process.pid}")
    finally:
        leader.stop()
        if second is not None:
            second.stop()
