"""Birthday and holiday greetings, at the configured local hour of each member's day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import OutboundMessage
from bot.features.proactive import store
from bot.features.proactive.greetings import Planner, valid_zone
from bot.features.proactive.quiet import release_at
from bot.features.proactive.templates import wechat_extra
from bot.outbox import store as outbox

log = logging.getLogger(__name__)
PURPOSE = "greeting"


async def send_greetings(
    *, sessions: async_sessionmaker[AsyncSession], planner: Planner,
    clock: Callable[[], datetime],
) -> int:
    """Queues today's greetings of every zone whose local time has reached ``send_at``.

    A zone's greetings are queued in one transaction that also marks the zone and day done,
    so later runs skip it; each message also carries a unique key (occasion, member, day), so
    a rerun after a crash or a second process never queues one twice. Returns how many were
    queued.
    """
    now = clock()
    proactive = planner.proactive()
    async with sessions() as session:
        zones = await store.member_zones(session)
    queued = 0
    for name in zones:
        zone = valid_zone(name)
        if zone is None:
            log.warning("members with the invalid time zone %r are not greeted", name)
            continue
        local = now.astimezone(zone)
        if local.time() < proactive.send_at:
            continue
        marker = f"proactive:greetings:{name}:{local.date().isoformat()}"
        async with sessions() as session, session.begin():
            if await store.is_marked(session, key=marker):
                continue
            not_before = release_at(now, zone, proactive)
            for greeting in await planner.plan(session, local.date(), zone=name):
                if greeting.skipped is not None or greeting.identity is None:
                    log.info("greeting %s skipped for member %d: %s", greeting.occasion,
                             greeting.member.id, greeting.skipped)
                    continue
                identity = greeting.identity
                added = await outbox.enqueue(
                    session, OutboundMessage(channel=identity.channel,
                                             recipient_id=identity.external_id,
                                             text=greeting.text),
                    identity_id=identity.id, now=now, purpose=PURPOSE, not_before=not_before,
                    dedupe_key=greeting.dedupe_key,
                    extra=wechat_extra(proactive, channel=identity.channel, purpose=PURPOSE,
                                       text=greeting.text, day=greeting.day,
                                       name=planner.directory.name(greeting.member) or ""))
                queued += added is not None
            await store.mark_done(session, key=marker, now=now)
    if queued:
        log.info("%d greeting(s) queued", queued)
    return queued
