from datetime import date

import pytest
from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.models import Member
from bot.core.storage.models_selfservice import ProfileChange
from handlers.birthdays import FUTURE, INVALID, NO_YEAR, parse_birthday
from tests.factories import bound_member
from tests.handlers.conftest import Chat, Clock

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(("text", "expected"), [
    ("1990-05-03", "1990-05-03"), ("1990年5月3日", "1990-05-03"), ("3 May 1990", "1990-05-03"),
    ("May 3, 1990", "1990-05-03"), ("19900503", "1990-05-03"), ("1992/2/29", "1992-02-29"),
    ("1990年2月30日", INVALID), ("1991/2/29", INVALID), ("2月30日", INVALID),
    ("2030-01-01", FUTURE), ("2026-11-24", FUTURE), ("5月3日", NO_YEAR),
    ("hello", None), ("13800000001", None),
])
def test_birthdays_are_real_dates_with_a_year_not_in_the_future(text: str,
                                                                 expected: str | None) -> None:
    assert parse_birthday(text, today=TODAY) == expected


async def _member(kefu: Kefu) -> Member:
    async with kefu.sessions() as session:
        member = (await session.scalars(select(Member))).one()
    return member


async def test_birthday_changes_once_a_year(kefu: Kefu, chat: Chat, clock: Clock) -> None:
    await bound_member(kefu)
    await chat.say("/profile_update birthday")
    assert "不能是将来" in await chat.say("2027-01-01")
    await chat.say("1990-05-03")
    assert "已将您的生日更新为 1990年5月3日" in await chat.say("/affirm")
    assert kefu.directory.birthday(await _member(kefu)) == date(1990, 5, 3)
    clock.advance(days=200)
    assert "2027年11月23日 之后才能再次修改" in await chat.say("/profile_update birthday")
    assert kefu.directory.birthday(await _member(kefu)) == date(1990, 5, 3)
    clock.advance(days=170)
    await chat.say("/profile_update birthday")
    await chat.say("1990-05-04")
    assert "更新为 1990年5月4日" in await chat.say("/affirm")
    async with kefu.sessions() as session:
        changes = list(await session.scalars(select(ProfileChange.field)))
    assert changes == ["birthday", "birthday"]


async def test_name_and_address_are_stored_encrypted(kefu: Kefu, chat: Chat) -> None:
    await bound_member(kefu)
    await chat.say("/profile_update name")
    assert "陈小明" in await chat.say("陈小明")
    await chat.say("/profile_update address")
    assert "已更新" in await chat.say("上海市浦东新区世纪大道88号")
    member = await _member(kefu)
    assert kefu.directory.name(member) == "陈小明"
    assert kefu.directory.address(member) == "上海市浦东新区世纪大道88号"
    assert "世纪大道" not in (member.address_enc or "")


async def test_another_members_phone_changes_nothing(kefu: Kefu, chat: Chat) -> None:
    await bound_member(kefu)
    await bound_member(kefu, sender="bob", member_no="M100002", phone="+8613900000002")
    await chat.say("/profile_update phone")
    assert "另一个会员账号" in await chat.say("13900000002")
    async with kefu.sessions() as session:
        assert list(await session.scalars(select(ProfileChange))) == []
