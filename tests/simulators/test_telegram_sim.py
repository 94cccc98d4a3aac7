"""The Telegram simulator, driven through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from typer.testing import CliRunner

from kefu_sim import cli
from kefu_sim.limits import ManualClock
from kefu_sim.runner import serve_in_thread
from kefu_sim.telegram import TelegramSimConfig, TelegramSimulator
from kefu_sim.telegram_updates import (
    SECRET_TOKEN_HEADER,
    callback_update,
    contact_update,
    next_update_id,
    start_update,
    text_update,
)

TOKEN = "555000111:TEST-token"


# PTB 22 warns (even inside RetryAfter itself) that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def config(clock: ManualClock) -> TelegramSimConfig:
    return TelegramSimConfig(token=TOKEN, clock=clock)


@pytest.fixture
def sim(config: TelegramSimConfig) -> TelegramSimulator:
    return TelegramSimulator(config)


@pytest.fixture
def base_url(sim: TelegramSimulator) -> Iterator[str]:
    with serve_in_thread(sim) as url:
        yield url


@pytest.fixture
async def bot(base_url: str) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{base_url}/bot") as client:
        yield client


async def test_get_me_and_send_message(bot: Bot, sim: TelegramSimulator) -> None:
    me = await bot.get_me()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("查询积分", callback_data="points")]])

    message = await bot.send_message(chat_id=42, text="你好", reply_markup=markup)

    assert me.id == 555000111
    assert me.is_bot
    assert message.chat.id == 42
    assert message.text == "你好"
    assert message.reply_markup == markup
    [sent] = sim.sent
    assert (sent.chat_id, sent.text, sent.message_id) == (42, "你好", message.message_id)
    assert sent.reply_markup == {
        "inline_keyboard": [[{"text": "查询积分", "callback_data": "points"}]]
    }


async def test_unknown_token_is_unauthorized(base_url: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base_url}/bot1:wrong/getMe")
    wrong_bot = Bot("1:wrong", base_url=f"{base_url}/bot")

    try:
        with pytest.raises(InvalidToken):
            await wrong_bot.get_me()
    finally:
        await wrong_bot.request.shutdown()  # never initialized, so Bot.shutdown would skip it
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_injected_429_surfaces_as_retry_after(bot: Bot, sim: TelegramSimulator) -> None:
    sim.fail_next(status=429, retry_after=7, methods=["sendMessage"])

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat_id=1, text="first")
    await bot.send_message(chat_id=1, text="second")

    assert retry_seconds(caught.value) == 7
    assert [m.text for m in sim.sent] == ["second"]
    assert [c.status for c in sim.calls if c.method == "sendmessage"] == [429, 200]


async def test_injected_failure_for_one_chat_leaves_others_alone(
    bot: Bot, sim: TelegramSimulator
) -> None:
    sim.fail_next(2, status=429, retry_after=3, chat_id=7)

    await bot.send_message(chat_id=8, text="other chat")
    for _ in range(2):
        with pytest.raises(RetryAfter):
            await bot.send_message(chat_id=7, text="limited")
    await bot.send_message(chat_id=7, text="limited")

    assert [(m.chat_id, m.text) for m in sim.sent] == [(8, "other chat"), (7, "limited")]


async def test_blocked_chat_is_forbidden(bot: Bot, sim: TelegramSimulator) -> None:
    sim.block_chat(99)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat_id=99, text="hello?")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(chat_id=99, action="typing")
    await bot.send_message(chat_id=100, text="fine")

    assert [m.chat_id for m in sim.sent] == [100]


async def test_server_error_surfaces_as_network_error(bot: Bot, sim: TelegramSimulator) -> None:
    sim.fail_next(status=502)

    with pytest.raises(NetworkError):
        await bot.send_message(chat_id=1, text="x")
    await bot.send_message(chat_id=1, text="x")

    assert len(sim.sent) == 1


async def test_text_length_rules(bot: Bot, sim: TelegramSimulator) -> None:
    longest = "字" * 4096

    await bot.send_message(chat_id=1, text=longest)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat_id=1, text=longest + "!")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat_id=1, text="   ")

    assert [m.text for m in sim.sent] == [longest]


async def test_global_rate_limit_answers_429_until_the_window_passes(
    base_url: str, clock: ManualClock
) -> None:
    limited = TelegramSimulator(TelegramSimConfig(token=TOKEN, global_limit=5, clock=clock))
    with serve_in_thread(limited) as url:
        async with Bot(TOKEN, base_url=f"{url}/bot") as client:
            for chat in range(5):
                await client.send_message(chat_id=chat + 1, text="burst")
            clock.advance(0.4)
            with pytest.raises(RetryAfter) as caught:
                await client.send_message(chat_id=6, text="one too many")
            clock.advance(0.6)
            await client.send_message(chat_id=6, text="after the window")

    assert retry_seconds(caught.value) == 1
    assert len(limited.sent) == 6


async def test_per_chat_limit_is_separate_for_each_chat(clock: ManualClock) -> None:
    config = TelegramSimConfig(token=TOKEN, per_chat_limit=1, per_chat_window=1.0, clock=clock)
    limited = TelegramSimulator(config)
    with serve_in_thread(limited) as url:
        async with Bot(TOKEN, base_url=f"{url}/bot") as client:
            await client.send_message(chat_id=1, text="a")
            with pytest.raises(RetryAfter):
                await client.send_message(chat_id=1, text="b")
            await client.send_message(chat_id=2, text="c")

    assert [m.text for m in limited.sent] == ["a", "c"]


async def test_get_updates_long_polls_and_confirms_with_offset(
    bot: Bot, sim: TelegramSimulator
) -> None:
    threading.Timer(0.2, sim.enqueue_update, [start_update("bind-abc", user_id=5)]).start()

    first = await bot.get_updates(timeout=3)
    sim.enqueue_update(contact_update("+8613800000000", user_id=5))
    sim.enqueue_update(callback_update("points", user_id=5))
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=1)
    again = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)

    assert [u.message.text for u in first if u.message] == ["/start bind-abc"]
    assert first[0].message is not None
    assert first[0].message.entities[0].type == "bot_command"
    contact = rest[0].message.contact if rest[0].message else None
    assert contact is not None
    assert contact.user_id == 5
    assert rest[1].callback_query is not None
    assert rest[1].callback_query.data == "points"
    assert again == ()
    assert sim.pending_update_count == 0


async def test_webhook_delivery_carries_the_secret_token(bot: Bot, sim: TelegramSimulator) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: Request) -> Response:
        received.append((request.headers.get(SECRET_TOKEN_HEADER), await request.json()))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/webhooks/telegram", hook, methods=["POST"])])
    update = text_update("hi", user_id=77)
    with serve_in_thread(receiver) as hook_url:
        await bot.set_webhook(f"{hook_url}/webhooks/telegram", secret_token="s3cret-Token_1")
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict):
            await bot.get_updates()
        delivery = await sim.deliver(update)
        await bot.delete_webhook()
        queued = await sim.deliver(text_update("later"))

    assert info.url == f"{hook_url}/webhooks/telegram"
    assert delivery is not None
    assert delivery.ok
    assert delivery.attempts == 1
    assert received == [("s3cret-Token_1", update)]
    assert queued is None
    assert sim.pending_update_count == 1


async def test_callback_answers_and_chat_actions_are_recorded(
    bot: Bot, sim: TelegramSimulator
) -> None:
    await bot.answer_callback_query("12345", text="已收到")
    await bot.send_chat_action(chat_id=3, action="typing")

    assert sim.callback_answers[0]["callback_query_id"] == "12345"
    assert sim.callback_answers[0]["text"] == "已收到"
    assert sim.chat_actions == [(3, "typing")]


async def test_control_api_queues_shorthand_updates_and_lists_sent(
    base_url: str, bot: Bot, sim: TelegramSimulator
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        queued = await http.post("/_sim/updates", json={"text": "积分", "user_id": 9})
        failed = await http.post("/_sim/fail", json={"count": 1, "status": 403, "chat_id": 9})
        updates = await bot.get_updates()
        with pytest.raises(Forbidden):
            await bot.send_message(chat_id=9, text="blocked once")
        await bot.send_message(chat_id=9, text="你的积分是 120")
        sent = (await http.get("/_sim/sent")).json()

    assert queued.json() == {"delivered": "queue"}
    assert failed.status_code == 200
    assert updates[0].message is not None
    assert updates[0].message.text == "积分"
    assert [(m["chat_id"], m["text"]) for m in sent] == [(9, "你的积分是 120")]


async def test_shutdown_does_not_wait_for_a_pending_long_poll(sim: TelegramSimulator) -> None:
    loop = asyncio.get_running_loop()
    with serve_in_thread(sim) as url:
        client = Bot(TOKEN, base_url=f"{url}/bot")
        await client.initialize()
        poll = asyncio.ensure_future(client.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        started = loop.time()
    await asyncio.wait([poll], timeout=5)
    await client.shutdown()

    assert loop.time() - started < 3
    assert poll.done()
    poll.exception()  # the poll ends empty or with a connection error; either is fine


def test_update_ids_are_unique_and_not_starting_at_one() -> None:
    ids = [next_update_id() for _ in range(1000)]

    assert len(set(ids)) == 1000
    assert min(ids) > 1000


async def test_strict_chats_know_only_users_who_wrote(clock: ManualClock) -> None:
    strict = TelegramSimulator(TelegramSimConfig(token=TOKEN, strict_chats=True, clock=clock))
    with serve_in_thread(strict) as url:
        async with Bot(TOKEN, base_url=f"{url}/bot") as client:
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await client.send_message(chat_id=31, text="cold message")
            strict.enqueue_update(text_update("hi", user_id=31))
            await client.send_message(chat_id=31, text="reply")

    assert [m.text for m in strict.sent] == ["reply"]


async def test_cli_builds_a_simulator_with_the_requested_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(cli, "_serve", lambda app, host, port: served.update(app=app, port=port))
    args = ["telegram", "--port", "9001", "--token", TOKEN, "--fail-429", "1"]
    args += ["--retry-after", "9", "--block-chat", "5", "--global-limit", "2"]

    result = CliRunner().invoke(cli.app, args)
    transport = httpx.ASGITransport(app=served["app"])
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        statuses = [
            await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": chat, "text": "x"})
            for chat in (1, 1, 5, 2, 3)
        ]

    assert result.exit_code == 0, result.output
    assert served["port"] == 9001
    assert statuses[0].json()["parameters"] == {"retry_after": 9}
    assert [r.status_code for r in statuses] == [429, 200, 403, 200, 429]
