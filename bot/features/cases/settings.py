"""The `cases` config section: business hours, calendar overrides, SLA targets, handoff."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Priority = Literal["urgent", "high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = ("urgent", "high", "normal", "low")

_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def parse_minutes(value: Any) -> Any:
    """``90``, ``"90m"``, ``"2h"`` or ``"1h30m"`` → minutes; other values pass to validation."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None or not any(match.groups()):
            raise ValueError(f"duration {value!r} is not understood; write minutes like '30m', "
                             "hours like '2h', or both like '1h30m'")
        return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    return value


Minutes = Annotated[int, BeforeValidator(parse_minutes), Field(ge=1, le=60 * 24 * 60)]


def as_priority(value: str) -> Priority:
    """A stored priority string as the literal type; unknown values count as normal."""
    for priority in PRIORITIES:
        if priority == value:
            return priority
    return "normal"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessHours(_Section):
    """When agents answer on a workday, in the case's local time."""

    start: time = time(9, 0)
    end: time = time(21, 0)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError(f"business_hours.end ({self.end}) must be after start ({self.start})")
        return self


class CalendarOverrides(_Section):
    """Dates the operator knows better than the calendar libraries."""

    # Extra days off (a company holiday, a holiday announced after this release).
    closed_days: list[date] = Field(default_factory=list)
    # Working days on a weekend or holiday (调休 make-up workdays not in the library yet).
    workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarOverrides:
        both = sorted(set(self.closed_days) & set(self.workdays))
        if both:
            raise ValueError(f"dates listed as both closed and workday: {both}")
        return self


class SlaTarget(_Section):
    """Business minutes until the first answer and until the case is resolved."""

    first_response: Minutes
    resolution: Minutes


class SlaOverride(_Section):
    first_response: Minutes | None = None
    resolution: Minutes | None = None


def _default_targets() -> dict[Priority, SlaTarget]:
    return {
        "urgent": SlaTarget(first_response=30, resolution=4 * 60),
        "high": SlaTarget(first_response=2 * 60, resolution=24 * 60),
        "normal": SlaTarget(first_response=4 * 60, resolution=36 * 60),
        "low": SlaTarget(first_response=12 * 60, resolution=60 * 60),
    }


DEFAULT_URGENT_WORDS = (
    "过敏", "過敏", "受伤", "受傷", "报警", "報警", "中毒", "流血", "住院", "急诊", "急診",
    "烫伤", "燙傷", "起火", "allerg", "injur", "hurt", "police", "poison", "hospital",
    "bleeding", "burned",
)


class HandoffSettings(_Section):
    # Average minutes an agent needs per waiting chat: the expected wait the customer is told.
    minutes_per_chat: int = Field(default=6, ge=1, le=240)
    # An agent counts as online when their console was active this recently.
    online_minutes: int = Field(default=15, ge=1, le=24 * 60)


class CasesSettings(_Section):
    business_hours: BusinessHours = BusinessHours()
    calendar: CalendarOverrides = CalendarOverrides()
    sla: dict[Priority, SlaTarget] = Field(default_factory=_default_targets)
    # Per channel, per priority: targets that differ from `sla` (missing keys inherit).
    channel_sla: dict[str, dict[Priority, SlaOverride]] = Field(default_factory=dict)
    # A warning goes to the assignee this many business minutes before a deadline.
    warn_before: Minutes = 30
    # Words that make a complaint urgent (matched case-insensitively, as substrings).
    urgent_words: list[str] = Field(default_factory=lambda: list(DEFAULT_URGENT_WORDS))
    handoff: HandoffSettings = HandoffSettings()

    @model_validator(mode="after")
    def _every_priority(self) -> CasesSettings:
        missing = [p for p in PRIORITIES if p not in self.sla]
        if missing:
            raise ValueError(f"cases.sla needs a target for every priority; missing {missing}")
        return self

    def target(self, priority: Priority, channel: str) -> SlaTarget:
        """The SLA target of ``priority`` on ``channel``, channel overrides applied."""
        base = self.sla[priority]
        override = self.channel_sla.get(channel, {}).get(priority)
        if override is None:
            return base
        return SlaTarget(first_response=override.first_response or base.first_response,
                         resolution=override.resolution or base.resolution)
