"""The text of a greeting: the operator's text from config, else the locale file's."""

from __future__ import annotations

import string
from typing import Any

from bot.core.i18n import Translator
from bot.features.proactive.settings import BIRTHDAY, ProactiveSettings
from bot.settings import Settings, localized

_BIRTHDAY_WORDS = ("生日", "birthday")


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: dict[str, Any]) -> str:
    return string.Formatter().vformat(template, (), _Keep(values))


def birthday_benefit(settings: Settings, proactive: ProactiveSettings, tier: str,
                     language: str) -> str:
    """The tier's birthday benefit: from `proactive.birthday_benefits`, else the tier's own
    benefit that mentions a birthday."""
    configured = proactive.birthday_benefits.get(tier)
    if configured:
        return localized(configured, language)
    for benefit in settings.tier(tier).benefits:
        if any(word in text.lower() for text in benefit.values() for word in _BIRTHDAY_WORDS):
            return localized(benefit, language)
    return ""


def greeting_text(
    *, translator: Translator, settings: Settings, proactive: ProactiveSettings,
    occasion: str, language: str, name: str | None, tier: str,
) -> str:
    values: dict[str, Any] = {
        "name": name or translator.text(language, "proactive.dear_member"),
        "tier": localized(settings.tier(tier).names, language),
        "occasion": occasion,
    }
    if occasion == BIRTHDAY:
        values["benefit"] = birthday_benefit(settings, proactive, tier, language)
    configured = proactive.occasions.get(occasion)
    if configured is not None and configured.text:
        return fill(localized(configured.text, language), values)
    for extra in proactive.extra_occasions:
        if extra.code == occasion:
            return fill(localized(extra.text, language), values)
    key = (f"proactive.birthday.{tier}" if occasion == BIRTHDAY
           else f"proactive.occasions.{occasion}")
    return translator.text(language, key, **values)
