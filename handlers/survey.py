"""The after-sales survey's answers: a 1-5 rating, then a comment; a low rating opens a case
with the purchase attached."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.messages import Button
from bot.core.storage.models import Purchase
from bot.dialogue.forms import Form, Slot, start_form
from bot.dialogue.handoff import desk
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.cases import store as cases
from bot.features.cases.csat import parse_comment, parse_rating, rating_buttons
from bot.features.cases.service import NewCase
from bot.features.proactive.surveys import get_survey

FORM_NAME = "survey"
# Members answer a survey when they see it, which may be days later.
ANSWER_WITHIN = timedelta(hours=72)
COMMENT_FORM_NAME = "survey_comment"


def ask_state(survey_id: int, now_iso: str) -> dict[str, Any]:
    """The conversation state that makes the member's next message the survey's rating
    (written by the survey job, outside any turn, as the CSAT question is)."""
    return {"form": {"name": FORM_NAME, "values": {"survey_id": survey_id},
                     "asking": "rating", "started_at": now_iso}}


def _buttons(turn: Turn) -> tuple[Button, ...]:
    return rating_buttons(turn.t)


def _skip(turn: Turn) -> tuple[Button, ...]:
    return (Button(turn.t("csat.skip"), "/skip"),)


async def _rated(turn: Turn, values: dict[str, Any]) -> None:
    survey = await get_survey(turn.session, survey_id=int(values["survey_id"]))
    if survey is None or survey.score is not None:
        turn.say(turn.t("proactive.survey_thanks"))
        return
    survey.score, survey.answered_at = int(values["rating"]), turn.now
    low = survey.score <= turn.settings.proactive.survey.low_score
    if low:
        purchase = await turn.session.get(Purchase, survey.purchase_id)
        assert purchase is not None
        case = await desk(turn).open_case(
            turn.session,
            new=NewCase(kind="complaint", category="after_sales",
                        store_code=purchase.store_code,
                        description=(f"After-sales survey: rated {survey.score}/5. Purchase "
                                     f"{purchase.external_ref or purchase.id}, "
                                     f"¥{purchase.amount}, {purchase.occurred_at.isoformat()}, "
                                     f"store {purchase.store_code or '-'}.")),
            identity=turn.identity, conversation=turn.conversation, member=turn.member,
            language=turn.language, now=turn.now)
        survey.case_id = case.id
        await cases.add_event(turn.session, case=case, kind="survey", now=turn.now,
                              data={"survey_id": survey.id, "purchase_id": purchase.id,
                                    "score": survey.score})
        turn.say(turn.t("proactive.survey_sorry", case=case.number))
    await start_form(turn, COMMENT_FORM, values={"survey_id": survey.id})


async def _commented(turn: Turn, values: dict[str, Any]) -> None:
    survey = await get_survey(turn.session, survey_id=int(values["survey_id"]))
    comment = str(values.get("comment") or "")
    if survey is not None and comment:
        survey.comment = comment
        if survey.case_id is not None:
            case = await cases.get_case(turn.session, case_id=survey.case_id)
            if case is not None:
                await cases.add_event(turn.session, case=case, kind="survey_comment",
                                      now=turn.now, body=comment)
    turn.say(turn.t("proactive.survey_thanks"))


async def _no_comment(turn: Turn, _values: dict[str, Any]) -> None:
    turn.say(turn.t("proactive.survey_thanks"))


FORM = Form(FORM_NAME, (
    Slot("rating", "csat.ask", parse_rating, invalid="csat.invalid", buttons=_buttons),),
    on_complete=_rated, timeout=ANSWER_WITHIN)
COMMENT_FORM = Form(COMMENT_FORM_NAME, (
    Slot("comment", "proactive.survey_comment", parse_comment, buttons=_skip),),
    on_complete=_commented, on_cancel=_no_comment)


def register(registry: Registry) -> None:
    registry.forms.add(FORM)
    registry.forms.add(COMMENT_FORM)
