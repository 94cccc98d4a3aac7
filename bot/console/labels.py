"""The console's labels in both languages side by side (agents read both; customers never see
these), from ``console_labels`` of the locale files; and the console's value formats."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from bot.core.i18n import translator
from bot.core.zones import zone_of

GROUPS = ("priorities", "kinds", "categories", "statuses", "deadlines", "events", "reasons",
          "resolutions", "roles")


def _both(key: str) -> str:
    texts = translator()
    return f"{texts.text('zh-Hans', key)} {texts.text('en', key)}"


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    """Each group's codes → their label (``console_labels`` of the locale files)."""
    return {group: {code: _both(f"console_labels.{group}.{code}")
                    for code in translator().section("zh-Hans", f"console_labels.{group}")}
            for group in GROUPS}


def deadline_text(body: str) -> str:
    """An SLA event's body (``first_response 2026-11-23 16:00 Asia/Shanghai``) with the
    deadline's name in words."""
    key, _, rest = body.partition(" ")
    deadlines = labels()["deadlines"]
    return f"{deadlines[key]} {rest}".strip() if key in deadlines else body


def local(moment: datetime | None, zone: str = "Asia/Shanghai",
          pattern: str = "%m-%d %H:%M") -> str:
    """A stored UTC time as the case's local time."""
    if moment is None:
        return ""
    return moment.astimezone(zone_of(zone)).strftime(pattern)


def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def duration(minutes: int) -> str:
    """Business minutes as the countdown shows them: 45m, 3h 05m, 2d 4h; overdue marked."""
    left = abs(minutes)
    hours, rest = divmod(left, 60)
    if hours >= 48:
        text = f"{hours // 24}d {hours % 24}h"
    elif hours:
        text = f"{hours}h {rest:02d}m"
    else:
        text = f"{rest}m"
    return f"{_both('console_labels.overdue')} {text}" if minutes < 0 else text
