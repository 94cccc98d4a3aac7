"""Cross-cutting steps every inbound message passes through, onion-style."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.channels.windows import EVENT_WINDOW, MESSAGE_WINDOW, message_window_open
from bot.core import metrics
from bot.core.messages import (
    UNSUBSCRIBED_EVENT,
    Button,
    InboundMessage,
    numbered_choice,
)
from bot.core.storage import conversations
from bot.core.storage.members import get_member
from bot.dialogue.commands import parse_command
from bot.dialogue.handoff import handoff_guard
from bot.dialogue.language import language_of_turn
from bot.dialogue.redact import transcript_text
from bot.dialogue.turn import Queued, Reply, Services, Turn
from bot.features.kpis.metrics import NLU_CONFIDENCE
from bot.outbox import store as outbox
from nlu import intents
from nlu.types import IntentScore, Parse

log = logging.getLogger(__name__)

Next = Callable[[Turn], Awaitable[None]]
Middleware = Callable[[Turn, Next], Awaitable[None]]


async def record_messages(turn: Turn, call_next: Next) -> None:
    """Stores the inbound message once; a redelivery gets the replies stored the first time."""
    inbound = turn.inbound
    guess = _first_guess(turn)
    message_id = await conversations.record_inbound(
        turn.session,
        conversation=turn.conversation,
        channel=inbound.channel,
        channel_message_id=inbound.message_id,
        # Before the turn: the state still names the question this message answers.
        text=transcript_text(turn.text, turn.state()),
        now=turn.now,
        intent=guess[0],
        confidence=guess[1],
    )
    if message_id is None:
        assert inbound.message_id is not None
        first = await conversations.find_inbound(
            turn.session, channel=inbound.channel, channel_message_id=inbound.message_id)
        stored = await conversations.replies_to(turn.session, message_id=first.id) if first else []
        turn.duplicate = True
        turn.message_id = first.id if first else None
        turn.replies = [
            Reply(m.text, tuple(Button(b["title"], b["payload"]) for b in m.buttons or ()))
            for m in stored
        ]
        log.info("duplicate delivery on %s recognised; %d stored replies repeated",
                 inbound.channel, len(stored))
        metrics.DUPLICATES.labels(inbound.channel).inc()
        return
    metrics.MESSAGES_IN.labels(inbound.channel).inc()
    turn.message_id = message_id
    _note_presence(turn)
    await call_next(turn)
    understood = (turn.intent, turn.parse.intent.confidence if turn.parse else None)
    if understood != guess or turn.outcome is not None:
        await conversations.set_understanding(
            turn.session, message_id=message_id, intent=understood[0],
            confidence=understood[1], outcome=turn.outcome)
    # All replies in one INSERT.
    reply_ids = await conversations.insert_replies(
        turn.session,
        conversation=turn.conversation,
        channel=inbound.channel,
        reply_to_id=message_id,
        replies=[(reply.text,
                  [{"title": b.title, "payload": b.payload} for b in reply.buttons] or None)
                 for reply in turn.replies],
        now=turn.now,
    )
    delay = turn.services.outbox_delays.get(inbound.channel)
    if delay is None:
        return
    channels = turn.services.channels
    for outgoing, reply_id in zip(turn.outbound(), reply_ids, strict=True):
        # Same transaction as the turn: a reply is never lost, and never sent for a turn
        # that rolled back. One row per platform message (a long WeChat reply is several),
        # so each part is sent, retried and counted against the reply window by itself.
        for part in channels.render(outgoing):
            outbox_id = await outbox.enqueue(
                turn.session, part, identity_id=turn.identity.id, now=turn.now,
                message_id=reply_id, not_before=turn.now + delay)
            if outbox_id is not None:
                turn.queued.append(Queued(outbox_id, part))


def _first_guess(turn: Turn) -> tuple[str | None, float | None]:
    """What the message will most likely be understood as (the parse made before the
    turn, for plain text), stored with it at once: the row is written again only when the
    turn understood it otherwise (a command, a form's answer, another time zone)."""
    early = turn.preparsed
    if (early is None or early.text != turn.text or turn.inbound.payload
            or parse_command(turn.text) is not None):
        return None, None
    return early.intent.name, early.intent.confidence


def _note_presence(turn: Turn) -> None:
    """The customer is here: deliveries may resume, and a platform reply window opens."""
    identity, inbound = turn.identity, turn.inbound
    if inbound.payload != UNSUBSCRIBED_EVENT and identity.unsubscribed_at is not None:
        turn.note_identity(unsubscribed_at=None)
    window = turn.capabilities.reply_window
    if window is None or inbound.opens_window is None:
        return
    if inbound.opens_window == MESSAGE_WINDOW:
        turn.note_identity(window_opened_at=turn.now, window_kind=MESSAGE_WINDOW,
                           window_sent=0)
    elif (inbound.opens_window == EVENT_WINDOW
          and not message_window_open(window, identity, turn.now)):
        turn.note_identity(window_opened_at=turn.now, window_kind=EVENT_WINDOW,
                           window_sent=0)


async def numbered_choices(turn: Turn, call_next: Next) -> None:
    """On channels without buttons, buttons become a numbered list and a number picks one."""
    if turn.capabilities.buttons:
        await call_next(turn)
        return
    state = turn.state()
    choices = state.get("choices")
    if isinstance(choices, list) and turn.text.isdigit() and 1 <= int(turn.text) <= len(choices):
        turn.text = str(choices[int(turn.text) - 1])
    await call_next(turn)
    offered: list[str] = []
    rewritten: list[Reply] = []
    for reply in turn.replies:
        if not reply.buttons:
            rewritten.append(reply)
            continue
        lines = [reply.text, turn.t("choices.header")]
        for button in reply.buttons:
            offered.append(button.payload)
            lines.append(numbered_choice(len(offered), button.title))
        rewritten.append(Reply("\n".join(lines), (), reply.request_contact))
    turn.replies = rewritten
    state = turn.state()
    if offered:
        state["choices"] = offered
    elif turn.replies:
        state.pop("choices", None)
    turn.set_state(state)


async def resolve_member(turn: Turn, call_next: Next) -> None:
    if turn.identity.member_id is not None:
        turn.member = await get_member(turn.session, member_id=turn.identity.member_id)
        if turn.conversation.member_id != turn.identity.member_id:
            turn.conversation.member_id = turn.identity.member_id
    await call_next(turn)


async def choose_language(turn: Turn, call_next: Next) -> None:
    """The language the customer chose, else the one they write in (kept for buttons)."""
    turn.language = language_of_turn(turn)
    await call_next(turn)


async def understand(turn: Turn, call_next: Next) -> None:
    """Commands (and button payloads) map straight to intents; free text goes to the NLU."""
    command = parse_command(turn.text)
    zone = turn.member.timezone if turn.member else turn.settings.app.default_timezone
    nlu = turn.services.nlu
    if turn.inbound.payload and turn.inbound.payload.startswith("event:"):
        turn.intent = turn.inbound.payload  # a platform event, not something the customer typed
    elif command is not None:
        # /<intent> works for every intent: the payload form Rasa uses for buttons.
        turn.intent = command.intent or command.name
        turn.argument = command.argument
        clarify = turn.state().get("clarify")
        if (nlu is not None and isinstance(clarify, dict)
                and command.name in clarify.get("choices", ())):
            # The customer picked one of the meanings offered: keep the entities of the
            # question they originally asked.
            original = await nlu.parse(str(clarify.get("text", "")), timezone=zone)
            turn.parse = replace(original, intent=IntentScore(command.name, 1.0),
                                 intent_ranking=(IntentScore(command.name, 1.0),))
    elif turn.text and nlu is not None:
        early = turn.preparsed
        if (early is not None and early.text == turn.text
                and zone == turn.settings.app.default_timezone):
            turn.parse = early
        else:
            turn.parse = await nlu.parse(turn.text, timezone=zone)
        turn.intent = turn.parse.intent.name
    elif turn.text:
        turn.intent = intents.OUT_OF_SCOPE
    if turn.parse is not None:
        metrics.INTENTS.labels(turn.parse.intent.name).inc()
        NLU_CONFIDENCE.labels(turn.inbound.channel).observe(turn.parse.intent.confidence)
    await call_next(turn)


async def preparse(services: Services, inbound: InboundMessage, text: str) -> Parse | None:
    """Free text understood before the turn's transaction, in the default time zone
    (:func:`understand` uses it when the sender's zone is that one, as for most)."""
    if (services.nlu is None or not text or parse_command(text) is not None
            or (inbound.payload or "").startswith("event:")):
        return None
    return await services.nlu.parse(text, timezone=services.settings.app.default_timezone)


DEFAULT_MIDDLEWARES: tuple[Middleware, ...] = (
    record_messages,
    resolve_member,
    choose_language,
    numbered_choices,
    handoff_guard,
    understand,
)
