"""The `console` config section: agent sessions and login lockout."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ConsoleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A session ends this many hours after login, however active.
    session_hours: int = Field(default=12, ge=1, le=24 * 7)
    # … or after this many minutes without a request.
    idle_minutes: int = Field(default=120, ge=5, le=24 * 60)
    # Wrong passwords for one account from one address before sign-ins from there are slowed
    # down (each further attempt waits twice as long, 1 s at first), and the longest wait.
    # Nothing is ever locked: see bot/features/security/login_throttle.py.
    max_failed_logins: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # An address the account signed in from within this many days is not slowed down by
    # failures elsewhere (other addresses, other accounts behind the same address).
    trusted_address_days: int = Field(default=30, ge=0, le=365)
    # "auto": Secure cookies when the request came over HTTPS or in production.
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # Replies longer than this are refused (the longest platform limit is 4096 characters).
    max_reply_chars: int = Field(default=4000, ge=100, le=20_000)
