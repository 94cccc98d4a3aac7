"""Cases in member exports and erasures; retention purge keeps case events intact."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import Message
from bot.core.storage.models_cases import Case, CaseEvent
from bot.features.privacy.erase import erase_member
from bot.features.privacy.export import export_member
from scheduler.retention import purge_expired
from tests.cases.helpers import Clock, dialogue, file_complaint, latest_case
from tests.conftest import FIXED_NOW
from tests.factories import bound_member


async def test_cases_are_exported_then_erased_to_statistics(kefu: Kefu) -> None:
    member = await bound_member(kefu, sender="alice", points=10)
    d = dialogue(kefu, Clock())
    await file_complaint(kefu, d, sender="alice")
    case = await latest_case(kefu)
    assert case.description
    async with transaction(kefu.sessions) as session:
        row = await session.merge(member)
        data = await export_member(session, directory=kefu.directory, member=row,
                                   settings=kefu.settings, now=FIXED_NOW)
    assert [c["number"] for c in data["cases"]] == [case.number]
    assert data["cases"][0]["description"] == case.description
    assert "bindings" in data["account_records"]
    async with transaction(kefu.sessions) as session:
        row = await session.merge(member)
        await erase_member(session, member=row, actor="cli:test", now=FIXED_NOW)
    async with kefu.sessions() as session:
        erased = (await session.execute(select(Case))).scalar_one()
        bodies = list((await session.scalars(select(CaseEvent.body))).all())
    assert erased.description == ""
    assert erased.member_id is None
    assert (erased.kind, erased.priority) == (case.kind, case.priority)  # statistics stay
    assert all(body is None for body in bodies)


async def test_retention_purge_survives_case_events_pointing_at_messages(kefu: Kefu) -> None:
    await bound_member(kefu, sender="alice", points=10)
    d = dialogue(kefu, Clock())
    await file_complaint(kefu, d, sender="alice")
    async with transaction(kefu.sessions) as session:
        # make one event point at a message, as replies and customer words do
        message_id = (await session.execute(select(Message.id).limit(1))).scalar_one()
        event = (await session.execute(select(CaseEvent).limit(1))).scalar_one()
        event.message_id = message_id
    later = FIXED_NOW + timedelta(days=kefu.settings.privacy.retention_days + 1)
    report = await purge_expired(kefu.sessions, settings=kefu.settings, clock=lambda: later)
    assert report.messages_deleted > 0
    async with kefu.sessions() as session:
        assert (await session.execute(select(CaseEvent.message_id).where(
            CaseEvent.id == event.id))).scalar_one() is None
