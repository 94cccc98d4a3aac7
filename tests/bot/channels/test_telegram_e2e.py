"""Telegram end to end: webhook → dialogue → outbox → dispatcher → simulator (real PTB)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.core.storage.members import find_identity
from bot.core.storage.models import Message, OutboxMessage
from kefu_sim import callback_update, contact_update, text_update
from tests.bot.channels.conftest import TelegramRig, eventually, wait_for
from tests.factories import bound_member


async def test_webhook_is_registered_with_the_secret(telegram_rig: TelegramRig) -> None:
    await wait_for(lambda: bool(telegram_rig.sim.webhook.url))
    assert telegram_rig.sim.webhook.url == "https://kefu.example.com/webhooks/telegram"
    assert telegram_rig.sim.webhook.secret_token == "kefu-webhook-secret"


async def test_a_bound_member_gets_their_balance(telegram_rig: TelegramRig) -> None:
    await bound_member(telegram_rig.kefu, channel="telegram", sender="501", points=4321)
    response = await telegram_rig.push(text_update("/points", user_id=501))
    assert response.status_code == 200
    await wait_for(lambda: bool(telegram_rig.sim.sent_to(501)))
    assert "4,321" in telegram_rig.sim.sent_to(501)[0].text


async def test_redelivered_update_is_stored_and_answered_once(telegram_rig: TelegramRig) -> None:
    update = text_update("/help", user_id=502)
    for _ in range(3):
        assert (await telegram_rig.push(update)).status_code == 200
    await wait_for(lambda: bool(telegram_rig.sim.sent_to(502)))
    async with telegram_rig.kefu.sessions() as session:
        inbound = await session.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "telegram", Message.direction == "in"))
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert inbound == 1
    assert queued == 1
    assert len(telegram_rig.sim.sent_to(502)) == 1


async def test_wrong_secret_or_bad_body_touches_nothing(telegram_rig: TelegramRig) -> None:
    assert (await telegram_rig.push(text_update("hi", user_id=503), secret="nope")
            ).status_code == 403
    assert (await telegram_rig.push(text_update("hi", user_id=503), secret=None)
            ).status_code == 403
    bad = await telegram_rig.client.post(
        "/webhooks/telegram", content=b"{oops", headers={
            "X-Telegram-Bot-Api-Secret-Token": "kefu-webhook-secret"})
    assert bad.status_code == 400
    assert (await telegram_rig.push({"no": "update"})).status_code == 400
    async with telegram_rig.kefu.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_429_parks_the_message_then_delivers_it(telegram_rig: TelegramRig) -> None:
    telegram_rig.sim.fail_next(1, status=429, retry_after=1, methods=["sendMessage"])
    await telegram_rig.push(text_update("/help", user_id=504))
    await wait_for(lambda: bool(telegram_rig.sim.sent_to(504)), within=20)
    row = await eventually(lambda: sent_row(telegram_rig))
    assert row.attempts == 1  # the 429 was not the message's fault
    assert row.sent_at is not None and row.sent_at >= row.created_at


async def test_5xx_is_retried(telegram_rig: TelegramRig) -> None:
    telegram_rig.sim.fail_next(1, status=502, methods=["sendMessage"])
    await telegram_rig.push(text_update("/help", user_id=505))
    await wait_for(lambda: bool(telegram_rig.sim.sent_to(505)), within=20)
    row = await eventually(lambda: sent_row(telegram_rig))
    assert row.attempts == 2


async def sent_row(rig: TelegramRig) -> OutboxMessage | None:
    """The only outbox row, once the dispatcher has recorded it as sent."""
    async with rig.kefu.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    return row if row.status == "sent" else None


async def test_blocked_user_is_recorded_and_never_retried(telegram_rig: TelegramRig) -> None:
    telegram_rig.sim.block_chat(506)
    await telegram_rig.push(text_update("/help", user_id=506))

    async def failed() -> OutboxMessage | None:
        async with telegram_rig.kefu.sessions() as session:
            return (await session.execute(select(OutboxMessage).where(
                OutboxMessage.status == "failed"))).scalar_one_or_none()

    row = None
    for _ in range(200):
        row = await failed()
        if row is not None:
            break
        await asyncio.sleep(0.05)
    assert row is not None and "blocked" in (row.last_error or "")
    async with telegram_rig.kefu.sessions() as session:
        identity = await find_identity(session, channel="telegram", external_id="506")
    assert identity is not None and identity.undeliverable_reason
    calls_before = len([c for c in telegram_rig.sim.calls if c.method.lower() == "sendmessage"])
    await telegram_rig.push(text_update("/points", user_id=506))
    await asyncio.sleep(1.0)
    calls_after = len([c for c in telegram_rig.sim.calls if c.method.lower() == "sendmessage"])
    assert calls_after == calls_before
    telegram_rig.sim.unblock_chat(506)


async def test_button_press_is_answered_and_acknowledged(telegram_rig: TelegramRig) -> None:
    await bound_member(telegram_rig.kefu, channel="telegram", sender="507", points=88)
    update = callback_update("/points", user_id=507)
    await telegram_rig.push(update)
    await wait_for(lambda: bool(telegram_rig.sim.sent_to(507)))
    assert "88" in telegram_rig.sim.sent_to(507)[0].text
    await wait_for(lambda: any(a.get("callback_query_id") == update["callback_query"]["id"]
                               for a in telegram_rig.sim.callback_answers))


async def test_sharing_the_own_contact_binds_and_answers(telegram_rig: TelegramRig) -> None:
    await bound_member(telegram_rig.kefu, channel="web", sender="someone-else", points=3030,
                       phone="+8613900000077", member_no="M100077")
    await telegram_rig.push(text_update("/points", user_id=508))
    # the bot asks for the contact with a reply keyboard button (request_contact)
    await wait_for(lambda: any(m.reply_markup and "keyboard" in m.reply_markup
                               for m in telegram_rig.sim.sent_to(508)))
    await telegram_rig.push(contact_update("+86 139 0000 0077", user_id=508))
    await wait_for(lambda: any("3,030" in m.text for m in telegram_rig.sim.sent_to(508)))
    async with telegram_rig.kefu.sessions() as session:
        identity = await find_identity(session, channel="telegram", external_id="508")
    assert identity is not None and identity.member_id is not None


async def test_someone_elses_contact_does_not_bind(telegram_rig: TelegramRig) -> None:
    await bound_member(telegram_rig.kefu, channel="web", sender="owner", points=10,
                       phone="+8613900000078", member_no="M100078")
    await telegram_rig.push(contact_update("+8613900000078", user_id=509, contact_user_id=999))
    await wait_for(lambda: bool(telegram_rig.sim.sent_to(509)))
    async with telegram_rig.kefu.sessions() as session:
        identity = await find_identity(session, channel="telegram", external_id="509")
    assert identity is not None and identity.member_id is None
