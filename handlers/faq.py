"""FAQ: store hours and locations from config, other questions from the knowledge base."""

from __future__ import annotations

import re

from bot.core.i18n import to_simplified
from bot.core.messages import Button
from bot.dialogue.commands import parse_command
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.knowledge.base import Hit, KnowledgeBase, load_knowledge
from bot.features.knowledge.stores import (
    cities,
    city_label,
    city_names,
    find_stores,
    mentioned_stores,
    to_traditional,
    today_at,
)
from bot.settings import Store, localized
from handlers.followup import Followup
from handlers.help import explain_not_understood
from nlu import intents

LAST_STORE_QUESTION = "stores_asked"
SHORT_TEXT = 12
MAX_STORES = 5
# Below this BM25 score a free question is not taken to match an entry.
MIN_SCORE = 1.5
# "杭州店", "store in Hangzhou": a place was named, so "which city?" would be the wrong reply.
_NAMED_PLACE = re.compile(r"([\u4e00-\u9fff]{2,})(?:店|门店|分店|商场)|\b(?:in|at|near)\s+[A-Z]\w+")
_GENERIC = ("你们", "门店", "这家", "那家", "附近", "最近", "哪家", "哪个", "实体", "线下", "贵")


def knowledge(turn: Turn) -> KnowledgeBase:
    return load_knowledge(turn.settings.knowledge.file)


def _names_a_place(text: str) -> bool:
    match = _NAMED_PLACE.search(to_simplified(text))
    return match is not None and not any(word in match.group(0) for word in _GENERIC)


def _store_line(turn: Turn, store: Store, intent: str) -> str:
    name = localized(store.names, turn.language)
    if intent == intents.STORE_LOCATION:
        line = turn.t("stores.location", store=name, address=localized(store.address,
                                                                        turn.language))
        return line + (turn.t("stores.phone", phone=store.phone) if store.phone else "")
    today = today_at(store, turn.now, turn.language)
    lines = [turn.t("stores.hours", store=name, hours=store.hours)]
    if store.holiday_hours:
        lines.append(turn.t("stores.holiday_hours", hours=store.holiday_hours))
    if today.holiday:
        lines.append(turn.t("stores.today_holiday", holiday=today.holiday, hours=today.hours))
    lines.append(turn.t("stores.open_now", closes=today.closes) if today.open_now
                 else turn.t("stores.closed_now", hours=today.hours))
    return "\n".join(lines)


def _answer_stores(turn: Turn, stores: list[Store], intent: str) -> None:
    turn.say("\n\n".join(_store_line(turn, s, intent) for s in stores[:MAX_STORES]))


def city_buttons(turn: Turn, intent: str) -> tuple[Button, ...]:
    return tuple(Button(city_label(turn.settings, c, turn.language), f"/{intent} {c}")
                 for c in cities(turn.settings))


def parse_city(turn: Turn, text: str) -> str | None:
    command = parse_command(text)
    wanted = to_simplified(command.argument if command else text).strip().lower()
    for city in cities(turn.settings):
        if any(name and name in wanted for name in city_names(turn.settings, city)):
            return city
    return None


def _city_list(turn: Turn) -> str:
    return turn.t("stores.joiner").join(city_label(turn.settings, c, turn.language)
                                        for c in cities(turn.settings))


async def show_stores(turn: Turn) -> None:
    """store_hours / store_location: the store or city asked about, else which city."""
    intent = turn.intent or intents.STORE_HOURS
    store = turn.parse.first_entity("store") if turn.parse is not None else None
    city = turn.parse.first_entity("city") if turn.parse is not None else None
    found = find_stores(turn.settings, store=str(store) if store else None,
                        city=str(city) if city else None)
    if not found:
        found = find_stores(turn.settings, city=parse_city(turn, turn.argument)) \
            if turn.argument else mentioned_stores(turn.settings, turn.text)
    if found:
        state = turn.state()
        asked = state.pop(LAST_STORE_QUESTION, None)
        if asked and _bare_place(turn):  # "广州" answering "which city?" keeps the question
            intent = str(asked)
            turn.set_state(state)
        _answer_stores(turn, found, intent)
        return
    key = "stores.unknown" if _names_a_place(turn.text) or turn.argument else "stores.which_city"
    # Buttons rather than a form: a city question must not hang over what is asked next.
    turn.say(turn.t(key, cities=_city_list(turn)), buttons=city_buttons(turn, intent))
    state = turn.state()
    state[LAST_STORE_QUESTION] = intent
    turn.set_state(state)


def _bare_place(turn: Turn) -> bool:
    text = to_simplified(turn.text).strip().lower()
    return any(text in city_names(turn.settings, city) for city in cities(turn.settings)) \
        or (bool(mentioned_stores(turn.settings, text)) and len(text) <= SHORT_TEXT)


def _named_stores(turn: Turn) -> list[Store]:
    """Stores a short message names on its own ("广州", "Sanlitun"), as the answer to which
    city; longer messages that mention a city are about something else."""
    if len(turn.text) > SHORT_TEXT:
        return []
    store = turn.parse.first_entity("store") if turn.parse is not None else None
    city = turn.parse.first_entity("city") if turn.parse is not None else None
    return (find_stores(turn.settings, store=str(store) if store else None,
                        city=str(city) if city else None)
            or mentioned_stores(turn.settings, turn.text))


def _pick(texts: dict[str, str], language: str) -> str:
    for key in (language, "zh-Hans", "en"):
        if texts.get(key):
            return texts[key]
    return next(iter(texts.values()), "")


def _show(turn: Turn, hit: Hit) -> None:
    entry = hit.entry
    answer = _pick(entry.answer, turn.language)
    if turn.language == "zh-Hant" and "zh-Hant" not in entry.answer:
        answer = to_traditional(answer)
    title = _pick(entry.title, turn.language) or entry.id
    if turn.language == "zh-Hant" and "zh-Hant" not in entry.title:
        title = to_traditional(title)
    turn.say("\n".join((answer, turn.t("faq.source", title=title, id=entry.id))))


async def answer_question(turn: Turn) -> None:
    """return_policy and the like: the best entry for the question, with its source."""
    base = knowledge(turn)
    hits = base.search(turn.text) if not turn.text.startswith("/") else []
    tagged = [h for h in hits if turn.intent in h.entry.intents]
    entry = tagged[0] if tagged else None
    if entry is None and turn.intent:
        default = base.for_intent(turn.intent)
        entry = Hit(default, 0.0) if default else None
    if entry is not None:
        _show(turn, entry)
    else:
        turn.say(turn.t("faq.none"), buttons=(Button(turn.t("intent_titles.human_agent"),
                                                     f"/{intents.HUMAN_AGENT}"),))


async def answer_or_admit(turn: Turn) -> None:
    """out_of_scope: a store named on its own, a knowledge-base entry that matches well,
    else an honest fallback."""
    stores = _named_stores(turn)
    if stores:
        _answer_stores(turn, stores, str(turn.state().get(LAST_STORE_QUESTION)
                                         or intents.STORE_LOCATION))
        return
    hits = knowledge(turn).search(turn.text) if turn.text else []
    if hits and hits[0].score >= MIN_SCORE:
        _show(turn, hits[0])
        return
    await explain_not_understood(turn)


def register(registry: Registry, followup: Followup) -> None:
    registry.add(intents.STORE_HOURS, show_stores)
    registry.add(intents.STORE_LOCATION, show_stores)
    registry.add(intents.RETURN_POLICY, answer_question)
    registry.add(intents.OUT_OF_SCOPE, answer_or_admit)

