"""The conversation's language: the one the customer chose, else the one they last wrote in."""

from __future__ import annotations

from bot.core.i18n import detect_language
from bot.dialogue.turn import Turn
from bot.settings import LANGUAGES

# Conversation state key of a language the customer chose (/lang, the profile form): it wins
# over the script of later messages until they choose another.
CHOSEN = "chosen_language"


def chosen_language(turn: Turn) -> str | None:
    chosen = turn.state().get(CHOSEN)
    return chosen if chosen in LANGUAGES else None


def language_of_turn(turn: Turn) -> str:
    """The language to answer this message in; remembers the language written in.

    Commands, button payloads, digits and codes carry no language: they keep the one the
    conversation is in, so pressing "My tier" after an English question answers in English.
    """
    chosen = chosen_language(turn)
    if chosen is not None:
        return chosen
    spoken = turn.identity.language or (turn.member.language if turn.member else None)
    detected = None if turn.text.startswith("/") else detect_language(turn.text, prefer=spoken)
    if detected is not None:
        turn.identity.language = detected
    return detected or spoken or turn.settings.app.default_language


def remember_choice(turn: Turn, code: str) -> None:
    """The customer chose ``code``: answer in it from now on, on this chat and as a member."""
    state = turn.state()
    state[CHOSEN] = code
    turn.set_state(state)
    turn.identity.language = code
    if turn.member is not None:
        turn.member.language = code
    turn.language = code
