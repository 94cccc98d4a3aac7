"""What every config section shares, and the core's own sections.

Kefu's settings are one object, :class:`bot.settings.Settings`, composed from sections. Each
section is owned where it is used: the core's here (app, database, redis, server, logs), each
feature's in its package (``bot/features/<feature>/settings.py``), the edges' and the
scheduler's in ``bot/settings.py``, which composes them all and loads config.yml.

The core and the features never import the composed object: a function gets the sections it
reads, or an object typed by the feature's own ``Protocol`` that names them (for example
:class:`bot.features.loyalty.settings.LoyaltyConfig`); the composed ``Settings`` satisfies each
of them, so the composition root passes it as is and mypy checks that it fits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

Language = Literal["zh-Hans", "zh-Hant", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hans", "zh-Hant", "en")
TierCode = Literal["standard", "silver", "gold", "diamond"]
LocalizedText = dict[Language, str]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kefu.db"


class Section(BaseModel):
    """A config section: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def localized(text: LocalizedText, language: str) -> str:
    """``text`` in ``language``, else simplified Chinese, else any translation there is."""
    for key in (language, "zh-Hans", "en"):
        if key in text:
            return text[key]
    return next(iter(text.values()), "")


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def parse_minutes(value: Any) -> Any:
    """``90``, ``"90m"``, ``"2h"`` or ``"1h30m"`` → minutes; other values pass to validation."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None or not any(match.groups()):
            raise ValueError(f"duration {value!r} is not understood; write minutes like '30m', "
                             "hours like '2h', or both like '1h30m'")
        return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    return value


# A duration in a config file, in minutes ("30m", "2h", "1h30m" or a number).
Minutes = Annotated[int, BeforeValidator(parse_minutes), Field(ge=1, le=60 * 24 * 60)]


class AppSettings(Section):
    environment: Literal["development", "production"] = "development"
    default_language: Language = "zh-Hans"
    default_timezone: str = "Asia/Shanghai"
    data_dir: Path = Path(".kefu")
    max_message_chars: int = Field(default=4000, ge=1, le=100_000)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                             "'Asia/Shanghai'") from exc
        return value

class DatabaseSettings(Section):
    url: str = DEFAULT_DATABASE_URL
    # PostgreSQL only: the schema Kefu's tables live in (tests use one schema per run).
    schema_name: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    echo: bool = False

class RedisSettings(Section):
    # redis://127.0.0.1:6379/0 — shared state of several Kefu processes (platform access
    # tokens, rate limits). Without it, one process keeps them itself or in the database.
    url: str | None = None

class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None

class LogSettings(Section):
    # auto: JSON lines in production, readable lines in development.
    format: Literal["auto", "json", "console"] = "auto"
    access_log: bool = True
