"""Expected failures of case work; messages say what happened and what to do instead."""

from __future__ import annotations

from bot.core.errors import KefuError


class CaseError(KefuError):
    """A case action cannot be done in the case's current state."""


class CaseClosedError(CaseError):
    """The case is closed: nothing more can be sent or changed on it."""


class AlreadyClaimedError(CaseError):
    """Another agent has the case."""


class ReplyBlockedError(CaseError):
    """The customer's platform does not let us write now (WeChat's 48-hour window)."""
