"""The WeChat unsubscribe rule: the platform expects a follower's data deleted on unfollow."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import ChannelIdentity
from bot.features.privacy.erase import ErasureReport, erase_identity
from bot.settings import Settings


async def erase_on_unsubscribe(
    session: AsyncSession, identity: ChannelIdentity, settings: Settings,
    *, now: datetime | None = None,
) -> ErasureReport | None:
    """Call when a WeChat follower unsubscribes (in the event's transaction). When
    ``privacy.erase_on_wechat_unsubscribe`` is on, the follower's messages are erased and the
    identity unlinked from its member; returns ``None`` when the rule is off or does not apply.
    The membership (kept by the retailer for the store programme) is not erased."""
    if identity.channel != "wechat" or not settings.privacy.erase_on_wechat_unsubscribe:
        return None
    return await erase_identity(session, identity=identity, actor="system:wechat-unsubscribe",
                                now=now or datetime.now(UTC))
