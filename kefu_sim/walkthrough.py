"""Type as a WeChat follower in the terminal: Kefu with demo data behind its real webhook, the
WeChat simulator in front, and what the follower would see printed.

Each line is pushed to ``/webhooks/wechat`` exactly as WeChat's servers push it (signed XML);
the passive reply and any customer-service messages Kefu sends afterwards through the
simulated API are printed as the follower's phone would show them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from bot.cli.common import open_kefu
from bot.cli.demo_cmd import seed
from bot.cli.nlu_loading import load_nlu
from bot.server.asgi import create_app
from bot.settings import Settings
from kefu_sim.defaults import DEMO_FOLLOWER as DEMO_FOLLOWER
from kefu_sim.runner import serve_in_thread
from kefu_sim.wechat import DEFAULT_SECRET, WeChatSimConfig, WeChatSimulator
from kefu_sim.wechat_xml import DEFAULT_APPID

TOKEN = "kefu-walkthrough"  # noqa: S105 - the simulator's own, never a real account's
# How long to wait for customer-service messages after a passive reply (the outbox sends
# what did not fit in it, a moment later).
FOLLOW_UP_SECONDS = 1.5

ReadLine = Callable[[], str | None]
Echo = Callable[[str], None]


def with_simulated_wechat(settings: Settings, api_base_url: str) -> Settings:
    return settings.model_copy(update={
        "wechat_token": SecretStr(TOKEN), "wechat_app_id": DEFAULT_APPID,
        "wechat_app_secret": SecretStr(DEFAULT_SECRET), "wechat_aes_key": None,
        "wechat_api_base_url": api_base_url})


async def wechat_walkthrough(settings: Settings, *, follower: str, read_line: ReadLine,
                             echo: Echo) -> None:
    """Runs until ``read_line`` returns None (end of input)."""
    sim = WeChatSimulator(WeChatSimConfig(appid=DEFAULT_APPID, secret=DEFAULT_SECRET))
    with serve_in_thread(sim) as api_url:
        configured = with_simulated_wechat(settings, api_url)
        await seed(configured)
        nlu = await asyncio.to_thread(load_nlu, configured)
        async with open_kefu(configured, nlu=nlu) as kefu:
            app = create_app(kefu, close_on_shutdown=False)
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://kefu.local") as http:
                pusher = sim.pusher("http://kefu.local/webhooks/wechat", token=TOKEN,
                                    client=http)
                seen = 0

                async def show(result: Any) -> None:
                    nonlocal seen
                    if not result.ok:
                        echo(f"  (WeChat would show: 该公众号暂时无法提供服务 — {result.error})")
                    if result.reply and result.reply.get("Content"):
                        echo(_as_phone(result.reply["Content"]))
                    await asyncio.sleep(FOLLOW_UP_SECONDS)
                    later = sim.sent_to(follower)
                    for message in later[seen:]:
                        echo(_as_phone(message.text or f"[{message.msgtype}]"))
                    seen = len(later)

                echo(f"You are the WeChat follower {follower}. Type a message; Ctrl-D to "
                     "leave.")
                await show(await pusher.event(follower, "subscribe"))
                while (line := await asyncio.to_thread(read_line)) is not None:
                    if line.strip():
                        await show(await pusher.text(follower, line.strip()))


def _as_phone(text: str) -> str:
    lines = text.splitlines() or [""]
    return "\n".join([f"kefu> {lines[0]}", *(f"      {line}" for line in lines[1:])])


TELEGRAM_SECRET = "kefu-walkthrough-secret"  # noqa: S105 - the simulator's own
# A contact the Telegram user can share with "/share": a demo member's number.
DEMO_PHONE = "+8613800000001"


async def telegram_walkthrough(settings: Settings, *, user_id: int, read_line: ReadLine,
                               echo: Echo) -> None:
    """Type as a Telegram user: a digit presses that button of the last keyboard, ``/share``
    shares the user's own contact (a demo member's number), anything else is a message."""
    from bot.settings import ServerSettings
    from kefu_sim.telegram import DEFAULT_TOKEN, TelegramSimConfig, TelegramSimulator
    from kefu_sim.telegram_updates import callback_update, contact_update, text_update

    sim = TelegramSimulator(TelegramSimConfig(token=DEFAULT_TOKEN))
    with serve_in_thread(sim) as api_url:
        configured = settings.model_copy(update={
            "telegram_bot_token": SecretStr(DEFAULT_TOKEN),
            "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
            "telegram_api_base_url": api_url,
            "server": ServerSettings(public_url="https://kefu.walkthrough.invalid")})
        await seed(configured)
        nlu = await asyncio.to_thread(load_nlu, configured)
        async with open_kefu(configured, nlu=nlu) as kefu:
            app = create_app(kefu, close_on_shutdown=False)
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://kefu.local") as http:
                seen = 0
                keyboard: list[str] = []

                async def send(update: dict[str, Any]) -> None:
                    nonlocal seen, keyboard
                    response = await http.post(
                        "/webhooks/telegram", json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
                    if response.status_code != 200:
                        echo(f"  (the webhook answered {response.status_code})")
                    # The outbox paces a chat at one message a second: wait until it is quiet.
                    quiet = 0.0
                    while quiet < 1.5:
                        await asyncio.sleep(0.25)
                        later = sim.sent_to(user_id)
                        if len(later) > seen:
                            for message in later[seen:]:
                                echo(_as_phone(message.text))
                                buttons = [b for row in (message.reply_markup or {}).get(
                                    "inline_keyboard", []) for b in row]
                                if buttons:
                                    keyboard = [str(b.get("callback_data", "")) for b in buttons]
                                    echo("      " + "  ".join(
                                        f"[{n}] {b.get('text', '')}"
                                        for n, b in enumerate(buttons, start=1)))
                            seen, quiet = len(later), 0.0
                        else:
                            quiet += 0.25

                echo(f"You are the Telegram user {user_id}. Type a message, a number to press "
                     "a button, /share to share your contact; Ctrl-D to leave.")
                await send(text_update("/start", user_id=user_id))
                while (line := await asyncio.to_thread(read_line)) is not None:
                    text = line.strip()
                    if not text:
                        continue
                    if text.isdigit() and 1 <= int(text) <= len(keyboard):
                        await send(callback_update(keyboard[int(text) - 1], user_id=user_id))
                    elif text == "/share":
                        await send(contact_update(DEMO_PHONE, user_id=user_id))
                    else:
                        await send(text_update(text, user_id=user_id))
