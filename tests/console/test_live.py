"""Live updates: the console's event stream and the web chat's message stream."""

from collections.abc import AsyncIterator
from datetime import timedelta

from bot.app import Kefu
from bot.console import sessions
from bot.console.auth import Actor
from bot.console.live import console_stream
from bot.core.storage.db import transaction
from bot.features.cases import store
from bot.outbox.web_delivery import take_pending
from bot.server.routes.web_stream import web_messages
from tests.cases.helpers import Clock, add_agent, dialogue, file_complaint, say
from tests.cases.test_handoff import act
from tests.conftest import FIXED_NOW


class Ticks:
    """``is_disconnected`` that lets a stream run ``n`` rounds."""

    def __init__(self, n: int) -> None:
        self.left = n

    async def __call__(self) -> bool:
        self.left -= 1
        return self.left < 0


async def actor_for(kefu: Kefu, role: str = "agent") -> Actor:
    agent = await add_agent(kefu, email=f"{role}@kefu.test", role=role)
    async with transaction(kefu.sessions) as session:
        _token, row = await sessions.start_session(session, agent_id=agent.id, now=FIXED_NOW,
                                                   lifetime=timedelta(hours=12))
    return Actor(agent.id, agent.email, agent.display_name, role, row.csrf_token, row.id)


async def collect(stream: AsyncIterator[str]) -> list[str]:
    return [chunk async for chunk in stream]


def stream(kefu: Kefu, actor: Actor, rounds: int) -> AsyncIterator[str]:
    return console_stream(kefu.sessions, actor=actor, clock=lambda: FIXED_NOW,
                          idle=timedelta(hours=2), interval=0, disconnected=Ticks(rounds))


async def test_a_new_customer_message_is_announced(kefu: Kefu) -> None:
    actor = await actor_for(kefu)
    d = dialogue(kefu, Clock())
    events = stream(kefu, actor, 5)
    assert await anext(events) == "retry: 3000\n\n"
    first = await anext(events)
    assert first.startswith("event: changed")
    await say(d, "/human_agent")  # a case and messages appear meanwhile
    second = await anext(events)
    assert second.startswith("event: changed") and second != first
    rest = await collect(events)
    assert not any(chunk.startswith("event: changed") for chunk in rest)  # nothing new since


async def test_sla_notifications_reach_the_right_people(kefu: Kefu) -> None:
    agent = await actor_for(kefu, "agent")
    supervisor = await actor_for(kefu, "supervisor")
    case = await file_complaint(kefu, dialogue(kefu, Clock()))
    agent_events, supervisor_events = stream(kefu, agent, 3), stream(kefu, supervisor, 3)
    await anext(agent_events), await anext(supervisor_events)
    await anext(agent_events), await anext(supervisor_events)
    async with transaction(kefu.sessions) as session:
        found = await store.get_case(session, case_id=case.id)
        assert found is not None
        await store.add_event(session, case=found, kind="sla_breach", now=FIXED_NOW,
                              body="first_response 11-23 16:00",
                              data={"to_role": "supervisor"})
    to_agent = await collect(agent_events)
    to_supervisor = await collect(supervisor_events)
    assert not any("event: notify" in chunk for chunk in to_agent)
    assert any("event: notify" in chunk and case.number in chunk for chunk in to_supervisor)


async def test_the_stream_ends_when_the_session_does(kefu: Kefu) -> None:
    actor = await actor_for(kefu)
    events = stream(kefu, actor, 10)
    await anext(events), await anext(events)
    async with transaction(kefu.sessions) as session:
        row = await session.get(sessions.AgentSession, actor.session_id)
        assert row is not None
        await sessions.revoke(session, row=row, now=FIXED_NOW)
    assert (await collect(events))[-1].startswith("event: signed_out")


async def test_agent_replies_reach_the_web_chat_once(kefu: Kefu) -> None:
    agent = await add_agent(kefu)
    d = dialogue(kefu, Clock())
    case = await file_complaint(kefu, d, sender="visitor-1")
    await act(kefu, case.id, agent, "claim")
    await act(kefu, case.id, agent, "reply", text="您好，我来处理")

    class Request:
        def __init__(self) -> None:
            self.is_disconnected = Ticks(2)

    chunks = await collect(web_messages(kefu, sender="visitor-1", clock=lambda: FIXED_NOW,
                                        request=Request(), interval=0))  # type: ignore[arg-type]
    messages = [c for c in chunks if c.startswith("id:")]
    assert len(messages) == 2
    assert '"purpose": "agent"' in messages[0] and "李华" in messages[0]
    assert '"text": "您好，我来处理"' in messages[1]
    async with transaction(kefu.sessions) as session:
        assert await take_pending(session, recipient_id="visitor-1", now=FIXED_NOW) == []
        # Another visitor's stream never sees them.
        assert await take_pending(session, recipient_id="visitor-2", now=FIXED_NOW) == []
