"""Campaign segments: which members a campaign is for, from filters an operator gives."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.storage.models import ChannelIdentity, Member, Purchase
from bot.features.loyalty.ledger import ledger_entries
from bot.features.loyalty.points import summarise
from bot.features.loyalty.service import member_zone
from bot.features.members.directory import Directory, birthday_key
from bot.settings import Settings

Tier = Literal["standard", "silver", "gold", "diamond"]


class Segment(BaseModel):
    """Filters that all must hold (a list holds when the member matches any of its values).

    A member's store is the store of their latest purchase; their city, that store's city.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: list[Tier] = Field(default_factory=list)
    cities: list[str] = Field(default_factory=list)
    stores: list[str] = Field(default_factory=list)
    birthday_month: int | None = Field(default=None, ge=1, le=12)
    last_purchase_before: date | None = None
    last_purchase_after: date | None = None
    min_points: int | None = Field(default=None, ge=0)
    max_points: int | None = Field(default=None, ge=0)
    channels: list[str] = Field(default_factory=list)
    languages: list[Literal["zh-Hans", "zh-Hant", "en"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Segment:
        if (self.min_points is not None and self.max_points is not None
                and self.min_points > self.max_points):
            raise ValueError("min_points is above max_points: no member can match")
        if (self.last_purchase_before and self.last_purchase_after
                and self.last_purchase_after >= self.last_purchase_before):
            raise ValueError("last_purchase_after must be before last_purchase_before")
        return self

    def check_places(self, settings: Settings) -> list[str]:
        """Problems with the named stores and cities (unknown ones would match nobody)."""
        codes = {store.code for store in settings.stores}
        cities = {store.city for store in settings.stores} | {
            alias for store in settings.stores for alias in store.city_aliases}
        problems = [f"unknown store {code!r}; known: {', '.join(sorted(codes))}"
                    for code in self.stores if code not in codes]
        problems += [f"unknown city {city!r}" for city in self.cities if city not in cities]
        return problems


def _store_codes(segment: Segment, settings: Settings) -> set[str] | None:
    """Stores the segment's stores and cities allow; None when neither is given."""
    if not segment.stores and not segment.cities:
        return None
    allowed = set(segment.stores) if segment.stores else {s.code for s in settings.stores}
    if segment.cities:
        in_city = {s.code for s in settings.stores
                   if s.city in segment.cities or set(s.city_aliases) & set(segment.cities)}
        allowed &= in_city
    return allowed


def _query(segment: Segment, settings: Settings, directory: Directory) -> Select[Member]:
    statement = select(Member).where(Member.erased_at.is_(None)).order_by(Member.id)
    if segment.tiers:
        statement = statement.where(Member.tier.in_(segment.tiers))
    if segment.languages:
        statement = statement.where(Member.language.in_(segment.languages))
    if segment.birthday_month is not None:
        indexes = [index for day in range(1, 32) for index in directory.keyring.blind_indexes(
            birthday_key(segment.birthday_month, day))]
        statement = statement.where(Member.birthday_index.in_(indexes))
    if segment.channels:
        statement = statement.where(exists().where(and_(
            ChannelIdentity.member_id == Member.id, ChannelIdentity.channel.in_(segment.channels))))
    needs_purchase = (segment.last_purchase_before or segment.last_purchase_after
                      or segment.stores or segment.cities)
    if needs_purchase:
        last = (select(Purchase.member_id, func.max(Purchase.occurred_at).label("at"))
                .group_by(Purchase.member_id).subquery())
        statement = statement.join(last, last.c.member_id == Member.id)
        if segment.last_purchase_before:
            statement = statement.where(func.date(last.c.at) < segment.last_purchase_before)
        if segment.last_purchase_after:
            statement = statement.where(func.date(last.c.at) > segment.last_purchase_after)
        stores = _store_codes(segment, settings)
        if stores is not None:
            latest = (select(Purchase.store_code)
                      .where(Purchase.member_id == Member.id)
                      .order_by(Purchase.occurred_at.desc(), Purchase.id.desc())
                      .limit(1).scalar_subquery())
            statement = statement.where(latest.in_(sorted(stores)))
    return statement


async def select_members(
    session: AsyncSession, segment: Segment, *, settings: Settings, directory: Directory,
    today: date, after_id: int = 0, limit: int | None = None,
) -> list[Member]:
    """The segment's members with id above ``after_id``, in id order."""
    statement = _query(segment, settings, directory).where(Member.id > after_id)
    if limit is not None and segment.min_points is None and segment.max_points is None:
        statement = statement.limit(limit)
    members = list((await session.execute(statement)).scalars())
    if segment.min_points is None and segment.max_points is None:
        return members
    kept: list[Member] = []
    for member in members:
        zone = member_zone(member, settings)
        balance = summarise(await ledger_entries(session, member_id=member.id, zone=zone),
                            today=today).balance
        if segment.min_points is not None and balance < segment.min_points:
            continue
        if segment.max_points is not None and balance > segment.max_points:
            continue
        kept.append(member)
        if limit is not None and len(kept) >= limit:
            break
    return kept
