"""Handing a conversation to a person, and keeping the bot quiet while one has it.

``handoff_guard`` is a dialogue middleware: while an agent owns the conversation the bot
answers nothing (the agent does) except the command that brings the bot back; after the
bot misunderstood twice in a row it hands the conversation over by itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.core.messages import Button
from bot.dialogue.turn import Reply
from bot.features.cases import store
from bot.features.cases.service import BOT, QUEUED, WITH_AGENT, Desk, QueueInfo
from nlu import intents

if TYPE_CHECKING:
    from bot.dialogue.turn import Turn

    Next = Callable[[Turn], Awaitable[None]]

# Misunderstood messages in a row (counted by dispatch) before a person takes over.
MISUNDERSTOOD_LIMIT = 2
RETURN_TO_BOT = re.compile(
    r"^\s*(/bot|/back|返回机器人|返回機器人|回到机器人|回到機器人|找机器人|找機器人|机器人助手|"
    r"機器人助手|back\s+to\s+(the\s+)?bot|talk\s+to\s+(the\s+)?bot)[\s.!。！]*$",
    re.IGNORECASE)
REASON_ASKED, REASON_MISUNDERSTOOD, REASON_URGENT = "asked", "misunderstood", "urgent"


def desk(turn: Turn) -> Desk:
    return Desk(turn.settings, turn.services.translator, no_buttons=turn.services.no_buttons)


def queue_text(turn: Turn, info: QueueInfo) -> str:
    """Where the customer stands: the position and the wait, or when the desk opens."""
    if info.opens_at is None:
        return turn.t("handoff.queued", number=info.case.number, position=info.position,
                      minutes=info.wait_minutes or 1)
    local = info.opens_at.astimezone(info.zone)
    when = (turn.services.translator.format_date(turn.language, local.date())
            + f" {local:%H:%M}")
    return turn.t("handoff.closed_now", number=info.case.number, when=when)


async def hand_off(turn: Turn, *, reason: str) -> QueueInfo:
    """Queues the conversation for a person and tells the customer what to expect."""
    info = await desk(turn).enter_queue(
        turn.session, identity=turn.identity, conversation=turn.conversation,
        member=turn.member, language=turn.language, reason=reason, text=turn.text,
        now=turn.now)
    if turn.conversation.status == WITH_AGENT:
        turn.say(turn.t("handoff.already_with_agent", number=info.case.number))
    else:
        turn.say(queue_text(turn, info) + "\n" + turn.t("handoff.how_to_return"))
    return info


async def return_to_bot(turn: Turn) -> None:
    """The customer's command: the bot answers again; cases stay with their agents."""
    conversation = turn.conversation
    for case in await store.owned_cases_of_conversation(turn.session,
                                                        conversation_id=conversation.id):
        await store.add_event(turn.session, case=case, kind="customer_left", now=turn.now)
    waiting = await store.active_case_of_conversation(
        turn.session, conversation_id=conversation.id, kind=store.CHAT)
    if waiting is not None and waiting.status == store.NEW:
        # Nobody took the chat yet and the customer no longer wants one: withdraw it.
        waiting.status, waiting.closed_at = store.CLOSED, turn.now
        waiting.resolution_code = "withdrawn"
        await store.add_event(turn.session, case=waiting, kind="withdrawn", now=turn.now)
    # The customer's word wins over any agent's claim until the agent writes again.
    conversation.status = BOT
    turn.say(turn.t("handoff.back_to_bot"))


async def _customer_wrote(turn: Turn) -> None:
    operations = desk(turn)
    for case in await store.owned_cases_of_conversation(
            turn.session, conversation_id=turn.conversation.id):
        await operations.customer_wrote(turn.session, case=case, now=turn.now)


async def handoff_guard(turn: Turn, call_next: Next) -> None:
    """Silences the bot while an agent owns the conversation; hands over after two
    misunderstood messages in a row."""
    status = turn.conversation.status
    if status in (WITH_AGENT, QUEUED) and RETURN_TO_BOT.match(turn.text):
        await return_to_bot(turn)
        return
    if status == WITH_AGENT:
        await _customer_wrote(turn)
        return
    await call_next(turn)
    state = turn.state()
    misunderstood = int(state.get("misunderstood", 0) or 0)
    if turn.conversation.status == BOT and misunderstood >= MISUNDERSTOOD_LIMIT:
        state["misunderstood"] = 0
        turn.set_state(state)
        await hand_off(turn, reason=REASON_MISUNDERSTOOD)
    elif misunderstood == 1 and turn.replies:
        # Offer a person right away; the customer need not fail twice to get one.
        last = turn.replies[-1]
        offer = Button(turn.t("handoff.button"), "/" + intents.HUMAN_AGENT)
        turn.replies[-1] = Reply(last.text, (*last.buttons, offer), last.request_contact)
