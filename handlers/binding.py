"""Linking a chat to a membership: the shared contact, or a phone number and a one-time code."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.crypto import mask_phone
from bot.core.phones import normalize_phone
from bot.core.storage.members import get_member
from bot.dialogue import redact
from bot.dialogue.forms import Form, Slot, affirmed, start_form, yes_no_buttons
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.binding import codes, records
from bot.features.binding.sender import CodeNotSent, build_code_sender
from bot.features.loyalty.service import member_zone
from handlers.followup import Followup, intent_title, question_of
from handlers.membership import tier_name
from nlu import intents

PHONE_FORM, CODE_FORM, LOCKED_FORM, UNBIND_FORM = "bind_phone", "bind_code", "bind_locked", \
    "unbind"
UNBIND = "unbind"
UNBOUND_MEMBER = "unbound_member"
FOREIGN_CONTACT = "foreign_contact"
# Clients of these channels can share the sender's own, platform-verified phone number.
CONTACT_CHANNELS = frozenset({"telegram"})
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def can_share_contact(turn: Turn) -> bool:
    return turn.inbound.channel in CONTACT_CHANNELS


def parse_phone(turn: Turn, text: str) -> str | None:
    if turn.inbound.verified_phone:
        return turn.inbound.verified_phone
    found = turn.parse.first_entity("phone") if turn.parse is not None else None
    if found is not None:
        return normalize_phone(str(found))
    return normalize_phone(re.sub(r"[\s\-()]", "", text))


def parse_code(turn: Turn, text: str) -> str | None:
    match = _CODE.search(text)
    return match.group(1) if match else None


def _masked(turn: Turn, values: dict[str, Any]) -> dict[str, Any]:
    return {"phone": values.get("masked", ""), "minutes": codes.CODE_LIFETIME.seconds // 60}


def _hasher(turn: Turn) -> codes.Hasher:
    return turn.services.directory.cipher.blind_index


async def start_binding(turn: Turn, *, followup: Followup) -> None:
    """bind_account: the contact or phone flow, or what is already linked."""
    if turn.inbound.payload == FOREIGN_CONTACT:
        turn.say(turn.t("binding.foreign_contact"), request_contact=True)
        return
    if turn.member is not None:
        current = turn.services.directory.phone(turn.member)
        wanted = parse_phone(turn, turn.text)
        key = "binding.already_other" if wanted and wanted != current else "binding.already"
        turn.say(turn.t(key, phone=mask_phone(current) or "-"))
        return
    await _begin(turn, followup, pending=None)


async def ask_to_bind_first(turn: Turn, *, followup: Followup) -> None:
    """A member question from an unbound sender: bind first, then answer it."""
    if turn.inbound.payload == FOREIGN_CONTACT:
        turn.say(turn.t("binding.foreign_contact"), request_contact=True)
        return
    title = intent_title(turn, turn.intent or "")
    turn.say(turn.t("binding.needed_for", what=title) if title else turn.t("binding.needed"))
    await _begin(turn, followup, pending=question_of(turn))


async def _begin(turn: Turn, followup: Followup, *, pending: dict[str, Any] | None) -> None:
    values: dict[str, Any] = {"pending": pending}
    if turn.inbound.verified_phone:
        values["phone"] = turn.inbound.verified_phone
    elif pending is None and turn.argument and (typed := normalize_phone(turn.argument)):
        values["phone"] = typed  # /bind_account 13800000001
    await start_form(turn, followup.form(PHONE_FORM), values=values)


async def receive_phone(turn: Turn, values: dict[str, Any], *, followup: Followup) -> None:
    """The number is known: bind at once (verified contact) or send a code."""
    phone = str(values["phone"])
    session, directory = turn.session, turn.services.directory
    phone_index = directory.cipher.blind_index(phone)
    identity = turn.identity
    wait_until = await codes.retry_at(session, identity_id=identity.id, phone_index=phone_index,
                                      now=turn.now)
    if wait_until is not None:
        await codes.record_request(session, identity_id=identity.id, phone_index=phone_index,
                                   outcome=codes.LIMITED, member_id=None, now=turn.now)
        turn.say(turn.t("binding.limited", time=_time(turn, wait_until)))
        return
    member = await directory.find_by_phone(session, phone)
    if member is None:
        await codes.record_request(session, identity_id=identity.id, phone_index=phone_index,
                                   outcome=codes.UNKNOWN, member_id=None, now=turn.now)
        turn.say(turn.t("binding.unknown_phone", phone=mask_phone(phone)))
        return
    if turn.inbound.verified_phone == phone:
        await records.bind(session, identity=identity, member=member, method="contact",
                           now=turn.now)
        await _welcome(turn, member.id, values, followup)
        return
    challenge = await codes.record_request(session, identity_id=identity.id,
                                           phone_index=phone_index, outcome=codes.SENT,
                                           member_id=member.id, now=turn.now)
    code = codes.issue_code(challenge, hasher=_hasher(turn), now=turn.now)
    minutes = codes.CODE_LIFETIME.seconds // 60
    try:
        await build_code_sender(turn.settings).send(
            phone=phone, code=code, language=turn.language,
            text=turn.t("binding.sms", code=code, minutes=minutes))
    except CodeNotSent:
        challenge.outcome = codes.FAILED
        turn.say(turn.t("binding.send_failed"))
        return
    await start_form(turn, followup.form(CODE_FORM), values={
        "challenge": challenge.id, "masked": mask_phone(phone), "pending": values.get("pending")})


async def receive_code(turn: Turn, values: dict[str, Any], *, followup: Followup) -> None:
    verdict = await codes.verify_code(turn.session, challenge_id=int(values["challenge"]),
                                      code=str(values["code"]), hasher=_hasher(turn),
                                      now=turn.now)
    retry = {key: value for key, value in values.items() if key != "code"}
    if verdict.status == "wrong":
        turn.say(turn.t("binding.wrong_code", left=verdict.attempts_left))
        await start_form(turn, followup.form(CODE_FORM), values=retry)
    elif verdict.status == "locked":
        await start_form(turn, followup.form(LOCKED_FORM), values=retry)
    elif verdict.status == "expired":
        turn.say(turn.t("binding.expired"))
    else:
        assert verdict.challenge is not None and verdict.challenge.member_id is not None
        member = await get_member(turn.session, member_id=verdict.challenge.member_id)
        assert member is not None
        await records.bind(turn.session, identity=turn.identity, member=member, method="sms",
                           now=turn.now)
        await _welcome(turn, member.id, values, followup)


async def repeat_locked(turn: Turn, values: dict[str, Any], *, followup: Followup) -> None:
    """Any further code after five wrong ones: the same clear answer, nothing checked."""
    retry = {key: value for key, value in values.items() if key != "code"}
    await start_form(turn, followup.form(LOCKED_FORM), values=retry)


async def _welcome(turn: Turn, member_id: int, values: dict[str, Any],
                   followup: Followup) -> None:
    member = await get_member(turn.session, member_id=member_id)
    assert member is not None
    turn.member = member
    turn.conversation.member_id = member.id
    name = turn.services.directory.name(member) or member.member_no
    turn.say(turn.t("binding.done", name=name, tier=tier_name(turn, member.tier)))
    pending = values.get("pending")
    if isinstance(pending, dict):
        await followup.answer(turn, pending)


async def start_unbinding(turn: Turn, *, followup: Followup) -> None:
    if turn.member is None:
        turn.say(turn.t("binding.not_bound"))
        return
    phone = mask_phone(turn.services.directory.phone(turn.member)) or "-"
    await start_form(turn, followup.form(UNBIND_FORM), values={"masked": phone})


async def finish_unbinding(turn: Turn, values: dict[str, Any]) -> None:
    if not values.get("confirm"):
        turn.say(turn.t("binding.unbind_kept"))
        return
    await records.unbind(turn.session, identity=turn.identity, now=turn.now)
    turn.conversation.member_id = None
    turn.member = None
    turn.say(turn.t("binding.unbound"))


def _time(turn: Turn, moment: datetime) -> str:
    zone = (member_zone(turn.member, turn.settings) if turn.member
            else ZoneInfo(turn.settings.app.default_timezone))
    return moment.astimezone(zone).strftime("%H:%M")


def register(registry: Registry, followup: Followup) -> None:
    def bound(handler: Any) -> Any:
        return functools.update_wrapper(functools.partial(handler, followup=followup), handler)

    registry.forms.add(Form(PHONE_FORM, (
        Slot("phone", "binding.ask_phone", parse_phone, invalid="binding.bad_phone",
             entity="phone", request_contact=can_share_contact, personal=redact.PHONE),
    ), on_complete=bound(receive_phone), timeout=codes.CODE_LIFETIME * 2))
    registry.forms.add(Form(CODE_FORM, (
        Slot("code", "binding.ask_code", parse_code, invalid="binding.bad_code",
             prompt_values=_masked, personal=redact.SECRET),
    ), on_complete=bound(receive_code), timeout=codes.CODE_LIFETIME))
    registry.forms.add(Form(LOCKED_FORM, (
        Slot("code", "binding.locked", parse_code, invalid="binding.bad_code",
             prompt_values=_masked, personal=redact.SECRET),
    ), on_complete=bound(repeat_locked), timeout=codes.CODE_LIFETIME))
    registry.forms.add(Form(UNBIND_FORM, (
        Slot("confirm", "binding.ask_unbind", affirmed, buttons=yes_no_buttons,
             prompt_values=_masked),
    ), on_complete=finish_unbinding))
    registry.add(intents.BIND_ACCOUNT, bound(start_binding))
    registry.add(UNBIND, bound(start_unbinding))
    registry.add(UNBOUND_MEMBER, bound(ask_to_bind_first))
