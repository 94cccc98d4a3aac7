"""ORM models of the timed jobs: what each job last did, and which process runs them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.storage.models import Base


class JobState(Base):
    """One row per job: its last run, durably, so every process (and `kefu jobs list`) sees
    the same story, and a daily run missed while Kefu was down is caught up exactly once."""

    __tablename__ = "job_state"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The scheduled instant (UTC) of the last slot claimed; a slot is claimed once, ever.
    last_slot: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(16))  # ok | failed
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_result: Mapped[str | None] = mapped_column(String(500))
    last_success_at: Mapped[datetime | None]
    last_owner: Mapped[str | None] = mapped_column(String(128))
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A run in progress: who runs it and until when the claim holds (a crashed run's claim
    # lapses, so the job is never stuck).
    running_owner: Mapped[str | None] = mapped_column(String(128))
    running_until: Mapped[datetime | None]


class SchedulerLeader(Base):
    """Which process runs the jobs (one row, id 1), refreshed while it leads. The lock itself
    is elsewhere (a PostgreSQL advisory lock or a lock file); this row is for people."""

    __tablename__ = "scheduler_leader"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    since: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
