"""The `membership` and `rewards` config sections: tiers, points, the rewards catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Protocol

from pydantic import Field, model_validator

from bot.core.settings import AppSettings, LocalizedText, Section, TierCode


class TierVoucher(Section):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    names: LocalizedText
    # Once a "month" or once a "year"; with birthday_month only in the birthday month.
    period: Literal["month", "year"] = "year"
    birthday_month: bool = False

class TierRule(Section):
    code: TierCode
    names: LocalizedText
    min_spend: Decimal = Field(default=Decimal(0), ge=0)
    min_visits: int = Field(default=0, ge=0)
    min_tenure_months: int = Field(default=0, ge=0)
    # "any": spend OR visits qualifies; "all": both are needed. Tenure is always needed.
    qualify: Literal["any", "all"] = "any"
    points_per_yuan: Decimal = Field(default=Decimal(1), ge=0)
    benefits: list[LocalizedText] = Field(default_factory=list)
    # Points earned in the member's birthday month are multiplied by this (1: no bonus).
    birthday_multiplier: Decimal = Field(default=Decimal(1), ge=1, le=10)
    # Vouchers the tier brings, each put into the member's rewards once per period.
    vouchers: list[TierVoucher] = Field(default_factory=list)

class PointsSettings(Section):
    # An earned lot is valid through the last day of the month this many months later.
    lot_lifetime_months: int = Field(default=12, ge=1, le=120)
    expiring_soon_days: int = Field(default=30, ge=1, le=366)

class MembershipSettings(Section):
    qualification_window_months: int = Field(default=12, ge=1, le=60)
    tiers: list[TierRule]
    points: PointsSettings = PointsSettings()

    @model_validator(mode="after")
    def _tiers_ordered(self) -> MembershipSettings:
        codes = [t.code for t in self.tiers]
        expected = ["standard", "silver", "gold", "diamond"]
        if codes != expected:
            raise ValueError(f"tiers must be listed once each in the order {expected}, got {codes}")
        if self.tiers[0].min_spend != 0 or self.tiers[0].min_visits != 0:
            raise ValueError("the standard tier must have min_spend 0 and min_visits 0")
        return self

class Reward(Section):
    code: str
    names: LocalizedText
    points: int = Field(gt=0)
    stock: int | None = Field(default=None, ge=0)


class LoyaltyConfig(Protocol):
    """What the loyalty features read from the settings (the composed Settings is one)."""

    @property
    def app(self) -> AppSettings: ...

    @property
    def membership(self) -> MembershipSettings: ...

    def tier(self, code: str) -> TierRule: ...
