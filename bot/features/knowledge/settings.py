"""The `stores` and `knowledge` config sections: the retailer's stores and its FAQ file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import Field

from bot.core.settings import LocalizedText, Section


class Store(Section):
    code: str
    names: LocalizedText
    aliases: list[str] = Field(default_factory=list)
    city: str
    city_aliases: list[str] = Field(default_factory=list)
    address: LocalizedText
    phone: str | None = None
    timezone: str = "Asia/Shanghai"
    hours: str = "10:00-22:00"
    holiday_hours: str | None = None

class KnowledgeSettings(Section):
    # The FAQ entries operators edit (YAML); read again when the file changes.
    file: Path = Path("knowledge.yml")


class StoresConfig(Protocol):
    """What store look-ups read from the settings (the composed Settings is one)."""

    @property
    def stores(self) -> list[Store]: ...
