"""Settings of outbox delivery (config.yml section ``outbox``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OutboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A claimed row is leased this long and the lease is renewed while its send runs, so
    # rows held by a crashed process on another host are free again within this time.
    lease_seconds: float = Field(default=30.0, ge=3, le=3600)
    # On SIGTERM: stop claiming, let sends in flight finish for at most this long.
    drain_seconds: float = Field(default=10.0, ge=0, le=300)
    # Retry a failing send (with exponential backoff and jitter) for this long after the
    # reply was queued; WeChat replies also stop when the 48-hour reply window closes.
    retry_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    max_backoff_seconds: float = Field(default=600.0, ge=1, le=86_400)
    # Sends in flight at once per process: also the bound on repeats after a crash.
    concurrency: int = Field(default=8, ge=1, le=256)
    # WeChat: replies queued for one follower go out merged, so a backlog fits the
    # reply window's quota (5 messages within 48 hours).
    merge_backlog: bool = True
