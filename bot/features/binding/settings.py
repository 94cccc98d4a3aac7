"""The `sms` config section: how one-time binding codes reach a phone."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import Field, SecretStr

from bot.core.settings import Section


class SmsSettings(Section):
    # "log" writes one-time codes to the log (demo, development); "http" posts them to url.
    provider: Literal["log", "http"] = "log"
    url: str | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=30)


class SmsConfig(Protocol):
    """What the code sender reads from the settings (the composed Settings is one)."""

    @property
    def sms(self) -> SmsSettings: ...

    @property
    def sms_token(self) -> SecretStr | None: ...
