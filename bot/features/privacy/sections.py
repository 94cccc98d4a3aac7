"""Extension points: other modules add what they hold about a member to exports and erasures.

A module that stores member data of its own (cases, for example) registers, from the
composition root, an exporter (returns JSON-ready data) and an eraser (removes personal data,
keeps statistics). Both run inside the export's or erasure's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import Member

Exporter = Callable[[AsyncSession, Member], Awaitable[Any]]
Eraser = Callable[[AsyncSession, Member], Awaitable[None]]

EXPORTERS: dict[str, Exporter] = {}
ERASERS: dict[str, Eraser] = {}


def register_section(name: str, *, exporter: Exporter, eraser: Eraser) -> None:
    """``name`` becomes a key of the export JSON (e.g. "cases")."""
    if name in EXPORTERS:
        raise ValueError(f"privacy section {name!r} is registered twice")
    EXPORTERS[name] = exporter
    ERASERS[name] = eraser
