"""human_agent: the customer asks for a person; and the wiring of every case handler."""

from __future__ import annotations

from bot.dialogue.handoff import REASON_ASKED, hand_off
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.cases import csat
from handlers import cases, feedback
from nlu import intents

# The rating buttons send "/csat N"; a late press still finds the case.
RATE_COMMAND = "csat"


async def ask_for_person(turn: Turn) -> None:
    await hand_off(turn, reason=REASON_ASKED)


def register_cases(registry: Registry) -> None:
    """Feedback, case status, handoff and the satisfaction rating."""
    registry.add(intents.COMPLAINT, feedback.open_complaint)
    registry.add(intents.SUGGESTION, feedback.open_suggestion)
    registry.add(intents.CASE_STATUS, cases.show_cases)
    registry.add(intents.HUMAN_AGENT, ask_for_person)
    registry.add(RATE_COMMAND, cases.rate_service)
    for form in (*feedback.FORMS, *csat.FORMS):
        registry.forms.add(form)
