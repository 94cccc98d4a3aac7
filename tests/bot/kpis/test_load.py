"""The fixture quarter written to the database (both backends) and read back: same KPIs.

Rows just outside the quarter are written too, and must not count.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity, Conversation, Message
from bot.core.storage.models_cases import Case, CaseEvent
from bot.features.kpis.compute import compute
from bot.features.kpis.load import load_rows
from tests.bot.kpis.fixture import AS_OF, CASES, CONVERSATIONS, EXPECTED, HANDOFFS, MESSAGES
from tests.bot.kpis.test_compute import Q4, TWO_HOURS

CHANNEL_OF = {1: "web", 2: "wechat", 3: "web", 4: "web", 5: "web", 7: "web", 8: "web",
              9: "telegram", 10: "web"}
INSIDE = Q4.start + timedelta(days=40)


async def write_fixture(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        conversation_ids: dict[int, int] = {}
        for number, channel in CHANNEL_OF.items():
            identity = ChannelIdentity(channel=channel, external_id=f"kpi-{number}")
            session.add(identity)
            await session.flush()
            conversation = Conversation(identity_id=identity.id, channel=channel, state={},
                                        started_at=INSIDE, last_message_at=INSIDE)
            session.add(conversation)
            await session.flush()
            conversation_ids[number] = conversation.id
        active = {row.id for row in CONVERSATIONS}
        # One inbound message in each active conversation carries the counted rows; the
        # rest of each MessageCount goes to the first active conversation of its channel.
        first_of = {channel: min(n for n in active if CHANNEL_OF[n] == channel)
                    for channel in ("web", "wechat", "telegram")}
        for row in MESSAGES:
            for _ in range(row.count):
                session.add(Message(conversation_id=conversation_ids[first_of[row.channel]],
                                    direction=row.direction, channel=row.channel,
                                    text="…", intent=row.intent, outcome=row.outcome,
                                    created_at=INSIDE))
        await session.flush()
        # Active conversations without counted inbound messages still need one inbound in
        # the quarter: an outbound-only reply would not make them active, so they get an
        # inbound message at the quarter's very start (counted in messages_in below).
        extra = sorted(active - set(first_of.values()))
        for number in extra:
            session.add(Message(conversation_id=conversation_ids[number], direction="in",
                                channel=CHANNEL_OF[number], text="hi", intent=None,
                                created_at=Q4.start))
        # Outside the quarter: ignored.
        session.add(Message(conversation_id=conversation_ids[4], direction="in", channel="web",
                            text="late", intent="greet", created_at=Q4.end))
        session.add(Message(conversation_id=conversation_ids[4], direction="in", channel="web",
                            text="early", intent="greet",
                            created_at=Q4.start - timedelta(seconds=1)))
        case_ids: dict[int, int] = {}
        for row in CASES:
            identity_id = (await session.get(Conversation,
                                             conversation_ids[row.conversation_id])).identity_id
            case = Case(number=f"C-20261102-{row.id:04d}", kind=row.kind, category=row.category,
                        store_code=row.store, priority="high", status="closed"
                        if row.closed_at else "new", channel=row.channel,
                        identity_id=identity_id,
                        conversation_id=conversation_ids[row.conversation_id],
                        timezone="Asia/Shanghai", created_at=row.created_at,
                        updated_at=row.created_at, first_responded_at=row.first_responded_at,
                        first_response_due_at=row.first_response_due_at,
                        closed_at=row.closed_at, resolution_due_at=row.resolution_due_at,
                        resolution_left=row.resolution_left,
                        resolution_code=row.resolution_code, csat_score=row.csat_score)
            session.add(case)
            await session.flush()
            case_ids[row.id] = case.id
        session.add(Case(number="C-20260930-0001", kind="complaint", priority="high",
                         channel="web", identity_id=identity_id,
                         conversation_id=conversation_ids[8], timezone="Asia/Shanghai",
                         created_at=Q4.start - timedelta(seconds=1)))
        for handoff in HANDOFFS:
            case_id = case_ids[5] if handoff.channel == "web" else case_ids[2]
            session.add(CaseEvent(case_id=case_id, kind="queued", created_at=handoff.at,
                                  data={"reason": handoff.reason}))
        session.add(CaseEvent(case_id=case_ids[5], kind="queued", created_at=Q4.end,
                              data={"reason": "asked"}))


async def test_the_database_gives_the_hand_computed_kpis(kefu: Kefu) -> None:
    await write_fixture(kefu)
    async with transaction(kefu.sessions) as session:
        rows = await load_rows(session, period=Q4)
    result = compute(rows, period=Q4, as_of=AS_OF, complaint_target=TWO_HOURS)
    extra_inbound = 8 - 3  # active conversations beyond the three carrying counted rows
    for name, expected in EXPECTED.items():
        if name == "messages_in":
            expected = float(expected or 0) + extra_inbound
        assert result.values[name] == pytest.approx(expected), name
    assert result.handoff_reasons == [("asked", 2), ("misunderstood", 1), ("urgent", 1)]
    assert result.complaints_by_store == [("sh-jingan", 3), ("bj-sanlitun", 1)]
