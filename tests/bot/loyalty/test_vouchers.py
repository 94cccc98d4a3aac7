"""Tier vouchers: due by tier and birthday month, issued once per period."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage.db import transaction
from bot.core.storage.models_loyalty import MemberVoucher
from bot.features.loyalty.engine import PurchaseIn, record_purchase
from bot.features.loyalty.vouchers import due_vouchers
from tests.conftest import FIXED_NOW, make_settings
from tests.factories import create_member, purchase
from tests.handlers.conftest import Chat, chat, clock, dialogue  # noqa: F401 - fixtures

SETTINGS = make_settings()


def test_birthday_vouchers_are_due_in_the_birthday_month_and_monthly_ones_every_month() -> None:
    silver = SETTINGS.tier("silver")
    november = due_vouchers(silver, birthday=date(1990, 11, 2), day=date(2026, 11, 23))
    assert [(v.code, p) for v, p in november] == [("birthday50", "2026"), ("giftwrap", "2026-11")]
    december = due_vouchers(silver, birthday=date(1990, 11, 2), day=date(2026, 12, 1))
    assert [(v.code, p) for v, p in december] == [("giftwrap", "2026-12")]
    assert due_vouchers(SETTINGS.tier("standard"), birthday=date(1990, 11, 2),
                        day=date(2026, 11, 23)) == []
    assert [v.code for v, _ in due_vouchers(SETTINGS.tier("gold"), birthday=None,
                                            day=date(2026, 11, 23))] == []


async def test_a_gold_members_birthday_voucher_is_issued_once_per_year(kefu: Kefu) -> None:
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, birthday=date(1985, 11, 28))
        for index in range(10):
            await purchase(session, member, "1200.00", days_ago=20 + index)
    for index in range(2):
        async with transaction(kefu.sessions) as session:
            outcome = await record_purchase(
                session, member=member, birthday=date(1985, 11, 28),
                purchase=PurchaseIn(f"pos-{index}", Decimal("10.00"),
                                    FIXED_NOW - timedelta(hours=1 + index)),
                settings=kefu.settings, now=FIXED_NOW, source="test")
            assert outcome.tier == "gold"
    async with kefu.sessions() as session:
        issued = list((await session.execute(select(MemberVoucher.code, MemberVoucher.period)))
                      .all())
    assert issued == [("birthday100", "2026")]


async def test_the_rewards_answer_shows_the_vouchers_in_the_wallet(
        kefu: Kefu, chat: Chat) -> None:  # noqa: F811
    from bot.core.storage import members as member_store
    from tests.factories import earn

    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, birthday=date(1990, 11, 2))
        for index in range(4):
            await purchase(session, member, "1000.00", days_ago=20 + index)  # silver
        await earn(session, member, 1200)
        identity = await member_store.ensure_identity(session, channel="web",
                                                      external_id="alice", now=FIXED_NOW)
        await member_store.bind_identity(session, identity=identity, member=member,
                                         now=FIXED_NOW)
    answer = await chat.say("/points_redeem")
    assert "会员礼券：生日礼券50元、免费包装券" in answer
    again = await chat.say("/points_redeem")
    assert again.count("生日礼券50元") == 1
    async with kefu.sessions() as session:
        assert len(list((await session.execute(select(MemberVoucher))).scalars())) == 2
