"""Choosing the language the bot answers in."""

from __future__ import annotations

from bot.core.i18n import normalize_language
from bot.core.messages import Button
from bot.dialogue.language import remember_choice
from bot.dialogue.turn import Turn

# Each language named in itself, so whoever needs it can read it.
_CHOICES = (("zh-Hans", "简体中文"), ("zh-Hant", "繁體中文"), ("en", "English"))


def language_choices() -> tuple[Button, ...]:
    return tuple(Button(title, f"/lang {code}") for code, title in _CHOICES)


async def set_language(turn: Turn) -> None:
    """``/lang en`` chooses; ``/lang`` alone (or an unknown name) lists the choices."""
    if not turn.argument:
        turn.say(turn.t("lang.choose"), buttons=language_choices())
        return
    chosen = normalize_language(turn.argument)
    if chosen is None:
        turn.say(turn.t("lang.unknown", value=turn.argument[:32]), buttons=language_choices())
        return
    remember_choice(turn, chosen)
    turn.say(turn.t("lang.set"))
