"""The `privacy` config section: how long conversations are kept."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from bot.core.settings import Section


class PrivacySettings(Section):
    # Conversation messages and finished outbox rows older than this are deleted.
    retention_days: int = Field(default=180, ge=1, le=3650)
    # WeChat's rules expect a follower's data deleted when they unsubscribe.
    erase_on_wechat_unsubscribe: bool = False


class PrivacyConfig(Protocol):
    """What the privacy rules read from the settings (the composed Settings is one)."""

    @property
    def privacy(self) -> PrivacySettings: ...
