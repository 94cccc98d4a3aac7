"""Settings of the inbound spool (config.yml section ``spool``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SpoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where pushes wait while the database cannot take them: "file" (a directory on local
    # disk), "redis" (redis.url, shared by every replica) or "auto" (redis when configured).
    backend: Literal["auto", "file", "redis"] = "auto"
    # The file spool's directory; default <app.data_dir>/spool.
    dir: Path | None = None
    # The Redis spool's hash (its set-aside entries go to "<redis_key>:failed"); None:
    # one per database (bot.delivery.spool_redis_key), so that deployments sharing a Redis
    # never replay a push into another's database.
    redis_key: str | None = Field(default=None, min_length=1, max_length=200)
    # A Telegram update waits this long for its turn before it is spooled and answered 200
    # (WeChat uses channels.wechat.passive_reply_seconds).
    telegram_wait_seconds: float = Field(default=5.0, gt=0, le=50)
    # Replays are retried with backoff up to this interval while the database is down.
    replay_max_interval_seconds: float = Field(default=10.0, ge=0.1, le=600)
