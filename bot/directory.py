"""Finding members by any reference, and reading their personal data through the cipher."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import FieldCipher, mask_name, mask_phone
from bot.loyalty.service import MemberStanding
from bot.phones import normalize_phone
from bot.storage import members as store
from bot.storage.models import Member

_MEMBER_NO = re.compile(r"^M\d{4,12}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Directory:
    """Member look-ups that need the cipher (phones are found through their blind index)."""

    cipher: FieldCipher

    async def find(self, session: AsyncSession, reference: str) -> Member | None:
        """``reference``: a member number (M000001), a numeric id, a phone, or CHANNEL:SENDER."""
        ref = reference.strip()
        if not ref:
            return None
        if _MEMBER_NO.match(ref):
            return await store.find_member_by_no(session, member_no=ref.upper())
        if ":" in ref and not ref.startswith("+"):
            channel, _, sender = ref.partition(":")
            identity = await store.find_identity(session, channel=channel, external_id=sender)
            if identity is None or identity.member_id is None:
                return None
            return await store.get_member(session, member_id=identity.member_id)
        phone = normalize_phone(ref)
        if phone is not None:
            found = await self.find_by_phone(session, phone)
            if found is not None or not ref.isdigit():
                return found
        if ref.isdigit() and len(ref) <= 10:
            return await store.get_member(session, member_id=int(ref))
        return None

    async def find_by_phone(self, session: AsyncSession, phone_e164: str) -> Member | None:
        return await store.find_member_by_phone_index(
            session, phone_index=self.cipher.blind_index(phone_e164))

    async def create(
        self,
        session: AsyncSession,
        *,
        member_no: str,
        phone: str | None,
        name: str | None,
        birthday: date | None,
        language: str,
        timezone: str,
        joined_at: datetime,
    ) -> Member:
        return await store.add_member(
            session,
            member_no=member_no,
            phone_enc=self.cipher.encrypt(phone) if phone else None,
            phone_index=self.cipher.blind_index(phone) if phone else None,
            name_enc=self.cipher.encrypt(name) if name else None,
            birthday=birthday,
            language=language,
            timezone=timezone,
            joined_at=joined_at,
        )

    def set_phone(self, member: Member, phone: str | None) -> None:
        member.phone_enc = self.cipher.encrypt(phone) if phone else None
        member.phone_index = self.cipher.blind_index(phone) if phone else None

    def set_name(self, member: Member, name: str | None) -> None:
        member.name_enc = self.cipher.encrypt(name) if name else None

    def birthday(self, member: Member) -> date | None:
        return member.birthday

    def set_birthday(self, member: Member, birthday: date | None) -> None:
        member.birthday = birthday

    def phone(self, member: Member) -> str | None:
        return self.cipher.decrypt(member.phone_enc) if member.phone_enc else None

    def name(self, member: Member) -> str | None:
        return self.cipher.decrypt(member.name_enc) if member.name_enc else None

    def describe(self, standing: MemberStanding, *, unmask: bool = False) -> dict[str, Any]:
        """The member as JSON-ready data; personal data masked unless ``unmask``."""
        member = standing.member
        phone, name = self.phone(member), self.name(member)
        return {
            "id": member.member_no,
            "member_no": member.member_no,
            "tier": standing.tier,
            "points_balance": standing.points.balance,
            "points_expiring_this_month": sum(
                lot.remaining for lot in standing.points.lots
                if (lot.expires_on.year, lot.expires_on.month)
                == (standing.today.year, standing.today.month)),
            "language": member.language,
            "timezone": member.timezone,
            "name": name if unmask else mask_name(name),
            "phone": phone if unmask else mask_phone(phone),
            "birthday": (birthday.isoformat() if unmask else "****-**-**")
            if (birthday := self.birthday(member)) else None,
            "joined_on": member.joined_at.astimezone(standing.zone).date().isoformat(),
            "spend_12m": str(standing.activity.spend),
            "visits_12m": standing.activity.visits,
            "consent": {"greetings": member.consent_greetings,
                        "promotions": member.consent_promotions},
            "masked": not unmask,
        }
