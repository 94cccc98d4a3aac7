"""After-sales surveys: N days after a purchase (per store), one short 1-5 question."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.messages import OutboundMessage
from bot.core.storage.conversations import current_conversation
from bot.features.cases.csat import rating_buttons
from bot.features.proactive import consent, store
from bot.features.proactive.greetings import Planner, choose_identity, valid_zone
from bot.features.proactive.quiet import release_at
from bot.features.proactive.surveys import start_survey, unsurveyed_purchases
from bot.features.proactive.templates import wechat_extra
from bot.outbox import store as outbox
from bot.settings import localized
from handlers.survey import ask_state

log = logging.getLogger(__name__)
PURPOSE = "survey"


async def send_surveys(
    *, sessions: async_sessionmaker[AsyncSession], planner: Planner,
    clock: Callable[[], datetime],
) -> int:
    """Asks about each purchase whose survey day has come (and not gone by more than
    ``lookback_days``), once per purchase (a unique survey row). Returns how many."""
    now = clock()
    proactive = planner.proactive()
    settings = proactive.survey
    if not settings.enabled:
        return 0
    shortest = min([settings.after_days, *settings.per_store.values()])
    longest = max([settings.after_days, *settings.per_store.values()])
    asked = 0
    async with sessions() as session, session.begin():
        purchases = await unsurveyed_purchases(
            session, since=now - timedelta(days=longest + settings.lookback_days),
            until=now - timedelta(days=shortest))
        due = [p for p in purchases
               if now - timedelta(days=settings.days_for(p.store_code) + settings.lookback_days)
               <= p.occurred_at <= now - timedelta(days=settings.days_for(p.store_code))]
        member_ids = {p.member_id for p in due}
        members = {m.id: m for m in await store.members(session, ids=member_ids)}
        consented = await consent.consenting(session, member_ids=member_ids,
                                             kind=consent.GREETINGS)
        identities = await store.identities_by_member(session, member_ids=member_ids)
        opted_out = await store.opt_outs(
            session, identity_ids=[i.id for found in identities.values() for i in found])
        for purchase in due:
            member = members.get(purchase.member_id)
            if member is None or member.id not in consented:
                continue
            zone = valid_zone(member.timezone)
            identity = choose_identity(
                member=member, identities=identities.get(member.id, []),
                channels=proactive.channels, deliverable=planner.deliverable,
                topic=consent.GREETINGS, opted_out=opted_out)
            if zone is None or identity is None:
                continue
            survey_id = await start_survey(session, purchase=purchase, identity_id=identity.id,
                                           now=now)
            if survey_id is None:
                continue
            language = identity.language or member.language
            t = planner.translator
            store_name = next((localized(s.names, language) for s in planner.settings.stores
                               if s.code == purchase.store_code), purchase.store_code or "")
            day = purchase.occurred_at.astimezone(zone).date()
            text = t.text(language, "proactive.survey_ask",
                          name=planner.directory.name(member)
                          or t.text(language, "proactive.dear_member"),
                          day=t.format_date(language, day), store=store_name)
            buttons = rating_buttons(functools.partial(t.text, language))
            conversation = await current_conversation(session, identity=identity, now=now)
            state = dict(conversation.state or {})
            state.update(ask_state(survey_id, now.isoformat()))
            # Where buttons become a numbered list (WeChat), a typed number picks a rating.
            state["choices"] = [b.payload for b in buttons]
            conversation.state = state
            await outbox.enqueue(
                session, OutboundMessage(identity.channel, identity.external_id, text,
                                         buttons=buttons),
                identity_id=identity.id, now=now, purpose=PURPOSE,
                not_before=release_at(now, zone, proactive), dedupe_key=f"survey:{purchase.id}",
                extra=wechat_extra(proactive, channel=identity.channel, purpose=PURPOSE,
                                   text=text, day=day,
                                   name=planner.directory.name(member) or ""))
            asked += 1
    return asked
