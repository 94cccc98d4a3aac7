import logging
import re

import httpx
import pytest
from sqlalchemy import select

from bot.app import Kefu
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.core.storage.members import find_identity
from bot.core.storage.models_selfservice import BindingChallenge, BindingEvent
from bot.features.binding import codes
from bot.features.binding.sender import CodeNotSent, HttpCodeSender, LogCodeSender
from tests.conftest import FIXED_NOW
from tests.factories import create_member, earn
from tests.handlers.conftest import Chat, Clock

PHONE = "+8613800000001"


async def _member(kefu: Kefu, phone: str = PHONE, member_no: str = "M100001") -> None:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, member_no=member_no, phone=phone)
        await earn(session, member, 700)


def _last_code(caplog: pytest.LogCaptureFixture) -> str:
    return re.findall(r"code (\d{6})", caplog.text)[-1]


async def _bound_member_no(kefu: Kefu, channel: str = "web", sender: str = "alice") -> int | None:
    async with kefu.sessions() as session:
        identity = await find_identity(session, channel=channel, external_id=sender)
        return identity.member_id if identity else None


async def test_code_is_logged_masked_stored_hashed_and_binds(
        kefu: Kefu, chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    await _member(kefu)
    caplog.set_level(logging.INFO)
    assert "138****0001" in await chat.say("/bind_account 13800000001")
    code = _last_code(caplog)
    assert "13800000001" not in caplog.text and "138****0001" in caplog.text
    async with kefu.sessions() as session:
        challenge = (await session.scalars(select(BindingChallenge))).one()
    assert challenge.code_hash and code not in challenge.code_hash
    assert challenge.expires_at == FIXED_NOW + codes.CODE_LIFETIME
    assert "绑定成功" in await chat.say(code)
    assert await _bound_member_no(kefu) is not None
    assert "/unbind" in await chat.say("/bind_account")
    await chat.say("/unbind")
    assert "已解除绑定" in await chat.say("/affirm")
    assert await _bound_member_no(kefu) is None
    async with kefu.sessions() as session:
        events = list(await session.scalars(select(BindingEvent).order_by(BindingEvent.id)))
    assert [(e.action, e.method) for e in events] == [("bind", "sms"), ("unbind", "member")]


async def test_code_expires_after_five_minutes(kefu: Kefu, chat: Chat, clock: Clock,
                                              caplog: pytest.LogCaptureFixture) -> None:
    await _member(kefu)
    caplog.set_level(logging.INFO)
    await chat.say("/bind_account 13800000001")
    clock.advance(minutes=5, seconds=1)
    answer = await chat.say(_last_code(caplog))
    assert "已超时" in answer or "已过期" in answer
    assert await _bound_member_no(kefu) is None


async def test_five_wrong_codes_lock_the_code_even_the_right_one(
        kefu: Kefu, chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    await _member(kefu)
    caplog.set_level(logging.INFO)
    await chat.say("/bind_account 13800000001")
    right = _last_code(caplog)
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(5):
        await chat.say(wrong)
    assert "已连续输错 5 次" in await chat.say(right)
    assert await _bound_member_no(kefu) is None
    async with kefu.sessions() as session:
        challenge = (await session.scalars(select(BindingChallenge))).one()
    assert challenge.attempts == codes.MAX_ATTEMPTS and challenge.verified_at is None


async def test_rate_limits_per_phone_and_per_sender(kefu: Kefu, chat: Chat, clock: Clock) -> None:
    await _member(kefu)
    for _ in range(codes.PER_PHONE):
        assert "验证码已发送" in await chat.say("/bind_account 13800000001")
        clock.advance(seconds=61)
    assert "太频繁" in await chat.say("/bind_account 13800000001")
    # Another sender trying many numbers is stopped too, found or not.
    prober = Chat(chat.dialogue, sender="prober")
    for n in range(codes.PER_SENDER):
        await prober.say(f"/bind_account 139000011{n:02d}")
    assert "太频繁" in await prober.say("/bind_account 13800000009")
    clock.advance(hours=1, minutes=1)
    assert "验证码已发送" in await chat.say("/bind_account 13800000001")


async def test_unknown_phone_and_other_members_phone_change_nothing(kefu: Kefu,
                                                                    chat: Chat) -> None:
    await _member(kefu)
    await _member(kefu, phone="+8613800000002", member_no="M100002")
    assert "没有找到手机号 139****2222" in await chat.say("/bind_account 13911112222")
    assert await _bound_member_no(kefu) is None


async def test_telegram_contact_of_the_sender_binds_without_a_code(kefu: Kefu,
                                                                   chat: Chat) -> None:
    await _member(kefu)
    telegram = Chat(chat.dialogue, channel="telegram", sender="42")
    first = await telegram.send("/points")
    assert first[-1].request_contact
    answer = await telegram.dialogue.handle(InboundMessage(
        "telegram", "42", "/bind_account", FIXED_NOW, verified_phone=PHONE))
    text = "\n".join(r.text for r in answer)
    assert "绑定成功" in text and "700 分" in text  # then the original question is answered
    async with kefu.sessions() as session:
        event = (await session.scalars(select(BindingEvent))).one()
    assert event.method == "contact"


async def test_someone_elses_contact_is_refused(kefu: Kefu, chat: Chat) -> None:
    await _member(kefu)
    answer = await chat.dialogue.handle(InboundMessage(
        "telegram", "42", "/bind_account", FIXED_NOW, payload="foreign_contact"))
    assert "别人的联系人" in answer[0].text and answer[0].request_contact
    assert await _bound_member_no(kefu, "telegram", "42") is None


async def test_log_sender_masks_the_phone(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await LogCodeSender().send(phone=PHONE, code="123456", text="…", language="zh-Hans")
    assert "123456" in caplog.text and "13800000001" not in caplog.text


async def test_http_sender_posts_json_with_the_token_and_reports_failures() -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200 if len(seen) == 1 else 503)

    sender = HttpCodeSender(url="https://sms.example/send", token="t0k", timeout=1,
                            transport=httpx.MockTransport(gateway))
    await sender.send(phone=PHONE, code="123456", text="code 123456", language="en")
    assert seen[0].headers["Authorization"] == "Bearer t0k"
    assert b'"code":"123456"' in seen[0].content.replace(b" ", b"")
    with pytest.raises(CodeNotSent, match="503"):
        await sender.send(phone=PHONE, code="123456", text="code", language="en")
