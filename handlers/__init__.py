"""What the bot does for each intent; :func:`register_all` wires them into a registry."""

from __future__ import annotations

from bot.core.messages import UNSUBSCRIBED_EVENT
from bot.dialogue.commands import HELP, SET_LANGUAGE, START
from bot.dialogue.registry import Registry
from handlers import (
    binding,
    faq,
    help,
    language,
    membership,
    orders,
    platform,
    points,
    preferences,
    privacy,
    profile,
    redeem,
    smalltalk,
    survey,
)
from handlers.followup import Followup
from handlers.handoff import register_cases
from nlu import intents


def register_all(registry: Registry) -> Registry:
    registry.add(START, help.show_help)
    registry.add(HELP, help.show_help)
    registry.add(SET_LANGUAGE, language.set_language)
    registry.add(UNSUBSCRIBED_EVENT, platform.stop_messages)
    registry.add(intents.MEMBER_TIER, membership.show_tier, needs_member=True)
    registry.add(intents.MEMBER_BENEFITS, membership.show_benefits)
    registry.add(intents.MEMBER_UPGRADE, membership.show_upgrade, needs_member=True)
    registry.add(intents.POINTS_BALANCE, points.show_balance, needs_member=True)
    registry.add(intents.POINTS_HISTORY, points.show_history, needs_member=True)
    registry.add(intents.POINTS_EXPIRY, points.show_expiry, needs_member=True)
    # Member self-service: modules with forms or follow-ups register themselves.
    followup = Followup(registry)
    for module in (binding, redeem, profile, preferences, smalltalk, faq):
        module.register(registry, followup)
    registry.add(intents.ORDER_STATUS, orders.show_order_status)
    registry.add(intents.PRIVACY_REQUEST, privacy.explain_privacy)
    registry.add(privacy.CONFIRM, privacy.confirm_privacy_request, needs_member=True)
    registry.add(privacy.CANCEL, privacy.cancel_privacy_request)
    register_cases(registry)
    survey.register(registry)
    return registry
