"""Finding the member a till or shop names: by member number or by phone (blind index), or
through the retailer's own member directory when one is plugged in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.phones import normalize_phone
from bot.core.storage import members as member_store
from bot.core.storage.models import Member
from bot.features.members.directory import Directory
from bot.features.members.plugin import MemberDirectory
from bot.settings import Settings

_MEMBER_NO = re.compile(r"^M\d{4,12}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FoundMember:
    member: Member
    # The tier the plug-in reports; ``None``: computed from purchases.
    tier: str | None = None


async def find_member_for_api(
    session: AsyncSession, directory: Directory, reference: str
) -> Member | None:
    """``reference``: a member number (M000001) or a phone number in any common form; an
    erased member is not found."""
    ref = reference.strip()
    if _MEMBER_NO.match(ref):
        member = await member_store.find_member_by_no(session, member_no=ref.upper())
    else:
        phone = normalize_phone(ref)
        member = await directory.find_by_phone(session, phone) if phone else None
    if member is None or member.erased_at is not None:
        return None
    return member


async def resolve_member(
    session: AsyncSession, *, directory: Directory, plugin: MemberDirectory | None,
    reference: str, settings: Settings, now: datetime,
) -> FoundMember | None:
    """The member ``reference`` names. With a plug-in, the plug-in decides: a member it
    finds that Kefu does not know yet is added to Kefu's tables (their ledger lives here)."""
    if plugin is None:
        member = await find_member_for_api(session, directory, reference)
        return FoundMember(member) if member is not None else None
    record = await plugin.find_member(reference=reference.strip())
    if record is None or not _MEMBER_NO.match(record.member_no):
        return None
    tier = record.tier if record.tier in {t.code for t in settings.membership.tiers} else None
    member = await member_store.find_member_by_no(session, member_no=record.member_no.upper())
    if member is None:
        phone = normalize_phone(record.phone) if record.phone else None
        if phone is not None and await directory.find_by_phone(session, phone) is not None:
            phone = None  # the number is another member's in Kefu: keep the CRM's id only
        member = await directory.create(
            session, member_no=record.member_no.upper(), phone=phone, name=record.name,
            birthday=record.birthday, language=settings.app.default_language,
            timezone=settings.app.default_timezone, joined_at=now)
    if member.erased_at is not None:
        return None
    return FoundMember(member, tier)
