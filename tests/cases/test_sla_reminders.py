"""scheduler/sla.py: warnings before a deadline, escalation after it, never out of hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.features.cases import store
from scheduler.sla import check_deadlines
from tests.cases.helpers import Clock, add_agent, dialogue, file_complaint, say
from tests.conftest import FIXED_NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def events(kefu: Kefu, case_id: int) -> list[tuple[str, dict[str, object]]]:
    async with transaction(kefu.sessions) as session:
        return [(e.kind, dict(e.data)) for e in await store.events_of(session, case_ids=[case_id])
                if e.kind.startswith("sla_")]


async def run(kefu: Kefu, at: datetime) -> tuple[int, int]:
    report = await check_deadlines(kefu.sessions, settings=kefu.settings, clock=lambda: at)
    return report.warned, report.escalated


async def test_warning_then_escalation_once_each(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d)  # high: first answer due 16:00
    assert await run(kefu, FIXED_NOW + timedelta(minutes=60)) == (0, 0)
    assert await run(kefu, FIXED_NOW + timedelta(minutes=95)) == (1, 0)
    assert await run(kefu, FIXED_NOW + timedelta(minutes=100)) == (0, 0)  # not twice
    assert await run(kefu, FIXED_NOW + timedelta(minutes=121)) == (0, 1)
    assert await run(kefu, FIXED_NOW + timedelta(minutes=150)) == (0, 0)
    found = await events(kefu, case.id)
    assert [kind for kind, _ in found] == ["sla_warning", "sla_breach"]
    assert found[0][1]["to_role"] == "agent"  # nobody has it: every agent is told
    assert found[1][1]["to_role"] == "supervisor"


async def test_the_warning_goes_to_the_assignee(kefu: Kefu) -> None:
    from tests.cases.test_handoff import act

    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d)
    await act(kefu, case.id, agent, "claim")
    await run(kefu, FIXED_NOW + timedelta(minutes=100))
    assert (await events(kefu, case.id))[0][1]["to"] == agent.id


async def test_no_reminder_outside_business_hours(kefu: Kefu) -> None:
    friday = datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI)
    d = dialogue(kefu, Clock(friday))
    case = await file_complaint(kefu, d)  # due Monday 10:00 (1 h Friday, 1 h Monday)
    assert case.first_response_due_at == datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
    for hour in (21, 23):
        assert await run(kefu, friday.replace(hour=hour, minute=30)) == (0, 0)
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    assert await run(kefu, saturday) == (0, 0)
    # Monday 09:00: the desk opens with 60 minutes left: no warning yet (30 before).
    assert await run(kefu, datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)) == (0, 0)
    assert await run(kefu, datetime(2026, 11, 30, 9, 31, tzinfo=SHANGHAI)) == (1, 0)


async def test_a_breach_noticed_after_hours_is_escalated_when_the_desk_opens(kefu: Kefu) -> None:
    evening = datetime(2026, 11, 23, 20, 0, tzinfo=SHANGHAI)
    d = dialogue(kefu, Clock(evening))
    await say(d, "/human_agent")  # normal: 4 h → due Tuesday 12:00
    night = datetime(2026, 11, 24, 22, 0, tzinfo=SHANGHAI)
    assert await run(kefu, night) == (0, 0)
    assert await run(kefu, datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)) == (0, 1)


async def test_paused_cases_are_not_chased(kefu: Kefu) -> None:
    from tests.cases.test_handoff import act

    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d)
    await act(kefu, case.id, agent, "claim")
    await act(kefu, case.id, agent, "wait")
    assert await run(kefu, FIXED_NOW + timedelta(days=3)) == (0, 0)
