"""Complaints and suggestions: a short form, then a case with a number and a due time."""

from __future__ import annotations

import re
from typing import Any

from bot.core.messages import Button
from bot.dialogue.forms import Form, Slot, start_form
from bot.dialogue.handoff import REASON_URGENT, desk, hand_off
from bot.dialogue.turn import Turn
from bot.features.cases import store
from bot.features.cases.priority import is_urgent
from bot.features.cases.service import NewCase
from bot.settings import LANGUAGES, localized
from handlers.cases import local_time

CATEGORIES = ("product", "service", "staff", "delivery", "other")
MAX_DESCRIPTION_CHARS = 2000
# Words that only say "I want to give feedback": what remains of the first message, when
# enough, already tells what happened ("店员态度很差，我要投诉").
_ASKING = re.compile(
    r"我要|我想|想要|提个|提個|提一下|一下|可以吗|可以嗎|请问|請問|你们|你們|有个|有個|"
    r"投诉|投訴|建议|建議|意见|意見|反馈|反饋|吐槽|"
    r"\b(i|we|want|would|like|to|have|make|file|give|a|an|some|please|about|"
    r"complain|complaint|suggest|suggestion|feedback|idea)\b", re.IGNORECASE)
_HAN = re.compile(r"[\u3400-\u9fff]")
_WORDS = {
    "product": ("产品", "商品", "质量", "品质", "產品", "質量", "quality"),
    "service": ("服务", "服務", "体验", "體驗"),
    "staff": ("店员", "店員", "员工", "員工", "导购", "導購", "态度", "態度", "employee"),
    "delivery": ("配送", "快递", "快遞", "物流", "送货", "送貨", "shipping", "courier"),
    "other": ("其他", "其它", "别的", "別的"),
}
_SKIP = re.compile(r"^\s*(/skip|跳过|跳過|没有|沒有|无|無|不用|skip|none|no)[\s.!。！]*$",
                   re.IGNORECASE)
_ORDER = re.compile(r"^(?:(SO)-?(\d{10,16})|(\d{14,20}))$", re.IGNORECASE)


def _titles(turn: Turn, key: str) -> set[str]:
    return {turn.services.translator.text(language, key).casefold() for language in LANGUAGES}


def parse_category(turn: Turn, text: str) -> str | None:
    answer = text.strip().removeprefix("/category").strip().casefold()
    if answer in CATEGORIES:
        return answer
    if answer.isdigit() and 1 <= int(answer) <= len(CATEGORIES):
        return CATEGORIES[int(answer) - 1]
    for code in CATEGORIES:
        if answer in _titles(turn, f"feedback.categories.{code}"):
            return code
    for code, words in _WORDS.items():
        if any(word in answer for word in words):
            return code
    return None


def parse_description(_turn: Turn, text: str) -> str | None:
    body = text.strip()
    if not body or body.startswith("/"):
        return None
    return body[:MAX_DESCRIPTION_CHARS]


def parse_order(_turn: Turn, text: str) -> str | None:
    answer = text.strip()
    if _SKIP.match(answer):
        return ""
    match = _ORDER.match(answer.replace(" ", ""))
    if match is None:
        return None
    return f"SO{match.group(2)}" if match.group(1) else match.group(3)


def parse_store(turn: Turn, text: str) -> str | None:
    answer = text.strip().removeprefix("/store").strip()
    if _SKIP.match(answer):
        return ""
    folded = answer.casefold()
    for shop in turn.settings.stores:
        names = {shop.code, *shop.names.values(), *shop.aliases}
        if folded in {name.casefold() for name in names}:
            return shop.code
    for shop in turn.settings.stores:
        if any(len(alias) >= 2 and alias.casefold() in folded
               for alias in (*shop.names.values(), *shop.aliases)):
            return shop.code
    return None


def _category_buttons(turn: Turn) -> tuple[Button, ...]:
    return tuple(Button(turn.t(f"feedback.categories.{code}"), f"/category {code}")
                 for code in CATEGORIES)


def _skip(turn: Turn) -> tuple[Button, ...]:
    return (Button(turn.t("feedback.skip"), "/skip"),)


def _store_buttons(turn: Turn) -> tuple[Button, ...]:
    shops = tuple(Button(localized(s.names, turn.language), f"/store {s.code}")
                  for s in turn.settings.stores)
    return (*shops, *_skip(turn))


def _asks_order(values: dict[str, Any]) -> bool:
    return values.get("category") in ("product", "delivery")


def _asks_store(values: dict[str, Any]) -> bool:
    return values.get("category") in ("product", "service", "staff", "other")


async def _complete(turn: Turn, values: dict[str, Any]) -> None:
    kind = str(values["kind"])
    case = await desk(turn).open_case(
        turn.session,
        new=NewCase(kind=kind, description=str(values["description"]),
                    category=str(values["category"]),
                    order_id=str(values.get("order_id") or "") or None,
                    store_code=str(values.get("store") or "") or None),
        identity=turn.identity, conversation=turn.conversation, member=turn.member,
        language=turn.language, now=turn.now)
    assert case.first_response_due_at is not None
    turn.say(turn.t(f"feedback.created_{kind}", number=case.number,
                    due=local_time(turn, case.first_response_due_at, case.timezone)))
    if case.priority == "urgent":
        turn.say(turn.t("feedback.urgent"))
        await hand_off(turn, reason=REASON_URGENT)


def _urgent_now(turn: Turn, values: dict[str, Any]) -> dict[str, Any] | None:
    """Danger words (allergy, injury …) open the case and hand over at once: the agent asks
    for whatever the form has not gathered yet."""
    text = turn.text.strip()
    if text.startswith("/") or not is_urgent(text, turn.settings.cases.urgent_words):
        return None
    done = dict(values)
    told = str(done.get("description") or "")
    if text not in told:
        done["description"] = f"{told}\n{text}".strip()[:MAX_DESCRIPTION_CHARS]
    done.setdefault("category", parse_category(turn, text) or "other")
    return done


def _form(kind: str) -> Form:
    return Form(
        name=kind,
        slots=(
            Slot("category", f"feedback.ask_category_{kind}", parse_category,
                 invalid="feedback.invalid_category", buttons=_category_buttons),
            Slot("description", "feedback.ask_description", parse_description,
                 invalid="feedback.invalid_description", free_text=True),
            Slot("order_id", "feedback.ask_order", parse_order, invalid="feedback.invalid_order",
                 entity="order_id", buttons=_skip, when=_asks_order),
            Slot("store", "feedback.ask_store", parse_store, invalid="feedback.invalid_store",
                 entity="store", buttons=_store_buttons, when=_asks_store),
        ),
        on_complete=_complete,
        finish_now=_urgent_now,
    )


COMPLAINT_FORM = _form(store.COMPLAINT)
SUGGESTION_FORM = _form(store.SUGGESTION)
FORMS = (COMPLAINT_FORM, SUGGESTION_FORM)


def describes_something(text: str) -> bool:
    """Whether a first message says what happened, beyond asking to give feedback."""
    if text.startswith("/"):
        return False
    rest = _ASKING.sub(" ", text)
    return len(_HAN.findall(rest)) >= 5 or len(re.findall(r"[A-Za-z]{2,}", rest)) >= 3


async def _start(turn: Turn, form: Form, kind: str) -> None:
    values: dict[str, Any] = {"kind": kind}
    if describes_something(turn.text):
        values["description"] = turn.text.strip()[:MAX_DESCRIPTION_CHARS]
    await start_form(turn, form, values=values)


async def open_complaint(turn: Turn) -> None:
    await _start(turn, COMPLAINT_FORM, store.COMPLAINT)


async def open_suggestion(turn: Turn) -> None:
    await _start(turn, SUGGESTION_FORM, store.SUGGESTION)
