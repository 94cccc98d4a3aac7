"""Encryption at rest and key rotation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from bot.app import Kefu
from bot.core.crypto import DecryptionError, FieldCipher, key_id_of
from bot.core.errors import ConfigError
from bot.core.storage.db import transaction
from bot.core.storage.models import Member
from bot.features.members.directory import Directory
from bot.features.security.rotation import check_keys, key_usage, rotate_keys, seal_plain_values
from tests.conftest import Database
from tests.factories import create_member

OLD, NEW = b"old-secret-" + b"o" * 20, b"new-secret-" + b"n" * 20


async def _raw_members(database: Database) -> list[tuple[str | None, ...]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT phone_enc, phone_index, name_enc, birthday_enc, birthday_index, address_enc "
            "FROM members ORDER BY id"))
        return [tuple(row) for row in rows.all()]


async def test_personal_data_is_stored_encrypted_and_reads_back(
    kefu: Kefu, database: Database
) -> None:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, phone="+8613912345678", name="周杰",
                                     birthday=date(1990, 4, 1))
        kefu.directory.set_address(member, "上海市静安区南京西路1515号")
    raw = (await _raw_members(database))[0]
    flat = " ".join(value or "" for value in raw)
    for plain in ("13912345678", "周杰", "1990-04-01", "04-01", "南京西路"):
        assert plain not in flat
    assert all(value and value.startswith("enc1:") for value in (raw[0], raw[2], raw[3], raw[5]))
    async with transaction(kefu.sessions) as session:
        found = await kefu.directory.find(session, "13912345678")
        assert found is not None
        assert kefu.directory.name(found) == "周杰"
        assert kefu.directory.birthday(found) == date(1990, 4, 1)
        assert kefu.directory.address(found) == "上海市静安区南京西路1515号"


async def test_members_with_birthday_finds_month_and_day_of_any_year(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        await create_member(session, kefu, member_no="M100001", phone="+8613900000001",
                            birthday=date(1990, 4, 1))
        await create_member(session, kefu, member_no="M100002", phone="+8613900000002",
                            birthday=date(2001, 4, 1))
        await create_member(session, kefu, member_no="M100003", phone="+8613900000003",
                            birthday=date(1990, 4, 2))
        await create_member(session, kefu, member_no="M100004", phone="+8613900000004")
    async with transaction(kefu.sessions) as session:
        today = await kefu.directory.members_with_birthday(session, 4, 1)
        assert sorted(m.member_no for m in today) == ["M100001", "M100002"]
        assert await kefu.directory.members_with_birthday(session, 12, 25) == []


async def test_rotation_reencrypts_in_batches_and_lookups_work_throughout(
    kefu: Kefu, database: Database
) -> None:
    old = Directory(FieldCipher(OLD))
    async with transaction(kefu.sessions) as session:
        for n in range(7):
            await create_member(session, kefu, member_no=f"M20000{n}",
                                phone=f"+861390000000{n}", name=f"会员{n}",
                                birthday=date(1990, 1, n + 1))
    # Rewrite everything under the old key, as if it was written before the rotation.
    async with transaction(kefu.sessions) as session:
        for member in (await session.execute(Member.__table__.select())).all():
            row = await session.get(Member, member.id)
            assert row is not None
            old.set_phone(row, kefu.directory.phone(row))
            old.set_name(row, kefu.directory.name(row))
            old.set_birthday(row, kefu.directory.birthday(row))
    rotating = Directory(FieldCipher(NEW), (FieldCipher(OLD),))
    async with transaction(kefu.sessions) as session:
        # Mid-rotation: old-key rows are found by phone and birthday, and read.
        found = await rotating.find_by_phone(session, "+8613900000003")
        assert found is not None and rotating.name(found) == "会员3"
        assert [m.member_no for m in await rotating.members_with_birthday(session, 1, 4)] \
            == ["M200003"]
        usage = await key_usage(session)
    assert usage == {old.cipher.key_id: 21}

    batches: list[int] = []
    report = await rotate_keys(kefu.sessions, directory=rotating, batch=3,
                               progress=batches.append)
    assert (report.rows_scanned, report.rows_changed, report.values_reencrypted) == (7, 7, 21)
    assert batches == [3, 3, 1]
    new_only = Directory(FieldCipher(NEW))
    async with transaction(kefu.sessions) as session:
        assert await key_usage(session) == {new_only.cipher.key_id: 21}
        found = await new_only.find_by_phone(session, "+8613900000005")
        assert found is not None and new_only.name(found) == "会员5"
        assert new_only.birthday(found) == date(1990, 1, 6)
    again = await rotate_keys(kefu.sessions, directory=rotating, batch=3)
    assert again.values_reencrypted == 0  # resumable: a second run finds nothing to do


async def test_wrong_key_is_a_clear_error_naming_the_variable(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        await create_member(session, kefu)
    stranger = Directory(FieldCipher(b"some-other-secret-value-xxxxx"))
    async with transaction(kefu.sessions) as session:
        with pytest.raises(ConfigError, match="KEFU_SECRET_KEY"):
            await check_keys(session, directory=stranger)
        member = await kefu.directory.find(session, "M100001")
        assert member is not None
        with pytest.raises(DecryptionError, match="KEFU_SECRET_KEY_PREVIOUS"):
            stranger.name(member)
    with pytest.raises(DecryptionError):
        await rotate_keys(kefu.sessions, directory=stranger)


async def test_tampered_ciphertext_is_refused_not_returned(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, name="王芳")
        assert member.name_enc is not None
        head, body = member.name_enc.rsplit(":", 1)
        member.name_enc = f"{head}:{body[:-3]}{'AAA' if body[-3:] != 'AAA' else 'BBB'}"
    async with transaction(kefu.sessions) as session:
        found = await kefu.directory.find(session, "M100001")
        assert found is not None
        with pytest.raises(DecryptionError, match=r"integrity|format"):
            kefu.directory.name(found)


async def test_birthdays_left_plain_by_the_migration_are_sealed(
    kefu: Kefu, database: Database
) -> None:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu)
        member.birthday_enc = "plain:1988-07-02"
    assert await seal_plain_values(kefu.sessions, directory=kefu.directory) == 1
    raw = (await _raw_members(database))[0]
    assert raw[3] is not None and key_id_of(raw[3]) == kefu.directory.cipher.key_id
    async with transaction(kefu.sessions) as session:
        assert [m.member_no for m in await kefu.directory.members_with_birthday(session, 7, 2)] \
            == ["M100001"]
    assert await seal_plain_values(kefu.sessions, directory=kefu.directory) == 0
