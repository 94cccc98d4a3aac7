"""Finding members by any reference, and reading their personal data through the cipher."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import audit
from bot.core.crypto import FieldCipher, Keyring, mask_address, mask_name, mask_phone
from bot.core.phones import normalize_phone
from bot.core.storage import members as store
from bot.core.storage.models import Member
from bot.features.loyalty.service import MemberStanding

_MEMBER_NO = re.compile(r"^M\d{4,12}$", re.IGNORECASE)
# Birthdays waiting for their first encryption (moved there by migration 0003, which has no key).
LEGACY_PLAIN = "plain:"


def birthday_key(month: int, day: int) -> str:
    """What the birthday index hashes: month and day only, so a year's greetings find it."""
    return f"birthday:{month:02d}-{day:02d}"


@dataclass(frozen=True, slots=True)
class Directory:
    """Personal data access: encrypted at rest, found by blind indexes, unmasked on audit.

    ``cipher`` writes; ``previous`` ciphers (KEFU_SECRET_KEY_PREVIOUS) still read what was
    written before a key rotation, and their blind indexes are searched too.
    """

    cipher: FieldCipher
    previous: tuple[FieldCipher, ...] = ()
    keyring: Keyring = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keyring", Keyring(self.cipher, self.previous))

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
        return await store.find_member_by_phone_indexes(
            session, phone_indexes=self.keyring.blind_indexes(phone_e164))

    async def members_with_birthday(
        self, session: AsyncSession, month: int, day: int
    ) -> list[Member]:
        """Members (not erased) born on this month and day, in any year."""
        return await store.members_by_birthday_indexes(
            session, birthday_indexes=self.keyring.blind_indexes(birthday_key(month, day)))

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
            birthday_enc=self.cipher.encrypt(birthday.isoformat()) if birthday else None,
            birthday_index=self._birthday_index(birthday),
            language=language,
            timezone=timezone,
            joined_at=joined_at,
        )

    def set_phone(self, member: Member, phone: str | None) -> None:
        member.phone_enc = self.cipher.encrypt(phone) if phone else None
        member.phone_index = self.cipher.blind_index(phone) if phone else None

    def set_name(self, member: Member, name: str | None) -> None:
        member.name_enc = self.cipher.encrypt(name) if name else None

    def _birthday_index(self, birthday: date | None) -> str | None:
        if birthday is None:
            return None
        return self.cipher.blind_index(birthday_key(birthday.month, birthday.day))

    def birthday(self, member: Member) -> date | None:
        value = member.birthday_enc
        if not value:
            return None
        if value.startswith(LEGACY_PLAIN):
            return date.fromisoformat(value.removeprefix(LEGACY_PLAIN))
        return date.fromisoformat(self.keyring.decrypt(value))

    def set_birthday(self, member: Member, birthday: date | None) -> None:
        member.birthday_enc = self.cipher.encrypt(birthday.isoformat()) if birthday else None
        member.birthday_index = self._birthday_index(birthday)

    def address(self, member: Member) -> str | None:
        return self.keyring.decrypt(member.address_enc) if member.address_enc else None

    def set_address(self, member: Member, address: str | None) -> None:
        member.address_enc = self.cipher.encrypt(address) if address else None

    def phone(self, member: Member) -> str | None:
        return self.keyring.decrypt(member.phone_enc) if member.phone_enc else None

    def name(self, member: Member) -> str | None:
        return self.keyring.decrypt(member.name_enc) if member.name_enc else None

    async def reveal(
        self, session: AsyncSession, standing: MemberStanding, *, actor: str, purpose: str = ""
    ) -> dict[str, Any]:
        """:meth:`describe` unmasked, recorded in the audit log first. Check the caller's
        permission (``view_pii_unmasked``) before calling this."""
        await audit.record(session, actor=actor, action=audit.PII_UNMASK,
                           subject=standing.member.member_no,
                           detail={"purpose": purpose} if purpose else None)
        return self.describe(standing, unmask=True)

    def describe(self, standing: MemberStanding, *, unmask: bool = False) -> dict[str, Any]:
        """The member as JSON-ready data; personal data masked unless ``unmask``."""
        member = standing.member
        phone, name, address = self.phone(member), self.name(member), self.address(member)
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
            "address": address if unmask else mask_address(address),
            "joined_on": member.joined_at.astimezone(standing.zone).date().isoformat(),
            "spend_12m": str(standing.activity.spend),
            "visits_12m": standing.activity.visits,
            "consent": {"greetings": member.consent_greetings,
                        "promotions": member.consent_promotions},
            "masked": not unmask,
        }
