"""Points reminders: members are told N days before a lot of theirs lapses, once per lot."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import OutboundMessage
from bot.core.storage.models import Member
from bot.features.loyalty.ledger import ledger_entries
from bot.features.loyalty.points import summarise
from bot.features.proactive import consent, store
from bot.features.proactive.greetings import Planner, choose_identity, valid_zone
from bot.features.proactive.quiet import release_at
from bot.features.proactive.templates import wechat_extra
from bot.outbox import store as outbox

log = logging.getLogger(__name__)
PURPOSE = "points_reminder"


def reminder_key(member_id: int, expires_on: date, channel: str) -> str:
    """Lots lapsing on one day are told together, once per channel."""
    return f"lapse:{member_id}:{expires_on.isoformat()}:{channel}"


async def remind_expiring_points(
    *, sessions: async_sessionmaker[AsyncSession], planner: Planner,
    clock: Callable[[], datetime],
) -> int:
    """Queues a reminder for every lot lapsing within ``points_reminder_days`` (a lapse
    missed while Kefu was down is still told if its day has not passed). Returns how many."""
    now = clock()
    proactive = planner.proactive()
    days = proactive.points_reminder_days
    if days == 0:
        return 0
    async with sessions() as session:
        zones = await store.member_zones(session)
    queued = 0
    for name in zones:
        zone = valid_zone(name)
        if zone is None:
            continue
        local = now.astimezone(zone)
        if local.time() < proactive.send_at:
            continue
        marker = f"proactive:points:{name}:{local.date().isoformat()}"
        async with sessions() as session, session.begin():
            if await store.is_marked(session, key=marker):
                continue
            members = await store.members(session, zone=name)
            ids = [m.id for m in members]
            consented = await consent.consenting(session, member_ids=ids,
                                                 kind=consent.GREETINGS)
            identities = await store.identities_by_member(session, member_ids=ids)
            opted_out = await store.opt_outs(
                session, identity_ids=[i.id for found in identities.values() for i in found])
            not_before = release_at(now, zone, proactive)
            for member in members:
                if member.id not in consented:
                    continue
                identity = choose_identity(
                    member=member, identities=identities.get(member.id, []),
                    channels=proactive.channels, deliverable=planner.deliverable,
                    topic=consent.GREETINGS, opted_out=opted_out)
                if identity is None:
                    continue
                for expires_on, points in (await _lapsing(session, member, local.date(),
                                                          days, zone)).items():
                    language = identity.language or member.language
                    text = planner.translator.text(
                        language, "proactive.points_reminder",
                        name=planner.directory.name(member)
                        or planner.translator.text(language, "proactive.dear_member"),
                        points=f"{points:,}",
                        day=planner.translator.format_date(language, expires_on))
                    added = await outbox.enqueue(
                        session, OutboundMessage(identity.channel, identity.external_id, text),
                        identity_id=identity.id, now=now, purpose=PURPOSE,
                        not_before=not_before,
                        dedupe_key=reminder_key(member.id, expires_on, identity.channel),
                        extra=wechat_extra(proactive, channel=identity.channel, purpose=PURPOSE,
                                           text=text, day=expires_on,
                                           name=planner.directory.name(member) or ""))
                    queued += added is not None
            await store.mark_done(session, key=marker, now=now)
    return queued


async def _lapsing(session: AsyncSession, member: Member, today: date, days: int,
                   zone: ZoneInfo) -> dict[date, int]:
    summary = summarise(await ledger_entries(session, member_id=member.id, zone=zone),
                        today=today)
    by_day: dict[date, int] = defaultdict(int)
    for lot in summary.lots:
        if lot.remaining > 0 and today <= lot.expires_on <= today + timedelta(days=days):
            by_day[lot.expires_on] += lot.remaining
    return dict(by_day)
