"""Finding the member a till or shop names: by member number or by phone (blind index)."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Directory
from bot.phones import normalize_phone
from bot.storage import members as member_store
from bot.storage.models import Member

_MEMBER_NO = re.compile(r"^M\d{4,12}$", re.IGNORECASE)


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
