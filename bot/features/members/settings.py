"""The `members` config section: a retailer's own member directory, when plugged in."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from bot.core.settings import Section


class MembersSettings(Section):
    # "package.module:factory" building a retailer's member directory (CRM) that finds
    # members and their tier; without one, Kefu's own tables do.
    plugin: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")


class MembersConfig(Protocol):
    """What the member-directory plug-in reads (the composed Settings is one)."""

    @property
    def members(self) -> MembersSettings: ...
