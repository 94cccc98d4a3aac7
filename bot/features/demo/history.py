"""Two quarters of plausible history for the demo: conversations, cases, ratings.

Visitors ``demo-history-NNNN`` talk to the bot on every channel; some complain, suggest or ask
for a person, and agents answer, close and get rated. The desk gets better from the previous
quarter to this one, so a newcomer's first `kefu report` tells a story. Deterministic (a
seeded random generator) and idempotent: it does nothing when the history is already there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage import members as member_store
from bot.core.storage.models import ChannelIdentity, Conversation, Message
from bot.core.storage.models_cases import Case, CaseEvent
from bot.features.cases import store as case_store
from bot.features.cases.calendar import BusinessCalendar
from bot.features.cases.settings import as_priority
from bot.features.cases.sla import calendar_for, deadlines, zone_of
from bot.features.kpis import periods
from bot.settings import Settings

SENDER = "demo-history-{:04d}"
CHANNELS = (("wechat", 5), ("web", 3), ("telegram", 2))
INTENTS = (("points_balance", 22), ("member_tier", 10), ("member_benefits", 8),
           ("points_expiry", 7), ("points_redeem", 7), ("store_hours", 9), ("store_location", 7),
           ("return_policy", 6), ("order_status", 6), ("greet", 10), ("thank", 6),
           ("out_of_scope", 8))
STORES = ("sh-jingan", "sh-xujiahui", "bj-sanlitun", "gz-tianhe", "sz-futian")
CATEGORIES = (("product", 5), ("service", 3), ("staff", 2), ("delivery", 2), ("other", 1))
PRIORITY = {"complaint": "high", "suggestion": "low", "chat": "normal"}


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


@dataclass
class _Plan:
    """The rows of the whole history, inserted in a few bulk statements."""

    identities: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # "conversation": index
    cases: list[dict[str, Any]] = field(default_factory=list)  # "conversation": index
    events: list[list[tuple[str, datetime, dict[str, Any]]]] = field(default_factory=list)
    per_day: dict[str, int] = field(default_factory=dict)


async def seed_history(session: AsyncSession, *, settings: Settings, now: datetime) -> int:
    """Seeds conversations from the start of the previous quarter until yesterday; returns
    how many conversations it created (0 when the history exists already)."""
    if await member_store.find_identity(session, channel="web",
                                        external_id=SENDER.format(0)) is not None:
        return 0
    zone = zone_of(settings.app.default_timezone)
    this_quarter = periods.quarter_of(now, zone)
    day = periods.previous(this_quarter, zone).start
    rng = random.Random(20261130)
    calendar = calendar_for(settings.cases)
    plan = _Plan()
    while day < now - timedelta(days=1):
        # The desk improved: this quarter's figures are better than the last one's.
        improved = day >= this_quarter.start
        for _ in range(rng.randint(3, 8)):
            channel = "web" if not plan.conversations else _pick(rng, CHANNELS)
            at = day + timedelta(minutes=rng.randint(60, 13 * 60))  # 09:00–22:00 in Shanghai
            _conversation(plan, rng, settings, calendar, channel=channel, at=at,
                          improved=improved, now=now)
        day += timedelta(days=1)
    await _insert(session, plan)
    return len(plan.conversations)


async def _ids(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    result = await session.execute(
        insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result.all()]


async def _insert(session: AsyncSession, plan: _Plan) -> None:
    def without(row: dict[str, Any], key: str) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k != key}

    identity_ids = await _ids(session, ChannelIdentity, plan.identities)
    # One identity per conversation: the plan's indexes of both are the same.
    conversation_ids = await _ids(session, Conversation, [
        {**without(row, "identity"), "identity_id": identity_ids[row["identity"]]}
        for row in plan.conversations])
    if plan.messages:
        await session.execute(insert(Message), [
            {**without(row, "conversation"),
             "conversation_id": conversation_ids[row["conversation"]]}
            for row in plan.messages])
    case_ids = await _ids(session, Case, [
        {**without(row, "conversation"), "conversation_id": conversation_ids[row["conversation"]],
         "identity_id": identity_ids[row["conversation"]]} for row in plan.cases])
    events = [{"case_id": case_id, "kind": kind, "data": data, "created_at": when}
              for case_id, planned in zip(case_ids, plan.events, strict=True)
              for kind, when, data in planned]
    if events:
        await session.execute(insert(CaseEvent), events)


def _conversation(plan: _Plan, rng: random.Random, settings: Settings,
                  calendar: BusinessCalendar, *, channel: str, at: datetime, improved: bool,
                  now: datetime) -> None:
    index = len(plan.conversations)
    plan.identities.append({"channel": channel, "external_id": SENDER.format(index),
                            "created_at": at, "last_seen_at": at})
    conversation: dict[str, Any] = {"identity": index, "channel": channel, "state": {},
                                    "started_at": at, "last_message_at": at}
    plan.conversations.append(conversation)
    moment = at
    for _ in range(rng.randint(1, 4)):
        intent = _pick(rng, INTENTS)
        outcome = None
        if intent == "out_of_scope" and rng.random() < (0.55 if improved else 0.75):
            outcome = "fallback"
        elif rng.random() < 0.04:
            outcome = "clarify"
        plan.messages.append({"conversation": index, "direction": "in", "channel": channel,
                              "text": "…", "intent": intent, "outcome": outcome,
                              "confidence": round(rng.uniform(0.5, 0.99), 2),
                              "created_at": moment})
        plan.messages.append({"conversation": index, "direction": "out", "channel": channel,
                              "text": "…", "created_at": moment})
        moment += timedelta(minutes=rng.randint(1, 5))
    roll = rng.random()
    kind = ("complaint" if roll < 0.12 else "suggestion" if roll < 0.17
            else "chat" if roll < 0.24 else None)
    if kind is None:
        return
    plan.messages.append({"conversation": index, "direction": "in", "channel": channel,
                          "text": "…", "created_at": moment,
                          "intent": "human_agent" if kind == "chat" else kind})
    zone = zone_of(settings.app.default_timezone)
    priority = as_priority(PRIORITY[kind])
    due = deadlines(settings.cases, calendar, priority=priority, channel=channel, start=moment,
                    zone=zone)
    # Minutes to the first answer and to the close, drawn around a median that improved.
    speed = 0.7 if improved else 1.0
    first = moment + timedelta(minutes=max(2.0, rng.lognormvariate(3.6, 1.0) * speed))
    closed = first + timedelta(hours=max(0.2, rng.lognormvariate(2.7, 0.9) * speed))
    if closed > now:
        return
    satisfied = 0.9 if improved else 0.8
    score = (rng.choice((4, 5)) if rng.random() < satisfied else rng.choice((1, 2, 3))) \
        if rng.random() < 0.55 else None
    prefix = case_store.number_prefix(moment.astimezone(zone).date())
    # Numbers from 9001 up: clear of the day's live cases, which count from 0001.
    plan.per_day[prefix] = plan.per_day.get(prefix, 9000) + 1
    plan.cases.append({
        "conversation": index, "number": f"{prefix}{plan.per_day[prefix]:04d}", "kind": kind,
        "category": None if kind == "chat" else _pick(rng, CATEGORIES),
        "description": "…", "store_code": rng.choice(STORES) if kind != "chat" else None,
        "priority": priority, "status": case_store.CLOSED, "channel": channel,
        "language": "zh-Hans", "timezone": zone.key, "created_at": moment, "updated_at": closed,
        "first_response_due_at": due.first_response, "resolution_due_at": due.resolution,
        "first_responded_at": first, "closed_at": closed, "resolution_code": "resolved",
        "csat_score": score, "csat_at": closed + timedelta(minutes=5) if score else None})
    events: list[tuple[str, datetime, dict[str, Any]]] = [
        ("created", moment, {"priority": priority, "kind": kind}), ("reply", first, {}),
        ("closed", closed, {"code": "resolved"})]
    if kind == "chat":
        reason = _pick(rng, (("asked", 6), ("misunderstood", 3), ("urgent", 1)))
        events.insert(1, ("queued", moment, {"reason": reason}))
    plan.events.append(events)
    conversation["last_message_at"] = closed
