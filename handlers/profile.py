"""Changing details on file: name, birthday (once a year), language, address; phone explained."""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

from bot.core.i18n import normalize_language, to_simplified
from bot.core.messages import Button
from bot.core.phones import normalize_phone
from bot.core.storage import selfservice
from bot.dialogue import redact
from bot.dialogue.commands import parse_command
from bot.dialogue.forms import Form, Slot, affirmed, start_form, yes_no_buttons
from bot.dialogue.language import remember_choice
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.loyalty.service import member_zone
from handlers.birthdays import FUTURE, INVALID, NO_YEAR, parse_birthday
from handlers.followup import Followup, offer
from nlu import intents

PROFILE_FORM = "profile"
NAME, BIRTHDAY, LANGUAGE, ADDRESS, PHONE = "name", "birthday", "language", "address", "phone"
FIELDS = (NAME, BIRTHDAY, LANGUAGE, ADDRESS, PHONE)
_FIELD_WORDS = {
    BIRTHDAY: ("生日", "出生", "birthday", "date of birth"),
    PHONE: ("手机", "电话", "号码", "换号", "phone", "mobile", "number"),
    ADDRESS: ("地址", "住址", "收货", "address"),
    LANGUAGE: ("语言", "中文", "英文", "繁体", "简体", "language", "english", "chinese"),
    NAME: ("名字", "姓名", "改名", "称呼", "name"),
}
_NAME_CHARS = re.compile(r"^[\w\s·.'\-]{1,40}$")


def _today(turn: Turn) -> date:
    assert turn.member is not None
    return turn.now.astimezone(member_zone(turn.member, turn.settings)).date()


def field_in(text: str) -> str | None:
    command = parse_command(text)
    if command is not None:
        return command.argument if command.argument in FIELDS else None
    words = to_simplified(text).lower()
    return next((f for f, ws in _FIELD_WORDS.items() if any(w in words for w in ws)), None)


def parse_field(turn: Turn, text: str) -> str | None:
    return field_in(text)


def field_buttons(turn: Turn) -> tuple[Button, ...]:
    return tuple(Button(turn.t(f"profile.field_{f}"), f"/{intents.PROFILE_UPDATE} {f}")
                 for f in FIELDS)


def _birthday(turn: Turn, text: str) -> str | None:
    return parse_birthday(text, today=_today(turn))


def _name(turn: Turn, text: str) -> str | None:
    name = " ".join(text.split())
    return name if _NAME_CHARS.match(name) and not name.isdigit() else None


def _address(turn: Turn, text: str) -> str | None:
    address = " ".join(text.split())
    return address if 5 <= len(address) <= 200 else None


def _language(turn: Turn, text: str) -> str | None:
    command = parse_command(text)
    return normalize_language(command.argument if command else text)


def language_buttons(turn: Turn) -> tuple[Button, ...]:
    return tuple(Button(title, f"/{intents.PROFILE_UPDATE} {code}")
                 for code, title in (("zh-Hans", "简体中文"), ("zh-Hant", "繁體中文"),
                                     ("en", "English")))


def _phone(turn: Turn, text: str) -> str | None:
    found = turn.parse.first_entity("phone") if turn.parse is not None else None
    return normalize_phone(str(found) if found else re.sub(r"[\s\-()]", "", text))


def _asking(field: str, *, valid_birthday: bool = False) -> Any:
    def when(values: dict[str, Any]) -> bool:
        if values.get("field") != field or values.get("locked_until"):
            return False
        return not valid_birthday or not str(values.get(BIRTHDAY, "!")).startswith("!")
    return when


def _shown_birthday(turn: Turn, values: dict[str, Any]) -> dict[str, Any]:
    day = date.fromisoformat(str(values[BIRTHDAY]))
    return {"date": turn.services.translator.format_date(turn.language, day)}


async def start_profile_update(turn: Turn, *, followup: Followup) -> None:
    """profile_update: which detail, its new value, then the change (with the rules)."""
    assert turn.member is not None
    values: dict[str, Any] = {}
    field = field_in(f"/x {turn.argument}") if turn.argument else field_in(turn.text)
    if field is None and turn.parse is not None and turn.parse.first_entity("date"):
        field = BIRTHDAY
    if field is not None:
        values["field"] = field
        given = _birthday(turn, turn.text) if field == BIRTHDAY else None
        if given is not None:
            values[BIRTHDAY] = given
        phone = _phone(turn, turn.text) if field == PHONE else None
        if phone is not None:
            values[PHONE] = phone
    locked = await _birthday_locked_until(turn)
    if locked is not None:
        values["locked_until"] = locked.isoformat()
    await start_form(turn, followup.form(PROFILE_FORM), values=values)


async def _birthday_locked_until(turn: Turn) -> date | None:
    """The day a birthday on file may change again (one change in twelve months)."""
    assert turn.member is not None
    if turn.services.directory.birthday(turn.member) is None:
        return None  # a first birthday is not a change
    last = await selfservice.last_change(turn.session, member_id=turn.member.id, field=BIRTHDAY)
    if last is None:
        return None
    changed = last.changed_at.astimezone(member_zone(turn.member, turn.settings)).date()
    try:
        again = changed.replace(year=changed.year + 1)
    except ValueError:  # changed on 29 February
        again = date(changed.year + 1, 3, 1)
    return again if again > _today(turn) else None


async def apply_profile_update(turn: Turn, values: dict[str, Any], *,
                               followup: Followup) -> None:
    assert turn.member is not None
    member, directory, field = turn.member, turn.services.directory, values["field"]
    if field == BIRTHDAY:
        await _apply_birthday(turn, values, followup)
        return
    if field == PHONE:
        owner = await directory.find_by_phone(turn.session, str(values[PHONE]))
        if owner is not None and owner.id != member.id:
            turn.say(turn.t("profile.phone_taken"))
        elif owner is not None:
            turn.say(turn.t("profile.phone_same"))
        else:
            turn.say(turn.t("profile.phone_in_person"),
                     buttons=(Button(turn.t("intent_titles.human_agent"),
                                     f"/{intents.HUMAN_AGENT}"),))
            offer(turn, intents.HUMAN_AGENT)
        return
    if field == NAME:
        directory.set_name(member, str(values[NAME]))
        turn.say(turn.t("profile.name_done", name=values[NAME]))
    elif field == ADDRESS:
        directory.set_address(member, str(values[ADDRESS]))
        turn.say(turn.t("profile.address_done"))
    else:
        remember_choice(turn, str(values[LANGUAGE]))
        turn.say(turn.t("lang.set"))
    await selfservice.record_change(turn.session, member_id=member.id, field=field,
                                    channel=turn.inbound.channel, now=turn.now)


async def _apply_birthday(turn: Turn, values: dict[str, Any], followup: Followup) -> None:
    assert turn.member is not None
    if values.get("locked_until"):
        until = date.fromisoformat(str(values["locked_until"]))
        turn.say(turn.t("profile.birthday_locked",
                        date=turn.services.translator.format_date(turn.language, until)),
                 buttons=(Button(turn.t("intent_titles.human_agent"),
                                 f"/{intents.HUMAN_AGENT}"),))
        return
    given = str(values[BIRTHDAY])
    if given in (FUTURE, INVALID, NO_YEAR):
        turn.say(turn.t({FUTURE: "profile.birthday_future", INVALID: "profile.birthday_invalid",
                         NO_YEAR: "profile.birthday_no_year"}[given]))
        retry = {k: v for k, v in values.items() if k != BIRTHDAY}
        await start_form(turn, followup.form(PROFILE_FORM), values=retry)
        return
    if not values.get("confirm"):
        turn.say(turn.t("profile.unchanged"))
        return
    turn.services.directory.set_birthday(turn.member, date.fromisoformat(given))
    await selfservice.record_change(turn.session, member_id=turn.member.id, field=BIRTHDAY,
                                    channel=turn.inbound.channel, now=turn.now)
    turn.say(turn.t("profile.birthday_done", **_shown_birthday(turn, values)))


def _is(field: str) -> Any:
    return lambda values: values.get("field") == field


def register(registry: Registry, followup: Followup) -> None:
    registry.forms.add(Form(PROFILE_FORM, (
        Slot("field", "profile.ask_field", parse_field, buttons=field_buttons),
        Slot(BIRTHDAY, "profile.ask_birthday", _birthday, invalid="profile.bad_birthday",
             when=_asking(BIRTHDAY), personal=redact.DATE),
        Slot("confirm", "profile.confirm_birthday", affirmed, buttons=yes_no_buttons,
             when=_asking(BIRTHDAY, valid_birthday=True), prompt_values=_shown_birthday),
        Slot(NAME, "profile.ask_name", _name, invalid="profile.bad_name", free_text=True,
             when=_is(NAME), personal=redact.NAME),
        Slot(ADDRESS, "profile.ask_address", _address, invalid="profile.bad_address",
             free_text=True, when=_is(ADDRESS), personal=redact.ADDRESS),
        Slot(LANGUAGE, "profile.ask_language", _language, buttons=language_buttons,
             when=_is(LANGUAGE)),
        Slot(PHONE, "profile.ask_phone", _phone, invalid="binding.bad_phone", when=_is(PHONE),
             personal=redact.PHONE),
    ), on_complete=functools.partial(apply_profile_update, followup=followup)))
    handler = functools.partial(start_profile_update, followup=followup)
    registry.add(intents.PROFILE_UPDATE, functools.update_wrapper(handler, start_profile_update),
                 needs_member=True)

