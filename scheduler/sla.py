"""SLA reminders: a warning before a deadline, escalation to supervisors after it.

A pass reads only the cases whose next warning or deadline (``sla_warn_at``,
``sla_breach_at``, kept on each case) has come, however many cases are open, and moves those
instants on. Reminders happen only while the case's desk is open in the case's own zone:
nobody is reminded at night or on a holiday (Zammad's #4432); what falls due while it is
closed waits for the opening. Each reminder is recorded once per deadline (a unique key),
so a repeated pass, or two processes, never repeat one. A breach also goes to the on-call
chats (bot.features.alerts), in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import metrics
from bot.core.i18n import translator
from bot.core.storage.db import transaction
from bot.core.storage.models_cases import Case
from bot.features.alerts import oncall
from bot.features.cases import store
from bot.features.cases.agents import AGENT, SUPERVISOR
from bot.features.cases.calendar import BusinessCalendar
from bot.features.cases.sla import calendar_for, minutes_left, zone_of
from bot.features.cases.sla_marks import defer, mark, open_deadlines
from bot.settings import Settings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
WARNING, BREACH = "sla_warning", "sla_breach"
BATCH = 500


@dataclass(frozen=True, slots=True)
class SlaReport:
    warned: int
    escalated: int
    looked_at: int = 0


async def check_deadlines(
    sessions: async_sessionmaker[AsyncSession], *, settings: Settings, clock: Clock,
    batch: int = BATCH,
) -> SlaReport:
    """Warns the assignee (everyone, when nobody has the case) of deadlines within
    ``cases.warn_before`` business minutes, and escalates passed ones to supervisors."""
    now = clock()
    calendar = calendar_for(settings.cases)
    warned = escalated = looked_at = 0
    seen: set[int] = set()
    while True:
        async with transaction(sessions) as session:
            due = [case for case in await store.sla_due(session, now=now, limit=batch)
                   if case.id not in seen]
            rows: list[dict[str, Any]] = []
            breaches: dict[str, tuple[Case, str, datetime]] = {}
            for case in due:
                seen.add(case.id)
                rows.extend(_reminders(case, settings, calendar, now, breaches))
            # One INSERT for the batch; repeats (already recorded) are skipped by their key.
            for key in await store.add_events(session, rows):
                if key in breaches:
                    escalated += 1
                    case, deadline, at = breaches[key]
                    await oncall.breach(session, settings, translator(), case=case,
                                        deadline=deadline, due=at, now=now)
                else:
                    warned += 1
        looked_at += len(due)
        if len(due) < batch:
            break
    metrics.SLA_WARNINGS.inc(warned)
    metrics.SLA_BREACHES.inc(escalated)
    if warned or escalated:
        log.info("SLA: %d warning(s), %d escalation(s)", warned, escalated)
    return SlaReport(warned, escalated, looked_at)


def _reminders(case: Case, settings: Settings, calendar: BusinessCalendar, now: datetime,
               breaches: dict[str, tuple[Case, str, datetime]]) -> list[dict[str, Any]]:
    """The reminders due on ``case`` now (breaches also noted in ``breaches`` by key), and
    its SLA instants moved on past them."""
    zone = zone_of(case.timezone)
    warn_before = settings.cases.warn_before
    if case.status == store.CLOSED:
        mark(case, calendar=calendar, warn_before=warn_before, now=now)
        return []
    if not calendar.is_open(now, zone):
        opens = calendar.next_open(now, zone)
        if opens > now:
            defer(case, until=opens, now=now)
            return []
    rows = []
    for deadline, due in open_deadlines(case):
        left = minutes_left(calendar, due, now, zone)
        local_due = f"{due.astimezone(zone):%m-%d %H:%M}"
        if left < 0:
            key = f"{BREACH}:{case.id}:{deadline}:{due.isoformat()}"
            breaches[key] = (case, deadline, due)
            rows.append(store.event_row(
                case=case, kind=BREACH, now=now, body=f"{deadline} {local_due}",
                data={"deadline": deadline, "to_role": SUPERVISOR,
                      "assignee": case.assignee_id}, dedupe_key=key))
        elif left <= warn_before:
            to = ({"to": case.assignee_id} if case.assignee_id is not None
                  else {"to_role": AGENT})
            rows.append(store.event_row(
                case=case, kind=WARNING, now=now, body=f"{deadline} {local_due}",
                data={"deadline": deadline, "minutes_left": left, **to},
                dedupe_key=f"{WARNING}:{case.id}:{deadline}:{due.isoformat()}"))
    mark(case, calendar=calendar, warn_before=warn_before, now=now, handled=True)
    return rows
