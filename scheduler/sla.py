"""SLA reminders: a warning before a deadline, escalation to supervisors after it.

Both happen only while the case's desk is open in the case's own zone: nobody is reminded at
night or on a holiday (Zammad's #4432). A deadline that passes while the desk is closed is
escalated when it opens. Each reminder is recorded once per deadline (a unique key), so
several processes running this job never repeat one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.cases import store
from bot.cases.agents import AGENT, SUPERVISOR
from bot.cases.sla import calendar_for, minutes_left, zone_of
from bot.settings import Settings
from bot.storage.db import transaction
from bot.storage.models_cases import Case

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
WARNING, BREACH = "sla_warning", "sla_breach"


@dataclass(frozen=True, slots=True)
class SlaReport:
    warned: int
    escalated: int


def _deadlines(case: Case) -> list[tuple[str, datetime]]:
    found = []
    if case.first_responded_at is None and case.first_response_due_at is not None:
        found.append(("first_response", case.first_response_due_at))
    if case.resolution_due_at is not None:
        found.append(("resolution", case.resolution_due_at))
    return found


async def check_deadlines(
    sessions: async_sessionmaker[AsyncSession], *, settings: Settings, clock: Clock
) -> SlaReport:
    """Warns the assignee (everyone, when nobody has the case) of deadlines within
    ``cases.warn_before`` business minutes, and escalates passed ones to supervisors."""
    now = clock()
    calendar = calendar_for(settings.cases)
    warned = escalated = 0
    async with transaction(sessions) as session:
        for case in await store.active_cases(session, limit=10_000):
            zone = zone_of(case.timezone)
            if not calendar.is_open(now, zone):
                continue
            for deadline, due in _deadlines(case):
                left = minutes_left(calendar, due, now, zone)
                local_due = f"{due.astimezone(zone):%m-%d %H:%M}"
                if left < 0:
                    new = await store.add_event(
                        session, case=case, kind=BREACH, now=now,
                        body=f"{deadline} {local_due}",
                        data={"deadline": deadline, "to_role": SUPERVISOR,
                              "assignee": case.assignee_id},
                        dedupe_key=f"{BREACH}:{case.id}:{deadline}:{due.isoformat()}")
                    escalated += new is not None
                elif left <= settings.cases.warn_before:
                    to = ({"to": case.assignee_id} if case.assignee_id is not None
                          else {"to_role": AGENT})
                    new = await store.add_event(
                        session, case=case, kind=WARNING, now=now,
                        body=f"{deadline} {local_due}",
                        data={"deadline": deadline, "minutes_left": left, **to},
                        dedupe_key=f"{WARNING}:{case.id}:{deadline}:{due.isoformat()}")
                    warned += new is not None
    metrics.SLA_WARNINGS.inc(warned)
    metrics.SLA_BREACHES.inc(escalated)
    if warned or escalated:
        log.info("SLA: %d warning(s), %d escalation(s)", warned, escalated)
    return SlaReport(warned, escalated)
