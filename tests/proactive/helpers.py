"""Builders for proactive tests: members with a channel and a recorded consent."""

from __future__ import annotations

from datetime import date

from bot.app import Kefu
from bot.core.storage import members as member_store
from bot.core.storage.db import transaction
from bot.core.storage.models import Member
from bot.features.privacy.requests import record_consent
from tests.conftest import FIXED_NOW
from tests.factories import create_member

_count = iter(range(1, 1_000_000))


async def reachable_member(
    kefu: Kefu, *, birthday: date | None = None, timezone: str = "Asia/Shanghai",
    greetings: bool | None = True, promotions: bool | None = None, channel: str = "web",
    language: str = "zh-Hans", name: str = "测试会员",
) -> Member:
    """A member bound on ``channel`` whose consents are recorded (None: never asked)."""
    n = next(_count)
    async with transaction(kefu.sessions) as session:
        member = await create_member(session, kefu, member_no=f"M{700000 + n}",
                                     phone=f"+86139{n:08d}", birthday=birthday,
                                     timezone=timezone, language=language, name=name)
        identity = await member_store.ensure_identity(session, channel=channel,
                                                      external_id=f"s{n}", now=FIXED_NOW)
        await member_store.bind_identity(session, identity=identity, member=member,
                                         now=FIXED_NOW)
        for kind, granted in (("greetings", greetings), ("promotions", promotions)):
            if granted is not None:
                await record_consent(session, member=member, kind=kind, granted=granted,
                                     source="test", now=FIXED_NOW)
    return member
