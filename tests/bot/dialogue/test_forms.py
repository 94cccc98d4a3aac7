from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import Kefu
from bot.core.messages import InboundMessage
from bot.dialogue.forms import Form, Slot, affirmed, start_form, yes_no_buttons
from bot.dialogue.pipeline import Dialogue
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from handlers import register_all
from tests.conftest import FIXED_NOW
from tests.factories import bound_member

completed: list[dict[str, Any]] = []


def _number(turn: Turn, text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


async def _done(turn: Turn, values: dict[str, Any]) -> None:
    completed.append(values)
    turn.say(f"done {values['count']} {values['sure']}")


SURVEY = Form(
    name="questionnaire",
    slots=(
        Slot("count", "test.count", _number, invalid="test.bad"),
        Slot("sure", "test.sure", affirmed, buttons=yes_no_buttons),
    ),
    on_complete=_done,
    timeout=timedelta(minutes=10),
)


async def _start_survey(turn: Turn) -> None:
    await start_form(turn, SURVEY)


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now


def dialogue(kefu: Kefu, clock: Clock) -> Dialogue:
    registry = register_all(Registry())
    registry.add("questionnaire", _start_survey)
    registry.forms.add(SURVEY)
    return Dialogue(services=kefu.services, sessions=kefu.sessions, registry=registry,
                    clock=clock)


async def say(d: Dialogue, text: str) -> list[str]:
    replies = await d.handle(InboundMessage("web", "alice", text, datetime.now(UTC)))
    return [r.text for r in replies]


async def test_form_fills_validates_and_completes(kefu: Kefu) -> None:
    completed.clear()
    d = dialogue(kefu, Clock())
    assert await say(d, "/questionnaire") == ["test.count"]
    assert await say(d, "many") == ["test.bad", "test.count"]
    assert await say(d, "3") == ["test.sure"]
    assert await say(d, "/affirm") == ["done 3 True"]
    assert completed == [{"count": 3, "sure": True}]
    # the form is over: the next message is an ordinary one
    assert "test.count" not in await say(d, "/help")


async def test_cancel_words_end_the_form(kefu: Kefu) -> None:
    d = dialogue(kefu, Clock())
    await say(d, "/questionnaire")
    for word in ("算了",):
        replies = await say(d, word)
        assert replies == ["好的，已取消。还有什么可以帮您？"]
    assert "test.count" not in await say(d, "5")


async def test_an_interruption_is_answered_then_the_question_repeated(kefu: Kefu) -> None:
    await bound_member(kefu, sender="alice", points=900)
    d = dialogue(kefu, Clock())
    await say(d, "/questionnaire")
    replies = await say(d, "/points")
    assert "900" in replies[0]
    assert replies[-1].endswith("test.count")
    assert replies[-1].startswith("我们回到刚才的问题")
    assert await say(d, "4") == ["test.sure"]


async def test_a_stale_form_expires(kefu: Kefu) -> None:
    clock = Clock()
    d = dialogue(kefu, clock)
    await say(d, "/questionnaire")
    clock.now = FIXED_NOW + timedelta(minutes=11)
    replies = await say(d, "7")
    assert replies[0].startswith("刚才的流程已超时")
    assert "test.sure" not in replies
