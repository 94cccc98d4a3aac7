import asyncio

import pytest
from sqlalchemy import select

from bot.app import Kefu
from bot.core.storage import members as store
from bot.core.storage.db import transaction
from bot.core.storage.models import Member, PointTransaction
from bot.features.loyalty.points import REDEEM
from handlers.rewards import find_reward, redeem_reward
from tests.conftest import FIXED_NOW, Database
from tests.factories import bound_member
from tests.handlers.conftest import Chat


async def _debits(kefu: Kefu) -> list[int]:
    async with kefu.sessions() as session:
        rows = await session.scalars(select(PointTransaction.points)
                                     .where(PointTransaction.kind == REDEEM))
        return list(rows)


def test_rewards_are_found_by_code_number_and_name(kefu: Kefu) -> None:
    settings = kefu.settings
    assert find_reward(settings, "coffee").code == "coffee"  # type: ignore[union-attr]
    assert find_reward(settings, "2").code == "voucher50"  # type: ignore[union-attr]
    assert find_reward(settings, "我想换品牌帆布袋").code == "tote"  # type: ignore[union-attr]
    assert find_reward(settings, "200元代金券").code == "voucher200"  # type: ignore[union-attr]
    assert find_reward(settings, "a yacht") is None


async def test_confirmed_redemption_debits_once_even_when_tapped_twice(
        kefu: Kefu, chat: Chat) -> None:
    await bound_member(kefu, points=1200)
    await chat.say("/points_redeem voucher50")
    assert "兑换成功" in await chat.say("/affirm")
    assert "兑换成功" not in await chat.say("/affirm")
    assert await _debits(kefu) == [-1000]


async def test_a_redelivered_confirmation_is_answered_the_same_and_redeems_once(
        kefu: Kefu, chat: Chat) -> None:
    await bound_member(kefu, points=1200)
    await chat.say("/points_redeem coffee")
    first = await chat.say("/affirm", message_id="tap-1")
    second = await chat.say("/affirm", message_id="tap-1")
    assert first == second and "兑换成功" in first
    assert await _debits(kefu) == [-300]


async def test_same_request_key_is_a_no_op(kefu: Kefu) -> None:
    member = await bound_member(kefu, points=1200)
    reward = kefu.settings.rewards[0]
    results = []
    for _ in range(2):
        async with transaction(kefu.sessions) as session:
            fresh = await session.get(Member, member.id)
            assert fresh is not None
            results.append(await redeem_reward(session, member=fresh, reward=reward,
                                               ref="redeem:1:1", settings=kefu.settings,
                                               now=FIXED_NOW))
    assert [r.status for r in results] == ["redeemed", "already"]
    assert results[1].balance == 900
    assert await _debits(kefu) == [-300]


async def test_short_balance_is_refused_and_nothing_changes(kefu: Kefu, chat: Chat) -> None:
    await bound_member(kefu, points=1200)
    answer = await chat.say("/points_redeem voucher200")
    assert "积分不足" in answer and "3,800" in answer
    assert await _debits(kefu) == []


async def test_concurrent_redemptions_of_the_same_points_never_both_succeed(
        kefu: Kefu, database: Database) -> None:
    """Two sessions redeem 1,000 of the member's 1,200 points at the same moment."""
    if database.backend != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite runs one writer at a time")
    member = await bound_member(kefu, points=1200)
    reward = next(r for r in kefu.settings.rewards if r.code == "voucher50")
    first_holds_lock = asyncio.Event()
    release_first = asyncio.Event()

    async def redeem(ref: str, *, hold: bool) -> str:
        async with transaction(kefu.sessions) as session:
            fresh = await session.get(Member, member.id)
            assert fresh is not None
            result = await redeem_reward(session, member=fresh, reward=reward, ref=ref,
                                         settings=kefu.settings, now=FIXED_NOW)
            if hold:  # keep the first transaction open while the second one starts
                first_holds_lock.set()
                await release_first.wait()
            return result.status

    first = asyncio.create_task(redeem("redeem:web:1", hold=True))
    await first_holds_lock.wait()
    second = asyncio.create_task(redeem("redeem:console:1", hold=False))
    await asyncio.sleep(0.3)
    assert not second.done(), "the second redemption must wait for the member's lock"
    release_first.set()
    assert sorted(await asyncio.gather(first, second)) == ["redeemed", "short"]
    assert await _debits(kefu) == [-1000]


async def test_two_chats_confirming_at_once_redeem_once(kefu: Kefu, chat: Chat,
                                                        database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    member = await bound_member(kefu, points=1200)
    async with transaction(kefu.sessions) as session:  # the same member on a second channel
        identity = await store.ensure_identity(session, channel="console", external_id="alice",
                                               now=FIXED_NOW)
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        await store.bind_identity(session, identity=identity, member=fresh, now=FIXED_NOW)
    other = Chat(chat.dialogue, channel="console")
    await chat.say("/points_redeem voucher50")
    await other.say("/points_redeem voucher50")
    answers = await asyncio.gather(chat.say("/affirm"), other.say("/affirm"))
    assert sum("兑换成功" in a for a in answers) == 1
    assert sum("积分不足" in a for a in answers) == 1
    assert await _debits(kefu) == [-1000]


def _with_stock(kefu: Kefu, code: str, stock: int) -> Kefu:
    rewards = [r.model_copy(update={"stock": stock}) if r.code == code else r
               for r in kefu.settings.rewards]
    settings = kefu.settings.model_copy(update={"rewards": rewards})
    object.__setattr__(kefu.services, "settings", settings)
    kefu.settings = settings
    return kefu


async def _stock(kefu: Kefu, code: str) -> int:
    from bot.core.storage.models_loyalty import RewardStock

    async with kefu.sessions() as session:
        left = await session.scalar(select(RewardStock.remaining)
                                    .where(RewardStock.code == code))
        return int(left) if left is not None else -1


async def test_the_last_unit_goes_once_and_sold_out_is_said_before_the_confirmation(
        kefu: Kefu, chat: Chat) -> None:
    _with_stock(kefu, "coffee", 1)
    await bound_member(kefu, points=1200)
    await bound_member(kefu, sender="bob", member_no="M100002", phone="+8613900000002")
    await chat.say("/points_redeem coffee")
    assert "兑换成功" in await chat.say("/affirm")
    assert await _stock(kefu, "coffee") == 0
    bob = Chat(chat.dialogue, sender="bob")
    listing = await bob.say("/points_redeem")
    assert "咖啡券 — 300 分（已兑完）" in listing
    answer = await bob.say("/points_redeem coffee")
    assert "已经兑完" in answer and "确认" not in answer
    assert await _debits(kefu) == [-300]


async def test_raising_the_configured_stock_adds_the_difference(kefu: Kefu) -> None:
    from bot.features.loyalty.stock import stock_left

    _with_stock(kefu, "tote", 2)
    member = await bound_member(kefu, points=5000)
    reward = next(r for r in kefu.settings.rewards if r.code == "tote")
    async with transaction(kefu.sessions) as session:
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        result = await redeem_reward(session, member=fresh, reward=reward, ref="r1",
                                     settings=kefu.settings, now=FIXED_NOW)
        assert result.status == "redeemed"
    _with_stock(kefu, "tote", 5)
    async with transaction(kefu.sessions) as session:
        left = await stock_left(session, kefu.settings.rewards, now=FIXED_NOW)
    assert left["tote"] == 4 and left["coffee"] is None


async def test_concurrent_redemptions_never_oversell(kefu: Kefu, database: Database) -> None:
    """Eight members redeem the last three totes at the same moment (PostgreSQL)."""
    if database.backend != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    _with_stock(kefu, "tote", 3)
    reward = next(r for r in kefu.settings.rewards if r.code == "tote")
    members = [await bound_member(kefu, sender=f"s{i}", member_no=f"M10010{i}",
                                  phone=f"+861390000010{i}", points=2000) for i in range(8)]
    async with transaction(kefu.sessions) as session:  # the row exists before the rush
        from bot.features.loyalty.stock import stock_left

        await stock_left(session, kefu.settings.rewards, now=FIXED_NOW)
    start = asyncio.Event()

    async def redeem(member: Member) -> str:
        await start.wait()
        async with transaction(kefu.sessions) as session:
            fresh = await session.get(Member, member.id)
            assert fresh is not None
            result = await redeem_reward(session, member=fresh, reward=reward,
                                         ref=f"rush:{member.id}", settings=kefu.settings,
                                         now=FIXED_NOW)
            await asyncio.sleep(0.05)  # hold the transaction open: the others must wait
            return result.status

    tasks = [asyncio.create_task(redeem(m)) for m in members]
    start.set()
    statuses = await asyncio.gather(*tasks)
    assert sorted(statuses).count("redeemed") == 3
    assert statuses.count("sold_out") == 5
    assert await _stock(kefu, "tote") == 0
    assert sorted(await _debits(kefu)) == [-1500] * 3
