"""The SLA instants kept on each case: set when it opens, moved when it is answered, paused,
resumed or closed; a pass reads only the cases they say are due."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kefu
from bot.features.cases.sla import calendar_for
from scheduler.sla import check_deadlines
from tests.cases.helpers import Clock, add_agent, dialogue, file_complaint, get_case, say
from tests.cases.test_handoff import act
from tests.conftest import FIXED_NOW, make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_marks_follow_the_case(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d)  # high, opened Monday 14:00: first answer due 16:00
    assert case.first_response_due_at == FIXED_NOW + timedelta(hours=2)
    assert case.sla_warn_at == FIXED_NOW + timedelta(minutes=90)  # warn_before: 30 minutes
    assert case.sla_breach_at == FIXED_NOW + timedelta(hours=2)

    agent = await add_agent(kefu)
    await act(kefu, case.id, agent, "reply", text="您好，我们在处理", now=FIXED_NOW
              + timedelta(minutes=10))
    answered = await get_case(kefu, case.id)  # only the resolution is left to watch
    assert answered.sla_breach_at == answered.resolution_due_at
    assert answered.sla_warn_at is not None and answered.sla_warn_at > FIXED_NOW

    await act(kefu, case.id, agent, "wait", now=FIXED_NOW + timedelta(minutes=20))
    paused = await get_case(kefu, case.id)
    assert (paused.sla_warn_at, paused.sla_breach_at) == (None, None)

    d_later = dialogue(kefu, Clock(FIXED_NOW + timedelta(hours=1)))
    await say(d_later, "照片已经发给你们了")  # the customer answers: the clock runs again
    resumed = await get_case(kefu, case.id)
    assert resumed.sla_breach_at == resumed.resolution_due_at is not None

    await act(kefu, case.id, agent, "close", now=FIXED_NOW + timedelta(hours=2))
    closed = await get_case(kefu, case.id)
    assert (closed.sla_warn_at, closed.sla_breach_at) == (None, None)


async def test_a_pass_reads_only_what_is_due(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    first = await file_complaint(kefu, d, sender="alice")
    for sender in ("bob", "carol", "dave"):  # due later: never read before their time
        await file_complaint(kefu, dialogue(kefu, Clock(FIXED_NOW + timedelta(hours=1))),
                             sender=sender)
    report = await check_deadlines(kefu.sessions, settings=kefu.settings,
                                   clock=lambda: FIXED_NOW + timedelta(minutes=95))
    assert (report.warned, report.escalated, report.looked_at) == (1, 0, 1)
    again = await check_deadlines(kefu.sessions, settings=kefu.settings,
                                  clock=lambda: FIXED_NOW + timedelta(minutes=100))
    assert again.looked_at == 0  # the warning moved the mark on, to the deadline
    moved = await get_case(kefu, first.id)
    assert moved.sla_warn_at is not None and moved.sla_warn_at > FIXED_NOW + timedelta(hours=2)
    assert moved.sla_breach_at == FIXED_NOW + timedelta(hours=2)


async def test_an_instant_due_at_night_waits_for_the_morning(kefu: Kefu) -> None:
    friday = datetime(2026, 11, 27, 20, 30, tzinfo=SHANGHAI)
    case = await file_complaint(kefu, dialogue(kefu, Clock(friday)))  # due Monday 10:30
    night = datetime(2026, 11, 28, 1, 0, tzinfo=SHANGHAI)
    async with kefu.sessions() as session, session.begin():  # a mark left due overnight
        stored = await session.get(type(case), case.id)
        assert stored is not None
        stored.sla_warn_at = night - timedelta(minutes=5)
    report = await check_deadlines(kefu.sessions, settings=kefu.settings, clock=lambda: night)
    assert (report.warned, report.escalated) == (0, 0)
    deferred = await get_case(kefu, case.id)
    assert deferred.sla_warn_at == datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("minutes", [1, 30, 90, 12 * 60, 13 * 60, 60 * 60])
@pytest.mark.parametrize("start", [
    datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI),   # Monday afternoon
    datetime(2026, 11, 27, 20, 45, tzinfo=SHANGHAI),  # Friday, just before closing
    datetime(2026, 9, 30, 18, 0, tzinfo=SHANGHAI),    # before the National Day holiday
])
def test_subtract_undoes_add(start: datetime, minutes: int) -> None:
    calendar = calendar_for(make_settings().cases)
    due = calendar.add(start, minutes, SHANGHAI)
    back = calendar.subtract(due, minutes, SHANGHAI)
    assert calendar.between(back, due, SHANGHAI) == minutes
    assert calendar.add(back, minutes, SHANGHAI) == due
