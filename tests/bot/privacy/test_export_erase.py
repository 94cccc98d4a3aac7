"""Members' rights: the export holds everything, the erasure removes the person, not the sums."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import func, select, text

from bot.app import Kefu
from bot.core import audit
from bot.core.messages import InboundMessage
from bot.core.storage import members as member_store
from bot.core.storage.db import transaction
from bot.core.storage.models import ChannelIdentity, Message
from bot.core.storage.security_models import PrivacyRequest
from bot.features.loyalty.service import member_standing
from bot.features.privacy import requests
from bot.features.privacy.erase import erase_member
from bot.features.privacy.export import export_member
from bot.features.privacy.unsubscribe import erase_on_unsubscribe
from bot.settings import PrivacySettings
from tests.conftest import FIXED_NOW, Database
from tests.factories import bound_member, purchase

PHONE, NAME = "+8613900000001", "测试会员"


def said(text: str, sender: str = "alice", channel: str = "web") -> InboundMessage:
    return InboundMessage(channel=channel, sender_id=sender, text=text,
                          received_at=datetime.now(UTC))


async def _member_with_history(kefu: Kefu) -> None:
    member = await bound_member(kefu, points=1500)
    async with transaction(kefu.sessions) as session:
        row = await kefu.directory.find(session, "M100001")
        assert row is not None
        kefu.directory.set_birthday(row, date(1991, 2, 3))
        kefu.directory.set_address(row, "北京市朝阳区三里屯路19号")
        await purchase(session, member, "288.00")
        await requests.record_consent(session, member=row, kind="promotions", granted=True,
                                      source="web", now=FIXED_NOW)
    await kefu.dialogue.handle(said("我的手机是13900000001，名字测试会员"))
    await kefu.dialogue.handle(said("/points"))


async def test_export_holds_profile_identities_ledger_conversations_and_consents(
    kefu: Kefu
) -> None:
    await _member_with_history(kefu)
    async with transaction(kefu.sessions) as session:
        member = await kefu.directory.find(session, PHONE)
        assert member is not None
        data = await export_member(session, directory=kefu.directory, member=member,
                                   settings=kefu.settings, now=FIXED_NOW)
    profile = data["profile"]
    assert (profile["phone"], profile["name"], profile["birthday"], profile["address"]) == (
        PHONE, NAME, "1991-02-03", "北京市朝阳区三里屯路19号")
    assert profile["points_balance"] == 1500
    assert [(i["channel"], i["sender"]) for i in data["identities"]] == [("web", "alice")]
    assert sum(t["points"] for t in data["ledger"]) == 1500
    assert [p["amount"] for p in data["purchases"]] == ["288.00"]
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    # Transcripts keep phone numbers masked (the profile above has the number).
    assert "我的手机是139****0001，名字测试会员" in texts and "/points" in texts
    assert any("1,500" in t for t in texts)  # the bot's answers are the member's data too
    assert data["consents"]["promotions"] is True
    assert data["consents"]["history"][0]["kind"] == "promotions"
    json.dumps(data, ensure_ascii=False)  # JSON-ready throughout


async def test_erasure_removes_personal_data_keeps_totals_and_is_idempotent(
    kefu: Kefu, database: Database
) -> None:
    await _member_with_history(kefu)
    async with transaction(kefu.sessions) as session:
        member = await kefu.directory.find(session, PHONE)
        assert member is not None
        report = await erase_member(session, member=member, actor="cli:test", now=FIXED_NOW)
    assert (report.member_no, report.already_erased, report.identities_unlinked) == (
        "M100001", False, 1)
    assert report.messages_cleared >= 4

    async with database.engine.connect() as connection:
        raw = (await connection.execute(text(
            "SELECT phone_enc, phone_index, name_enc, birthday_enc, birthday_index, "
            "address_enc, erased_at FROM members"))).one()
        texts = [row[0] for row in (await connection.execute(
            text("SELECT text FROM messages"))).all()]
    assert raw[:6] == (None,) * 6 and raw[6] is not None
    assert texts and set(texts) == {""}

    async with transaction(kefu.sessions) as session:
        assert await kefu.directory.find(session, PHONE) is None
        assert await kefu.directory.find(session, "web:alice") is None
        member = await kefu.directory.find(session, "M100001")
        assert member is not None
        standing = await member_standing(session, member=member, settings=kefu.settings,
                                         now=FIXED_NOW)
        assert standing.points.balance == 1500  # ledger totals kept
        assert standing.activity.spend > 0  # statistics kept
        assert member.consent_promotions is False
        intents = await session.scalars(select(Message.intent).where(Message.intent.is_not(None)))
        assert "points_balance" in set(intents)  # anonymised statistics kept
        again = await erase_member(session, member=member, actor="cli:test", now=FIXED_NOW)
    assert again.already_erased and again.messages_cleared == 0

    async with transaction(kefu.sessions) as session:
        done = await requests.list_requests(session, status=requests.DONE)
        assert [r.outcome for r in done] == ["already erased", "erased"]
        logged = await audit.search(session, action=audit.MEMBER_ERASE)
        assert len(logged) == 2 and logged[0].subject == "M100001"
        assert "13900000001" not in json.dumps([e.detail for e in logged])


async def test_the_bot_forgets_the_erased_sender(kefu: Kefu) -> None:
    await _member_with_history(kefu)
    async with transaction(kefu.sessions) as session:
        member = await kefu.directory.find(session, PHONE)
        assert member is not None
        await erase_member(session, member=member, actor="cli:test", now=FIXED_NOW)
    replies = await kefu.dialogue.handle(said("/points"))
    assert "1,500" not in replies[0].text
    assert "绑定" in replies[0].text  # an unbound visitor again


async def test_wechat_unsubscribe_erases_only_when_configured(kefu: Kefu) -> None:
    await bound_member(kefu, channel="wechat", sender="openid-1", points=100)
    await kefu.dialogue.handle(said("13900000001 是我的手机", sender="openid-1",
                                    channel="wechat"))
    async with transaction(kefu.sessions) as session:
        identity = await member_store.find_identity(session, channel="wechat",
                                                    external_id="openid-1")
        assert identity is not None
        assert await erase_on_unsubscribe(session, identity, kefu.settings) is None
        assert identity.member_id is not None
        on = kefu.settings.model_copy(
            update={"privacy": PrivacySettings(erase_on_wechat_unsubscribe=True)})
        report = await erase_on_unsubscribe(session, identity, on)
        assert report is not None and report.identities_unlinked == 1
        assert report.messages_cleared >= 1
    async with transaction(kefu.sessions) as session:
        stored = await session.scalar(select(ChannelIdentity).where(
            ChannelIdentity.external_id == "openid-1"))
        assert stored is not None and stored.member_id is None
        assert await session.scalar(select(func.count()).select_from(Message).where(
            Message.text != "")) == 0
        # The membership itself stays: the retailer's programme, not the WeChat follow.
        member = await kefu.directory.find(session, "M100001")
        assert member is not None and kefu.directory.phone(member) == PHONE
        assert await session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0
