"""The plug-in interface for a retailer's own member directory (CRM).

By default Kefu's own tables say who a member is and their tier is computed from purchases.
A retailer whose CRM is the source of truth names a factory in config (``members.plugin:
"mypackage.crm:build"``, taking the :class:`~bot.settings.Settings`) that builds a
:class:`MemberDirectory`. Tills and shops then name members as the CRM knows them: a member
the CRM finds is added to Kefu's tables on first sight (the points ledger lives in Kefu), and
the tier the CRM reports is the one purchases earn at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.core.plugins import plugin_factory
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member as the CRM knows them. ``tier`` ``None``: Kefu computes it from purchases."""

    member_no: str  # M + digits, as Kefu's member numbers
    phone: str | None = None  # E.164
    tier: str | None = None  # standard | silver | gold | diamond
    birthday: date | None = None
    name: str | None = None


class MemberDirectory(Protocol):
    """What a retailer's member directory offers Kefu."""

    async def find_member(self, *, reference: str) -> MemberRecord | None:
        """The member a till names (member number or phone as given), or ``None``."""
        ...


def member_directory(settings: Settings) -> MemberDirectory | None:
    """The configured member directory, or ``None`` for Kefu's own tables.

    Raises:
        ConfigError: ``members.plugin`` cannot be imported or is not callable.
    """
    if settings.members.plugin is None:
        return None
    factory = plugin_factory("members.plugin", settings.members.plugin)
    directory: MemberDirectory = factory(settings)
    return directory
