"""Greetings and promotions: consent on the member, opt-outs per channel, effective at once."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import to_simplified
from bot.core.messages import Button
from bot.core.storage import selfservice
from bot.core.storage.models import ChannelIdentity, Member
from bot.dialogue.forms import Form, Slot, active_form, affirmed, start_form, yes_no_buttons
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.privacy import requests
from handlers.followup import Followup
from nlu import intents

GREETINGS, PROMOTIONS = "greetings", "promotions"
TOPICS = (GREETINGS, PROMOTIONS)
EVERYWHERE = "all"
SUBSCRIBE_FORM = "subscribe"
UNSUBSCRIBE_FORM = "unsubscribe_confirm"
_WORDS = {
    GREETINGS: ("生日", "祝福", "问候", "节日", "greeting", "birthday", "wishes"),
    PROMOTIONS: ("促销", "优惠", "活动", "广告", "新品", "折扣", "营销", "promo", "offer", "sale",
                 "marketing", "advert", "news"),
}


def topics_in(text: str) -> list[str]:
    """Topics a message names (促销 → promotions); arguments "greetings"/"promotions" too."""
    words = to_simplified(text).lower()
    return [topic for topic in TOPICS
            if topic in words.split() or any(word in words for word in _WORDS[topic])]


def _consent(member: Member, topic: str) -> bool:
    return member.consent_greetings if topic == GREETINGS else member.consent_promotions


async def _set_consent(turn: Turn, member: Member, topic: str, value: bool) -> None:
    """Through the consent history, which is what proactive sends read."""
    await requests.record_consent(turn.session, member=member, kind=topic, granted=value,
                                  source=turn.inbound.channel, now=turn.now)


async def may_send(
    session: AsyncSession, *, identity: ChannelIdentity, member: Member | None, topic: str
) -> bool:
    """Whether a ``topic`` message may go to ``identity`` now (for scheduled sends)."""
    if identity.unsubscribed_at is not None or identity.undeliverable_reason:
        return False
    if member is None or not _consent(member, topic):
        return False
    return topic not in await selfservice.opted_out_topics(session, identity_id=identity.id)


def _label(turn: Turn, topics: list[str]) -> str:
    return turn.t("preferences.joiner").join(turn.t(f"preferences.topic_{t}") for t in topics)


def _channel(turn: Turn) -> str:
    key = f"channels.{turn.inbound.channel}"
    name = turn.t(key)
    return turn.inbound.channel if name == key else name


def needs_confirmation(turn: Turn) -> bool:
    """Free text the NLU is not sure enough about for an action that takes something away.

    Commands, button payloads and menu keys (all starting with "/") act at once; so does text
    understood with at least ``nlu.destructive_confidence``. ('; DROP TABLE messages; --
    reads as unsubscribe at 0.63.)
    """
    if turn.text.startswith("/") or turn.parse is None:
        return False
    return turn.parse.intent.confidence < turn.settings.nlu.destructive_confidence


async def stop_messages(turn: Turn, *, followup: Followup) -> None:
    """unsubscribe: stops the named topics (or all) on this channel at once, and says so;
    asks first when the request is free text the NLU is unsure of."""
    topics = topics_in(turn.argument or turn.text) or list(TOPICS)
    if needs_confirmation(turn):
        await start_form(turn, followup.form(UNSUBSCRIBE_FORM), values={"topics": topics})
        return
    await _stop(turn, topics, everywhere=turn.argument.strip().lower() == EVERYWHERE)


def _unsubscribe_prompt(turn: Turn, values: dict[str, Any]) -> dict[str, Any]:
    return {"topics": _label(turn, list(values["topics"])), "channel": _channel(turn)}


async def finish_unsubscribe(turn: Turn, values: dict[str, Any]) -> None:
    if not values.get("confirm"):
        turn.say(turn.t("preferences.unsubscribe_kept"))
        return
    await _stop(turn, [t for t in values["topics"] if t in TOPICS], everywhere=False)


async def _stop(turn: Turn, topics: list[str], *, everywhere: bool) -> None:
    form = active_form(turn)
    if form is not None and form.get("name") == UNSUBSCRIBE_FORM:
        # Asked plainly while the confirmation was pending: it is answered.
        state = turn.state()
        state.pop("form", None)
        turn.set_state(state)
    for topic in topics:
        await selfservice.opt_out(turn.session, identity_id=turn.identity.id, topic=topic,
                                  now=turn.now)
        if everywhere and turn.member is not None:
            await _set_consent(turn, turn.member, topic, False)
    label = _label(turn, topics)
    if everywhere and turn.member is not None:
        turn.say(turn.t("preferences.unsubscribed_everywhere", topics=label))
        return
    buttons: tuple[Button, ...] = ()
    if turn.member is not None:
        buttons = (Button(turn.t("preferences.everywhere_button"),
                          f"/{intents.UNSUBSCRIBE} {EVERYWHERE}"),)
    turn.say(turn.t("preferences.unsubscribed", topics=label, channel=_channel(turn)),
             buttons=buttons)


def parse_topics(turn: Turn, text: str) -> list[str] | None:
    if text.strip().lower().endswith(EVERYWHERE) or "都" in text or "both" in text.lower():
        return list(TOPICS)
    return topics_in(text) or None


def topic_buttons(turn: Turn) -> tuple[Button, ...]:
    return (Button(turn.t("preferences.topic_greetings"), f"/{intents.SUBSCRIBE} {GREETINGS}"),
            Button(turn.t("preferences.topic_promotions"), f"/{intents.SUBSCRIBE} {PROMOTIONS}"),
            Button(turn.t("preferences.both"), f"/{intents.SUBSCRIBE} {EVERYWHERE}"))


async def start_subscription(turn: Turn, *, followup: Followup) -> None:
    """subscribe: asks which messages, unless the message says it."""
    chosen = parse_topics(turn, turn.argument) if turn.argument else topics_in(turn.text)
    values: dict[str, Any] = {"topics": chosen} if chosen else {}
    await start_form(turn, followup.form(SUBSCRIBE_FORM), values=values)


async def finish_subscription(turn: Turn, values: dict[str, Any]) -> None:
    assert turn.member is not None
    topics = [t for t in values["topics"] if t in TOPICS]
    for topic in topics:
        await _set_consent(turn, turn.member, topic, True)
        await selfservice.opt_in(turn.session, identity_id=turn.identity.id, topic=topic)
    turn.say(turn.t("preferences.subscribed", topics=_label(turn, topics),
                    channel=_channel(turn)))


def register(registry: Registry, followup: Followup) -> None:
    registry.forms.add(Form(SUBSCRIBE_FORM, (
        Slot("topics", "preferences.ask_topics", parse_topics, invalid="preferences.bad_topic",
             buttons=topic_buttons),
    ), on_complete=finish_subscription))
    handler = functools.partial(start_subscription, followup=followup)
    registry.add(intents.SUBSCRIBE, functools.update_wrapper(handler, start_subscription),
                 needs_member=True)
    registry.forms.add(Form(UNSUBSCRIBE_FORM, (
        Slot("confirm", "preferences.ask_unsubscribe", affirmed, buttons=yes_no_buttons,
             prompt_values=_unsubscribe_prompt),
    ), on_complete=finish_unsubscribe))
    stop = functools.partial(stop_messages, followup=followup)
    registry.add(intents.UNSUBSCRIBE, functools.update_wrapper(stop, stop_messages))
