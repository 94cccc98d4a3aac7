"""Time zones by IANA name, forgiving of a name this machine does not know."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"


def zone_of(name: str) -> ZoneInfo:
    """The zone ``name``; China's when the name is unknown (a store's setting, a member's)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)
