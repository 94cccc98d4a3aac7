"""Long replies through the webhooks as the platforms call them: a WeChat passive reply
never exceeds 2,048 bytes (WeChat drops it silently), the rest arrives through the
customer-service API in order; a Telegram reply over 4,096 characters arrives in parts."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from bot.core.storage.models import OutboxMessage
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from kefu_sim import text_message, text_update
from tests.bot.channels.conftest import TelegramRig, WeChatRig, eventually, wait_for

LONG_INTENT = "long_answer"


def chinese_text(min_bytes: int) -> str:
    """Numbered Chinese sentences (3 bytes a character), each one recognisable."""
    sentences: list[str] = []
    n = 0
    while len("".join(sentences).encode()) < min_bytes:
        n += 1
        sentences.append(f"第{n}条：会员积分按消费金额累计，每满一百元得十分，积分两年有效。")
    return "".join(sentences)


def register_long_answer(registry: Registry, text: str) -> None:
    """A handler that answers with ``text``, reached by the command /long_answer."""
    async def long_answer(turn: Turn) -> None:
        turn.say(text)

    registry.add(LONG_INTENT, long_answer)


def squeeze(text: str) -> str:
    """Whitespace dropped: parts are cut at sentence ends and joined by blank lines."""
    return "".join(text.split())


@pytest.mark.parametrize("size", [3_000, 7_000], ids=["3000-bytes", "7000-bytes"])
async def test_long_wechat_reply_is_passive_within_2048_bytes_then_api_in_order(
        wechat_rig: WeChatRig, size: int) -> None:
    openid = "oL" + uuid.uuid4().hex[:26]
    text = chinese_text(size)
    rig = wechat_rig
    register_long_answer(rig.kefu.dialogue.registry, text)
    result = await rig.pusher().text(openid, f"/{LONG_INTENT}")
    assert result.ok, result.error
    assert result.reply is not None
    passive = result.reply["Content"]
    assert 0 < len(passive.encode()) <= 2048

    async def all_sent() -> list[OutboxMessage] | None:
        async with rig.kefu.sessions() as session:
            rows = list((await session.execute(
                select(OutboxMessage).where(OutboxMessage.recipient_id == openid)
                .order_by(OutboxMessage.id))).scalars())
        return rows if rows and all(r.status == "sent" for r in rows) else None

    rows = await eventually(all_sent)
    await asyncio.sleep(0.3)  # anything sent twice would show up by now
    api = [m.text for m in rig.sim.sent_to(openid)]
    assert api, "the rest of the reply must come through the customer-service API"
    assert all(len(part.encode()) <= 2048 for part in api)
    # All of it, in order, nothing twice.
    assert squeeze(passive + "".join(api)) == squeeze(text)
    vias = [r.delivered_via for r in rows]
    assert vias[0] == "passive" and set(vias[1:]) == {"api"}
    assert all(len(str(r.payload["text"]).encode()) <= 2048 for r in rows)


async def test_wechat_retry_of_a_long_reply_repeats_only_the_passive_part(
        wechat_rig: WeChatRig) -> None:
    openid = "oR" + uuid.uuid4().hex[:26]
    text = chinese_text(3_000)
    rig = wechat_rig
    register_long_answer(rig.kefu.dialogue.registry, text)
    fields = text_message(f"/{LONG_INTENT}", openid=openid, msg_id=4242)
    first = await rig.pusher().push(fields)
    second = await rig.pusher().push(fields)
    assert first.reply is not None and second.reply is not None
    assert second.reply["Content"] == first.reply["Content"]
    await wait_for(lambda: bool(rig.sim.sent_to(openid)))
    await asyncio.sleep(1.5)
    api = [m.text for m in rig.sim.sent_to(openid)]
    assert squeeze(first.reply["Content"] + "".join(api)) == squeeze(text)


async def test_long_telegram_reply_is_split_within_4096_characters(
        telegram_rig: TelegramRig) -> None:
    text = "\n".join(f"Line {n}: points are earned on every purchase, one per yuan spent."
                     for n in range(150))  # about 10,000 characters
    assert len(text) > 2 * 4096
    register_long_answer(telegram_rig.kefu.dialogue.registry, text)
    response = await telegram_rig.push(text_update(f"/{LONG_INTENT}", user_id=611))
    assert response.status_code == 200
    await wait_for(lambda: len("".join(m.text for m in telegram_rig.sim.sent_to(611)))
                   >= len(squeeze(text)), within=20)
    await asyncio.sleep(0.3)
    parts = [m.text for m in telegram_rig.sim.sent_to(611)]
    assert len(parts) >= 3
    assert all(len(part) <= 4096 for part in parts)
    assert squeeze("".join(parts)) == squeeze(text)
