"""Parsing --since/--until: an ISO date or date-time, read in Kefu's default zone if naive."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import typer


def parse_moment(value: str | None, *, zone: str, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time such as "
                                 "2026-11-01 or 2026-11-01T09:00+08:00",
                                 param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))
