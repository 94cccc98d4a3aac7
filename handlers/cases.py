"""The customer's cases: their status and due times, and a late satisfaction rating."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.storage.models_cases import Case
from bot.dialogue.turn import Turn
from bot.features.cases import store
from bot.features.cases.csat import TIMEOUT, parse_rating, save_rating
from bot.features.cases.sla import zone_of

LISTED = 5


def local_time(turn: Turn, moment: datetime, zone_name: str) -> str:
    """A moment as the customer reads it: the date in their language and the local time."""
    local = moment.astimezone(zone_of(zone_name))
    return f"{turn.services.translator.format_date(turn.language, local.date())} {local:%H:%M}"


def _due(turn: Turn, case: Case) -> str:
    if case.status == store.CLOSED and case.closed_at is not None:
        return turn.t("cases.closed_on", due=local_time(turn, case.closed_at, case.timezone))
    if case.first_responded_at is None and case.first_response_due_at is not None:
        return turn.t("cases.due_first",
                      due=local_time(turn, case.first_response_due_at, case.timezone))
    if case.resolution_due_at is not None:
        return turn.t("cases.due_resolution",
                      due=local_time(turn, case.resolution_due_at, case.timezone))
    return ""


def describe(turn: Turn, case: Case) -> str:
    kind = turn.t(f"feedback.kinds.{case.kind}")
    if case.category:
        kind += "·" + turn.t(f"feedback.categories.{case.category}")
    return turn.t("cases.status_item", number=case.number, kind=kind,
                  status=turn.t(f"cases.statuses.{case.status}"), due=_due(turn, case))


def _asked_number(turn: Turn) -> str | None:
    if turn.parse is not None:
        value = turn.parse.first_entity("case_id")
        if value is not None:
            return str(value)
    argument = turn.argument.strip().upper()
    return argument or None


async def show_cases(turn: Turn) -> None:
    """case_status: one case by its number, or the customer's latest ones."""
    member_id = turn.member.id if turn.member else None
    number = _asked_number(turn)
    if number is not None:
        case = await store.find_case(turn.session, number=number)
        # Only the customer's own cases: a number is easy to guess.
        if case is None or not (case.identity_id == turn.identity.id
                                or (member_id is not None and case.member_id == member_id)):
            turn.say(turn.t("cases.status_not_found", number=number))
            return
        turn.say(describe(turn, case))
        return
    cases = await store.cases_of_customer(turn.session, member_id=member_id,
                                          identity_id=turn.identity.id, limit=LISTED)
    cases = [c for c in cases if c.resolution_code != "withdrawn"]
    if not cases:
        turn.say(turn.t("cases.status_none"))
        return
    turn.say("\n".join([turn.t("cases.status_header"), *(describe(turn, c) for c in cases)]))


async def rate_service(turn: Turn) -> None:
    """A rating button pressed after the question itself timed out or was answered."""
    score = parse_rating(turn, turn.text)
    case = await store.closed_awaiting_csat(turn.session, conversation_id=turn.conversation.id,
                                            since=turn.now - TIMEOUT - timedelta(days=1))
    if score is None or case is None:
        turn.say(turn.t("csat.none"))
        return
    await save_rating(turn, case_id=case.id, score=score)
    turn.say(turn.t("csat.thanks"))
