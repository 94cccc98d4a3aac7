"""Personal data out of transcripts: codes never stored, personal answers masked, every
message text encrypted at rest, and staff still reading what they may."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.app import Kefu, build_kefu
from bot.core.crypto import Keyring, key_id_of
from bot.core.storage.db import make_sessionmaker, transaction
from bot.core.storage.models import Member, Message
from bot.dialogue.pipeline import Dialogue
from bot.dialogue.registry import Registry
from bot.features.privacy.export import export_member
from bot.features.security.rotation import message_key_usage, rotate_keys
from bot.settings import DatabaseSettings, Settings
from handlers import register_all
from tests.conftest import FIXED_NOW
from tests.factories import create_member, earn
from tests.handlers.conftest import Chat

PHONE_DIGITS = "13800000001"
NAME, ADDRESS = "陈小明", "上海市浦东新区世纪大道88号"


def file_bytes(folder: Path) -> bytes:
    """The database file and its write-ahead log, as a thief with a copy would read them."""
    return b"".join(p.read_bytes() for p in folder.glob("own.db*"))


def chat_with(kefu: Kefu) -> Chat:
    return Chat(Dialogue(services=kefu.services, sessions=kefu.sessions,
                         registry=register_all(Registry()), clock=lambda: FIXED_NOW))


@pytest.fixture
def chat(kefu: Kefu) -> Chat:
    return chat_with(kefu)


async def bind_and_update(kefu: Kefu, chat: Chat, caplog: pytest.LogCaptureFixture) -> str:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, member_no="M100001", phone="+86" + PHONE_DIGITS,
                                     name="王芳")
        await earn(session, member, 700)
    caplog.set_level(logging.INFO)
    await chat.say("/bind_account")
    assert "138****0001" in await chat.say(PHONE_DIGITS)
    code = re.findall(r"code (\d{6})", caplog.text)[-1]
    assert "绑定成功" in await chat.say(f"验证码是 {code}")
    await chat.say("/profile_update name")
    assert NAME in await chat.say(NAME)
    await chat.say("/profile_update address")
    assert "已更新" in await chat.say(ADDRESS)
    return code


async def raw_texts(kefu: Kefu) -> list[str]:
    async with transaction(kefu.sessions) as session:
        return [str(t) for t in (await session.execute(text("SELECT text FROM messages")))
                .scalars()]


async def test_no_code_phone_name_or_address_in_stored_texts(
        kefu: Kefu, chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    code = await bind_and_update(kefu, chat, caplog)
    stored = await raw_texts(kefu)
    assert len(stored) >= 10
    secrets = (code, PHONE_DIGITS, NAME, ADDRESS, "王芳", "浦东", "绑定", "bind")
    for value in stored:
        assert key_id_of(value) == kefu.directory.cipher.key_id, value[:40]
        assert not any(s in value for s in secrets), value[:40]


async def test_staff_read_masked_personal_answers_and_no_code(
        kefu: Kefu, chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    code = await bind_and_update(kefu, chat, caplog)
    async with transaction(kefu.sessions) as session:
        messages = list((await session.execute(select(Message).order_by(Message.id))).scalars())
        member = (await session.execute(select(Member))).scalar_one()
        exported = await export_member(session, directory=kefu.directory, member=member,
                                       settings=kefu.settings, now=FIXED_NOW)
    inbound = [m.text for m in messages if m.direction == "in"]
    # Decrypted for staff; personal answers masked, the code's digits never stored.
    assert "/bind_account" in inbound and "138****0001" in inbound
    assert "验证码是 ******" in inbound and not any(code in t for t in inbound)
    assert "陈**" in inbound and "上海市浦****" in inbound
    assert any("绑定成功" in m.text for m in messages if m.direction == "out")
    texts = [m["text"] for c in exported["conversations"] for m in c["messages"]]
    assert "验证码是 ******" in texts and any("绑定成功" in t for t in texts)


async def test_no_plaintext_in_the_sqlite_file(settings: Settings, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    # A database file of its own: the shared test database holds other tests' rows.
    url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    own = settings.model_copy(update={"database_url": url, "database": DatabaseSettings(url=url)})
    kefu = await build_kefu(own, clock=lambda: FIXED_NOW, migrate=True)
    try:
        code = await bind_and_update(kefu, chat_with(kefu), caplog)
    finally:
        await kefu.aclose()  # closes the engine: the write-ahead log is checkpointed
    raw = file_bytes(tmp_path)
    assert b"enc1:" in raw
    for value in (code, PHONE_DIGITS, NAME, ADDRESS, "王芳"):
        assert value.encode() not in raw, value


async def test_rotation_re_encrypts_message_texts(
        kefu: Kefu, chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    await bind_and_update(kefu, chat, caplog)
    async with transaction(kefu.sessions) as session:
        # A row from before transcripts were encrypted.
        await session.execute(text("UPDATE messages SET text = 'legacy plain' WHERE id = 1"))
    old = kefu.directory.keyring
    new = Keyring.from_secrets(b"n" * 32, previous=(b"t" * 32,))
    new = Keyring(new.current, (old.current,))
    sessions = make_sessionmaker(kefu.engine, keyring=new)
    directory = type(kefu.directory)(new.current, (old.current,))
    report = await rotate_keys(sessions, directory=directory)
    assert report.messages_reencrypted == len(await raw_texts(kefu))
    async with transaction(sessions) as session:
        assert dict(await message_key_usage(session)) == {
            new.current.key_id: report.messages_reencrypted}
        first = (await session.execute(select(Message).where(Message.id == 1))).scalar_one()
        assert first.text == "legacy plain"
    assert (await rotate_keys(sessions, directory=directory)).messages_reencrypted == 0
