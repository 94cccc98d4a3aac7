"""What the console pages show, shaped from cases, messages and members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.auth import Actor
from bot.console.labels import deadline_text
from bot.core.crypto import mask_name
from bot.core.errors import KefuError
from bot.core.storage.models import ChannelIdentity, Conversation, Member, Message
from bot.core.storage.models_cases import Agent, Case, CaseEvent
from bot.features.cases import store
from bot.features.cases.agents import all_agents
from bot.features.cases.service import Desk
from bot.features.cases.settings import as_priority
from bot.features.cases.sla import Urgency, minutes_left, urgency, zone_of
from bot.features.loyalty.service import member_standing
from bot.features.members.directory import Directory

PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
HISTORY_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Countdown:
    """The next deadline of a case and how close it is."""

    kind: str  # first_response | resolution | paused | closed
    due: datetime | None
    urgency: Urgency
    local: str  # the due time in the case's zone, for the tooltip
    # Business minutes left (negative: overdue), and whether the desk is open, i.e. whether
    # the clock is running right now.
    minutes: int = 0
    running: bool = False


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: Case
    customer: str
    assignee: str | None
    countdown: Countdown
    waiting_for_person: bool
    preview: str


def countdown(desk: Desk, case: Case, now: datetime) -> Countdown:
    zone = zone_of(case.timezone)
    if case.status == store.CLOSED:
        return Countdown("closed", None, "met", "")
    target = desk.settings.cases.target(as_priority(case.priority), case.channel)
    if case.first_responded_at is None:
        kind, due, total = "first_response", case.first_response_due_at, target.first_response
    else:
        kind, due, total = "resolution", case.resolution_due_at, target.resolution
    if due is None:
        return Countdown("paused", None, "paused", "")
    level = urgency(desk.calendar, due=due, now=now, zone=zone,
                    warn_before=desk.settings.cases.warn_before, target=total)
    return Countdown(kind, due, level, f"{due.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}",
                     minutes=minutes_left(desk.calendar, due, now, zone),
                     running=desk.calendar.is_open(now, zone))


def _sort_key(row: QueueRow) -> tuple[int, int, float, int]:
    due = row.countdown.due.timestamp() if row.countdown.due else float("inf")
    return (0 if row.countdown.urgency == "breached" else 1,
            PRIORITY_ORDER.get(row.case.priority, 9), due, row.case.id)


async def queue_rows(session: AsyncSession, *, desk: Desk, actor: Actor, sees_all: bool,
                     now: datetime, directory: Directory | None = None) -> list[QueueRow]:
    """The open cases this agent may see: their own and the unclaimed ones (or all)."""
    cases = await store.active_cases(session, assignee_id=None if sees_all else actor.agent_id)
    names = {a.id: a.display_name for a in await all_agents(session)}
    conversation_ids = {c.conversation_id for c in cases}
    statuses: dict[int, str] = {}
    if conversation_ids:
        result = await session.execute(select(Conversation.id, Conversation.status)
                                       .where(Conversation.id.in_(conversation_ids)))
        statuses = {int(i): str(s) for i, s in result.all()}
    identities = await _identities(session, {c.identity_id for c in cases})
    # A visitor who linked their membership after opening the case is a member now.
    member_of = {c.id: c.member_id or getattr(identities.get(c.identity_id), "member_id", None)
                 for c in cases}
    members = await _members(session, {m for m in member_of.values() if m is not None})
    rows = [QueueRow(case=c, customer=_customer(directory, members.get(member_of[c.id] or 0)),
                     assignee=names.get(c.assignee_id) if c.assignee_id else None,
                     countdown=countdown(desk, c, now),
                     waiting_for_person=statuses.get(c.conversation_id) == "queued",
                     preview=_preview(c.description))
            for c in cases]
    return sorted(rows, key=_sort_key)


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


VISITOR = "访客 Visitor"


def _customer(directory: Directory | None, member: Member | None) -> str:
    """The member as agents may see them in a list: masked name and member number; a sender
    who never linked a membership is a visitor (their platform id means nothing to people)."""
    if member is None:
        return VISITOR
    name = None
    if directory is not None and member.erased_at is None:
        try:
            name = mask_name(directory.name(member))
        except KefuError:  # a key Kefu no longer has: the number still says who it is
            name = None
    return f"{name} · {member.member_no}" if name else member.member_no


async def _members(session: AsyncSession, ids: set[int]) -> dict[int, Member]:
    if not ids:
        return {}
    result = await session.execute(select(Member).where(Member.id.in_(ids)))
    return {m.id: m for m in result.scalars()}


async def _identities(session: AsyncSession, ids: set[int]) -> dict[int, ChannelIdentity]:
    if not ids:
        return {}
    result = await session.execute(select(ChannelIdentity).where(ChannelIdentity.id.in_(ids)))
    return {i.id: i for i in result.scalars()}


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One line of the case page: a message in or out, a note, or something that happened."""

    at: datetime
    kind: str  # in | out | agent | note | event
    text: str
    channel: str = ""
    who: str = ""
    buttons: tuple[str, ...] = ()
    detail: dict[str, Any] | None = None
    order: int = 0  # the row's id: keeps stored order among equal times
    # An inbound message that was a button press: ``text`` is the button's label.
    pressed: bool = False


# What a chat page or a platform sends by itself when a chat opens: not the customer's words.
AUTOMATIC = frozenset({"/start"})


async def timeline(session: AsyncSession, *, case: Case) -> list[TimelineItem]:
    """The customer's whole history (every channel the member used) with this case's notes
    and events, oldest first."""
    identity_ids = [case.identity_id]
    if case.member_id is not None:
        bound = await session.execute(select(ChannelIdentity.id)
                                      .where(ChannelIdentity.member_id == case.member_id))
        identity_ids = sorted({case.identity_id, *(int(i) for i in bound.scalars())})
    result = await session.execute(
        select(Message).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.identity_id.in_(identity_ids))
        .order_by(Message.id.desc()).limit(HISTORY_LIMIT))
    messages = list(reversed(list(result.scalars())))
    events = await store.events_of(session, case_ids=[case.id])
    names = {a.id: a.display_name for a in await all_agents(session)}
    # Agent replies of every case, earlier ones included, so they never read as the bot's.
    replies = await session.execute(
        select(CaseEvent).where(CaseEvent.kind == "reply",
                                CaseEvent.message_id.in_([m.id for m in messages])))
    by_message = {e.message_id: e for e in replies.scalars()}
    items: list[TimelineItem] = []
    # Per conversation, the buttons last offered: a payload coming back reads as its label.
    offered: dict[int, dict[str, str]] = {}
    for m in messages:
        reply = by_message.get(m.id)
        text, pressed = m.text, False
        if m.direction == "in":
            kind = "in"
            if text.strip() in AUTOMATIC:
                continue
            label = offered.get(m.conversation_id, {}).get(text)
            if label is not None:
                text, pressed = label, True
        elif reply is not None:
            kind = "agent"
        else:
            kind = "out"
            if m.buttons:
                offered[m.conversation_id] = {str(b.get("payload", "")): str(b.get("title", ""))
                                              for b in m.buttons}
        items.append(TimelineItem(
            at=m.created_at, kind=kind, text=text, channel=m.channel,
            who=names.get(reply.agent_id or 0, "") if reply else "",
            buttons=tuple(b.get("title", "") for b in m.buttons or ()), order=m.id,
            pressed=pressed))
    items.extend(_event_item(e, names) for e in events if e.kind != "reply")
    # One turn or one action shares a timestamp: what the customer said, what it caused,
    # then what was sent back.
    rank = {"in": 0, "note": 1, "event": 1, "out": 2, "agent": 2}
    return sorted(items, key=lambda i: (i.at, rank[i.kind], i.order))


def _event_item(event: CaseEvent, names: dict[int, str]) -> TimelineItem:
    who = names.get(event.agent_id or 0, "")
    data = dict(event.data or {})
    for key in ("from", "to"):
        if isinstance(data.get(key), int):
            data[key] = names.get(data[key], "#" + str(data[key]))
    text = event.body or ""
    if event.kind in ("sla_warning", "sla_breach"):
        text = deadline_text(text)
    return TimelineItem(at=event.created_at, kind="note" if event.kind == "note" else "event",
                        text=text, who=who, detail={"event": event.kind, **data},
                        order=event.id)


async def member_card(session: AsyncSession, *, directory: Directory, case: Case,
                      settings: Any, now: datetime) -> dict[str, Any] | None:
    """Tier, points and masked personal data of the case's member (None for visitors)."""
    if case.member_id is None:
        return None
    member = await session.get(Member, case.member_id)
    if member is None:
        return None
    try:
        standing = await member_standing(session, member=member, settings=settings, now=now)
        card = directory.describe(standing, unmask=False)
    except KefuError:
        return {"id": member.member_no, "unavailable": True}
    result = await session.execute(select(ChannelIdentity.channel)
                                   .where(ChannelIdentity.member_id == member.id))
    card["channels"] = sorted({str(c) for c in result.scalars()})
    return card


async def agent_names(session: AsyncSession) -> dict[int, Agent]:
    return {a.id: a for a in await all_agents(session)}
