"""When the SLA pass must next look at a case, stored on the case so a pass reads only what
is due (an index range) instead of walking the calendar for every open case.

``sla_warn_at`` is the next moment a warning falls due (``cases.warn_before`` business
minutes before a deadline), ``sla_breach_at`` the next deadline not yet escalated; both UTC,
both None when nothing is left to watch (closed, paused, or every deadline escalated).
"""

from __future__ import annotations

from datetime import datetime

from bot.core.storage.models_cases import Case
from bot.features.cases.calendar import BusinessCalendar
from bot.features.cases.sla import zone_of

CLOSED, PENDING = "closed", "pending"


def open_deadlines(case: Case) -> list[tuple[str, datetime]]:
    """The deadlines still running: the first answer (until given) and the resolution."""
    found = []
    if case.first_responded_at is None and case.first_response_due_at is not None:
        found.append(("first_response", case.first_response_due_at))
    if case.resolution_due_at is not None:
        found.append(("resolution", case.resolution_due_at))
    return found


def mark(case: Case, *, calendar: BusinessCalendar, warn_before: int, now: datetime,
         handled: bool = False) -> None:
    """Sets the case's next SLA instants after a change at ``now`` (opened, paused, resumed,
    answered, priority changed), or, with ``handled``, after a pass dealt with all that was
    due up to ``now``."""
    if case.status == CLOSED:
        case.sla_warn_at = case.sla_breach_at = None
        return
    zone = zone_of(case.timezone)
    warns: list[datetime] = []
    breaches: list[datetime] = []
    for _name, due in open_deadlines(case):
        if not handled or due > now:
            breaches.append(due)
        if due > now:
            warn = calendar.subtract(due, warn_before, zone)
            if not handled or warn > now:
                warns.append(warn)
    case.sla_warn_at = min(warns, default=None)
    case.sla_breach_at = min(breaches, default=None)


def defer(case: Case, *, until: datetime, now: datetime) -> None:
    """Moves instants that are due while the desk is closed to when it opens again."""
    if case.sla_warn_at is not None and case.sla_warn_at <= now:
        case.sla_warn_at = until
    if case.sla_breach_at is not None and case.sla_breach_at <= now:
        case.sla_breach_at = until
