"""Who is greeted on a day, for which occasion, on which channel, with which text."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.core.storage.models import ChannelIdentity, Member
from bot.features.members.directory import Directory
from bot.features.proactive import calendar, consent, store
from bot.features.proactive.compose import greeting_text
from bot.features.proactive.settings import BIRTHDAY, ProactiveSettings
from bot.settings import Settings
from handlers.preferences import GREETINGS

# Why a member is not greeted (shown by the preview, logged by the job).
NO_CONSENT = "no greetings consent in the consent history"
NO_CHANNEL = "no channel that can reach the member (bound, subscribed, deliverable here)"
BAD_ZONE = "invalid time zone"


@dataclass(frozen=True, slots=True)
class Greeting:
    """One planned greeting, or one skipped with ``skipped`` saying why."""

    member: Member
    occasion: str
    day: date
    language: str
    text: str
    identity: ChannelIdentity | None = None
    skipped: str | None = None

    @property
    def channel(self) -> str | None:
        return self.identity.channel if self.identity is not None else None

    @property
    def dedupe_key(self) -> str:
        """One greeting per occasion, member and day, whatever crashes or reruns happen."""
        return f"greet:{self.occasion}:{self.member.id}:{self.day.isoformat()}"


def valid_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def may_reach(identity: ChannelIdentity, member: Member, topic: str,
              opted_out: set[tuple[int, str]]) -> bool:
    """`handlers.preferences.may_send` for many identities at once: the opt-outs are read
    in one query (``store.opt_outs``) instead of one per identity. Same rules."""
    if identity.unsubscribed_at is not None or identity.undeliverable_reason:
        return False
    consented = member.consent_greetings if topic == GREETINGS else member.consent_promotions
    return consented and (identity.id, topic) not in opted_out


def choose_identity(
    *, member: Member, identities: list[ChannelIdentity], channels: list[str],
    deliverable: Collection[str], topic: str, opted_out: set[tuple[int, str]],
) -> ChannelIdentity | None:
    """The member's identity on the most preferred channel that may carry ``topic`` now."""
    for channel in channels:
        if channel not in deliverable:
            continue
        for identity in identities:
            if identity.channel == channel and may_reach(identity, member, topic, opted_out):
                return identity
    return None


@dataclass(frozen=True, slots=True)
class Planner:
    """Plans the greetings of a day; shared by `kefu greetings preview` and the job."""

    settings: Settings
    directory: Directory
    translator: Translator
    # Channels this process can deliver proactive messages on (configured platforms, web).
    deliverable: Collection[str]
    proactive: Callable[[], ProactiveSettings]

    async def plan(self, session: AsyncSession, day: date, *,
                   zone: str | None = None) -> list[Greeting]:
        """Every greeting of local ``day`` (members of ``zone`` only, when given), the
        skipped ones included with their reason."""
        proactive = self.proactive()
        holidays = calendar.occasions_on(day, proactive)
        birthday_ids: set[int] = set()
        if proactive.enabled(BIRTHDAY):
            for month, dom in calendar.birthday_keys(day):
                birthday_ids.update(m.id for m in await self.directory.members_with_birthday(
                    session, month, dom))
        if holidays:
            candidates = await store.members(session, zone=zone)
        elif birthday_ids:
            candidates = [m for m in await store.members(session, ids=birthday_ids)
                          if zone is None or m.timezone == zone]
        else:
            return []
        ids = [m.id for m in candidates]
        consented = await consent.consenting(session, member_ids=ids, kind=consent.GREETINGS)
        identities = await store.identities_by_member(session, member_ids=ids)
        opted_out = await store.opt_outs(
            session, identity_ids=[i.id for found in identities.values() for i in found])
        planned: list[Greeting] = []
        for member in candidates:
            occasions = ([BIRTHDAY] if member.id in birthday_ids else []) + holidays
            for occasion in occasions:
                planned.append(self._one(member, occasion, day, proactive,
                                         member.id in consented,
                                         identities.get(member.id, []), opted_out))
        return planned

    def _one(self, member: Member, occasion: str, day: date, proactive: ProactiveSettings,
             consented: bool, identities: list[ChannelIdentity],
             opted_out: set[tuple[int, str]]) -> Greeting:
        skipped: str | None = None
        identity: ChannelIdentity | None = None
        if valid_zone(member.timezone) is None:
            skipped = f"{BAD_ZONE} {member.timezone!r}"
        elif not consented:
            skipped = NO_CONSENT
        else:
            identity = choose_identity(
                member=member, identities=identities, channels=proactive.channels,
                deliverable=self.deliverable, topic=consent.GREETINGS, opted_out=opted_out)
            if identity is None:
                skipped = NO_CHANNEL
        language = (identity.language if identity is not None and identity.language
                    else member.language)
        text = greeting_text(translator=self.translator, settings=self.settings,
                             proactive=proactive, occasion=occasion, language=language,
                             name=self.directory.name(member), tier=member.tier)
        return Greeting(member=member, occasion=occasion, day=day, language=language,
                        text=text, identity=identity, skipped=skipped)
