"""What can happen to a case: opened, queued, claimed, answered, paused, closed.

Every change runs inside the caller's transaction; messages to the customer are recorded and
put in the outbox in that same transaction, so none is sent for a change that rolled back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.core.messages import Button, OutboundMessage, with_numbered_choices
from bot.core.storage import conversations
from bot.core.storage.models import ChannelIdentity, Conversation, Member, Message
from bot.core.storage.models_cases import Agent, Case
from bot.features.alerts import oncall
from bot.features.cases import store
from bot.features.cases.agents import agents_online
from bot.features.cases.calendar import BusinessCalendar
from bot.features.cases.csat import ask_state, rating_buttons
from bot.features.cases.errors import (
    AlreadyClaimedError,
    CaseClosedError,
    CaseError,
    ReplyBlockedError,
)
from bot.features.cases.priority import priority_for
from bot.features.cases.sla import (
    calendar_for,
    case_zone,
    deadlines,
    minutes_left,
    resume_due,
    zone_of,
)
from bot.features.cases.sla_marks import mark
from bot.outbox import store as outbox
from bot.outbox.windows import refusal
from bot.settings import Settings

# Channels whose platform limits when a business may write (see bot/outbox/windows.py).
WINDOWED_CHANNELS = frozenset({"wechat"})
BOT, QUEUED, WITH_AGENT = "bot", "queued", "agent"
# How a case ended; reports group by these.
RESOLUTION_CODES = ("resolved", "refund", "replacement", "explained", "no_action", "duplicate")


@dataclass(frozen=True, slots=True)
class NewCase:
    """What the customer told us; the desk adds number, priority and deadlines."""

    kind: str
    description: str
    category: str | None = None
    order_id: str | None = None
    store_code: str | None = None


@dataclass(frozen=True, slots=True)
class QueueInfo:
    case: Case
    position: int
    # Minutes until an agent is expected, while the desk is open; else when it opens.
    wait_minutes: int | None
    opens_at: datetime | None
    zone: ZoneInfo


class Desk:
    """Case operations with the settings, text and calendar they need."""

    __slots__ = ("calendar", "no_buttons", "settings", "translator")

    def __init__(self, settings: Settings, translator: Translator, *,
                 no_buttons: frozenset[str] = frozenset()) -> None:
        self.settings = settings
        self.translator = translator
        # Channels that show no buttons: choices are written out as a numbered list.
        self.no_buttons = no_buttons
        self.calendar: BusinessCalendar = calendar_for(settings.cases)

    # -- opening -------------------------------------------------------------------------

    async def open_case(
        self, session: AsyncSession, *, new: NewCase, identity: ChannelIdentity,
        conversation: Conversation, member: Member | None, language: str, now: datetime,
    ) -> Case:
        priority = priority_for(new.kind, new.description, self.settings.cases.urgent_words)
        zone_name = case_zone(self.settings, store_code=new.store_code,
                              member_timezone=member.timezone if member else None)
        zone = zone_of(zone_name)
        due = deadlines(self.settings.cases, self.calendar, priority=priority,
                        channel=identity.channel, start=now, zone=zone)
        case = await store.add_case(session, day=now.astimezone(zone).date(), values={
            "kind": new.kind, "category": new.category, "description": new.description,
            "order_id": new.order_id, "store_code": new.store_code, "priority": priority,
            "status": store.NEW, "channel": identity.channel, "identity_id": identity.id,
            "conversation_id": conversation.id, "member_id": member.id if member else None,
            "language": language, "timezone": zone_name, "created_at": now, "updated_at": now,
            "first_response_due_at": due.first_response, "resolution_due_at": due.resolution,
        })
        self._mark(case, now)
        await store.add_event(session, case=case, kind="created", now=now,
                              data={"priority": priority, "kind": new.kind})
        if priority == "urgent":  # on-call hears of it now, business hours or not
            await oncall.urgent_case(session, self.settings, self.translator, case=case, now=now)
        return case

    async def enter_queue(
        self, session: AsyncSession, *, identity: ChannelIdentity, conversation: Conversation,
        member: Member | None, language: str, reason: str, text: str, now: datetime,
    ) -> QueueInfo:
        """Puts the conversation in the queue for a person, reusing its open case if any."""
        case = await store.active_case_of_conversation(session, conversation_id=conversation.id)
        if case is None:
            if text.startswith("/"):  # a button: what the customer last wrote says more
                text = await _last_words(session, conversation)
            case = await self.open_case(
                session, new=NewCase(kind=store.CHAT, description=text), identity=identity,
                conversation=conversation, member=member, language=language, now=now)
        if conversation.status == BOT:
            conversation.status = WITH_AGENT if case.assignee_id is not None else QUEUED
            await store.add_event(session, case=case, kind="queued", now=now,
                                  data={"reason": reason})
        return await self.queue_info(session, case=case, now=now)

    async def queue_info(self, session: AsyncSession, *, case: Case, now: datetime) -> QueueInfo:
        zone = zone_of(case.timezone)
        position = int(await session.scalar(
            select(func.count()).select_from(Case)
            .join(Conversation, Conversation.id == Case.conversation_id)
            .where(Case.status == store.NEW, Conversation.status == QUEUED, Case.id <= case.id))
            or 0)
        position = max(position, 1)
        if not self.calendar.is_open(now, zone):
            return QueueInfo(case, position, None, self.calendar.next_open(now, zone), zone)
        handoff = self.settings.cases.handoff
        online = await agents_online(session, now=now,
                                     within=timedelta(minutes=handoff.online_minutes))
        wait = math.ceil(position * handoff.minutes_per_chat / max(online, 1))
        return QueueInfo(case, position, wait, None, zone)

    # -- agents take it ------------------------------------------------------------------

    async def claim(self, session: AsyncSession, *, case: Case, agent: Agent,
                    now: datetime) -> None:
        _not_closed(case)
        if case.assignee_id is not None and case.assignee_id != agent.id:
            raise AlreadyClaimedError(f"case {case.number} is already taken by another agent")
        if case.assignee_id == agent.id:
            return
        await self._give(session, case=case, to=agent, by=agent, kind="claimed", now=now)

    async def assign(self, session: AsyncSession, *, case: Case, to: Agent, by: Agent,
                     now: datetime, kind: str = "assigned", note: str | None = None) -> None:
        _not_closed(case)
        if not to.active:
            raise CaseError(f"{to.display_name} is deactivated; choose an active agent")
        if case.assignee_id == to.id:
            raise CaseError(f"case {case.number} is already with {to.display_name}")
        await self._give(session, case=case, to=to, by=by, kind=kind, now=now, note=note)

    async def _give(self, session: AsyncSession, *, case: Case, to: Agent, by: Agent, kind: str,
                    now: datetime, note: str | None = None) -> None:
        previous = case.assignee_id
        case.assignee_id = to.id
        if case.status == store.NEW:
            case.status = store.OPEN
        case.updated_at = now
        await store.add_event(session, case=case, kind=kind, agent_id=by.id, body=note,
                              now=now, data={"from": previous, "to": to.id})
        conversation = await _conversation(session, case)
        first_time = conversation.status != WITH_AGENT
        conversation.status = WITH_AGENT
        if first_time or previous is not None:
            await self.tell_customer(session, case=case, now=now, text=self._text(
                case, "cases.agent_joined", agent=to.display_name, number=case.number))

    # -- talking ---------------------------------------------------------------------------

    async def reply(self, session: AsyncSession, *, case: Case, agent: Agent, text: str,
                    now: datetime) -> Message:
        """Sends the agent's answer through the customer's own channel (via the outbox)."""
        _not_closed(case)
        body = text.strip()
        if not body:
            raise CaseError("the reply is empty; write something to send")
        limit = self.settings.console.max_reply_chars
        if len(body) > limit:
            raise CaseError(f"the reply has {len(body)} characters; the limit is {limit}")
        identity = await _identity(session, case)
        if case.channel in WINDOWED_CHANNELS:
            why = refusal(identity, now)
            if why is not None:
                raise ReplyBlockedError(
                    f"{case.channel} does not allow this message now ({why}). The platform only "
                    "lets us write within 48 hours of the customer's last message (at most 5 "
                    "messages); wait for the customer to write again, or reach them another way.")
        if case.assignee_id is None:
            case.assignee_id = agent.id
            case.status = store.OPEN
        message = await self.tell_customer(session, case=case, text=body, now=now,
                                           purpose="agent")
        if case.first_responded_at is None:
            case.first_responded_at = now
            self._mark(case, now)
        case.updated_at = now
        (await _conversation(session, case)).status = WITH_AGENT
        await store.add_event(session, case=case, kind="reply", agent_id=agent.id,
                              message_id=message.id, now=now)
        return message

    async def note(self, session: AsyncSession, *, case: Case, agent: Agent, text: str,
                   now: datetime) -> None:
        body = text.strip()
        if not body:
            raise CaseError("the note is empty")
        if len(body) > self.settings.console.max_reply_chars:
            raise CaseError(f"the note is longer than {self.settings.console.max_reply_chars} "
                            "characters")
        case.updated_at = now
        await store.add_event(session, case=case, kind="note", agent_id=agent.id, body=body,
                              now=now)

    async def tell_customer(self, session: AsyncSession, *, case: Case, text: str,
                            now: datetime, buttons: tuple[Button, ...] = (),
                            purpose: str = "agent") -> Message:
        identity = await _identity(session, case)
        conversation = await _conversation(session, case)
        if buttons and case.channel in self.no_buttons:
            # What the customer sees there, and the numbers their answer may be.
            text = with_numbered_choices(text, buttons, self._text(case, "choices.header"))
            buttons = ()
        message = await conversations.record_outbound(
            session, conversation=conversation, channel=case.channel, reply_to_id=None,
            text=text, buttons=[{"title": b.title, "payload": b.payload} for b in buttons] or None,
            now=now)
        await outbox.enqueue(
            session, OutboundMessage(case.channel, identity.external_id, text, buttons),
            identity_id=identity.id, now=now, message_id=message.id, purpose=purpose)
        return message

    # -- the SLA clock ---------------------------------------------------------------------

    async def wait_for_customer(self, session: AsyncSession, *, case: Case, agent: Agent,
                                now: datetime) -> None:
        """Pauses the deadlines: the next step is the customer's."""
        _not_closed(case)
        if case.status == store.PENDING:
            return
        zone = zone_of(case.timezone)
        if case.first_responded_at is None and case.first_response_due_at is not None:
            case.first_response_left = max(0, minutes_left(
                self.calendar, case.first_response_due_at, now, zone))
            case.first_response_due_at = None
        if case.resolution_due_at is not None:
            case.resolution_left = max(0, minutes_left(self.calendar, case.resolution_due_at,
                                                       now, zone))
            case.resolution_due_at = None
        case.paused_at = now
        case.status = store.PENDING
        case.updated_at = now
        self._mark(case, now)
        await store.add_event(session, case=case, kind="waiting", agent_id=agent.id, now=now)

    async def customer_wrote(self, session: AsyncSession, *, case: Case, now: datetime) -> None:
        """The customer answered: a paused clock runs again with the time it had left."""
        if case.status != store.PENDING:
            return
        zone = zone_of(case.timezone)
        if case.first_response_left is not None and case.first_responded_at is None:
            case.first_response_due_at = resume_due(self.calendar, case.first_response_left,
                                                    now, zone)
        if case.resolution_left is not None:
            case.resolution_due_at = resume_due(self.calendar, case.resolution_left, now, zone)
        case.first_response_left = case.resolution_left = None
        case.paused_at = None
        case.status = store.OPEN
        case.updated_at = now
        self._mark(case, now)
        await store.add_event(session, case=case, kind="resumed", now=now)

    # -- the end ---------------------------------------------------------------------------

    async def close(self, session: AsyncSession, *, case: Case, agent: Agent, code: str,
                    now: datetime, ask_csat: bool = True) -> None:
        """Closes the case; the bot takes the conversation back and asks for a rating."""
        _not_closed(case)
        if code not in RESOLUTION_CODES:
            raise CaseError(f"resolution code {code!r} is unknown; use one of "
                            f"{', '.join(RESOLUTION_CODES)}")
        case.status = store.CLOSED
        case.closed_at = now
        case.resolution_code = code
        case.updated_at = now
        self._mark(case, now)
        await store.add_event(session, case=case, kind="closed", agent_id=agent.id, now=now,
                              data={"code": code})
        conversation = await _conversation(session, case)
        await self.release(session, conversation=conversation)
        if ask_csat:
            buttons = rating_buttons(lambda key: self._text(case, key))
            state = dict(conversation.state or {})
            state.update(ask_state(case, now))
            # Where buttons become a numbered list (WeChat), a typed number picks one of the
            # choices last offered: these ratings are those choices now.
            state["choices"] = [b.payload for b in buttons]
            conversation.state = state
            await self.tell_customer(
                session, case=case, now=now, purpose="csat",
                text=self._text(case, "cases.closed", number=case.number) + "\n"
                + self._text(case, "csat.ask"), buttons=buttons)

    async def release(self, session: AsyncSession, *, conversation: Conversation) -> None:
        """Gives the conversation back to the bot unless an agent still has a case on it."""
        owned = await store.owned_cases_of_conversation(session,
                                                        conversation_id=conversation.id)
        conversation.status = WITH_AGENT if owned else BOT

    def _mark(self, case: Case, now: datetime) -> None:
        """Keeps the case's next SLA instants in step with its deadlines."""
        mark(case, calendar=self.calendar, warn_before=self.settings.cases.warn_before, now=now)

    def _text(self, case: Case, key: str, **values: object) -> str:
        return self.translator.text(case.language, key, **values)


async def _last_words(session: AsyncSession, conversation: Conversation) -> str:
    recent = await conversations.history(session, conversation_id=conversation.id, limit=20)
    typed = [m.text for m in recent if m.direction == "in" and not m.text.startswith("/")]
    return typed[-1] if typed else ""


def _not_closed(case: Case) -> None:
    if case.status == store.CLOSED:
        raise CaseClosedError(f"case {case.number} is closed; nothing more can be sent or "
                              "changed on it")


async def _identity(session: AsyncSession, case: Case) -> ChannelIdentity:
    identity = await session.get(ChannelIdentity, case.identity_id)
    assert identity is not None  # foreign key
    return identity


async def _conversation(session: AsyncSession, case: Case) -> Conversation:
    conversation = await session.get(Conversation, case.conversation_id)
    assert conversation is not None  # foreign key
    return conversation
