"""The `proactive` config section: occasions, their texts, send time and quiet hours."""

from __future__ import annotations

import re
import string
from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The occasions Kefu knows by itself (CONTRACTS.md names their codes).
BIRTHDAY = "birthday"
HOLIDAYS = ("new_year", "spring_festival_eve", "spring_festival", "lantern", "qingming",
            "dragon_boat", "qixi", "mid_autumn", "double_ninth", "national_day")
BUILTIN = (BIRTHDAY, *HOLIDAYS)
# Placeholders a greeting text may use; anything else is refused when the config loads.
GREETING_FIELDS = frozenset({"name", "tier", "benefit", "occasion"})

Lang = Literal["zh-Hans", "zh-Hant", "en"]
Texts = dict[Lang, str]
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text uses (``{{`` escapes are not placeholders)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def unknown_placeholders(texts: Texts, allowed: frozenset[str]) -> list[str]:
    return sorted({name for text in texts.values() for name in placeholders(text)} - allowed)


def _check_texts(texts: Texts | None) -> Texts | None:
    if texts is None:
        return None
    unknown = unknown_placeholders(texts, GREETING_FIELDS)
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                         f"a greeting may use {', '.join(sorted(GREETING_FIELDS))}")
    return texts


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OccasionSetting(_Section):
    enabled: bool = True
    # Replaces the locale file's text for this occasion (per language; missing ones fall back).
    text: Texts | None = None

    @field_validator("text")
    @classmethod
    def _placeholders(cls, value: Texts | None) -> Texts | None:
        return _check_texts(value)


class ExtraOccasion(_Section):
    """An operator's own occasion: Christmas, the store's anniversary."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    # "MM-DD"; with calendar: lunar, a day of the Chinese lunar calendar (08-15 is 中秋).
    date: str
    calendar: Literal["solar", "lunar"] = "solar"
    enabled: bool = True
    text: Texts

    @field_validator("date")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not _MONTH_DAY.match(value):
            raise ValueError(f"date {value!r} must be MM-DD, e.g. 12-25")
        return value

    @field_validator("text")
    @classmethod
    def _placeholders(cls, value: Texts) -> Texts:
        _check_texts(value)
        return value

    @model_validator(mode="after")
    def _not_builtin(self) -> ExtraOccasion:
        if self.code in BUILTIN:
            raise ValueError(f"code {self.code!r} is a built-in occasion; configure it under "
                             "proactive.occasions instead")
        if not self.text:
            raise ValueError("text needs at least one language")
        return self


class QuietHours(_Section):
    start: time = time(21, 0)
    end: time = time(9, 0)


TEMPLATE_FIELDS = frozenset({"text", "name", "date"})
PURPOSES = ("greeting", "points_reminder", "campaign", "survey")


class WechatTemplate(_Section):
    """A WeChat template message for when the 48-hour window is closed."""

    template_id: str = Field(min_length=1, max_length=128)
    # The template's data keys → their value; {text} (the message), {name}, {date} (local).
    fields: dict[str, str]

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("fields needs at least one template key")
        unknown = sorted({n for v in value.values() for n in placeholders(v)} - TEMPLATE_FIELDS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {unknown}; template fields may use "
                             f"{sorted(TEMPLATE_FIELDS)}")
        return value


class SurveySettings(_Section):
    enabled: bool = True
    # Days after a purchase the survey goes out; per store code where it differs.
    after_days: int = Field(default=3, ge=1, le=60)
    per_store: dict[str, int] = Field(default_factory=dict)
    # A rating at or below this opens a case with the purchase attached.
    low_score: int = Field(default=2, ge=1, le=4)
    # Purchases older than this (past their survey day) are not asked about any more.
    lookback_days: int = Field(default=7, ge=1, le=60)

    def days_for(self, store: str | None) -> int:
        return self.per_store.get(store or "", self.after_days)


class ProactiveSettings(_Section):
    # Greetings go out at this local time on the day (each member's own zone).
    send_at: time = time(10, 0)
    # No proactive message is sent between start and end (local); what falls inside waits.
    quiet_hours: QuietHours = QuietHours()
    # Channels a proactive message may use, most preferred first; a member's bound identity
    # on the first of these that works in this setup is used.
    channels: list[str] = Field(default_factory=lambda: ["wechat", "telegram", "web"])
    occasions: dict[str, OccasionSetting] = Field(default_factory=dict)
    extra_occasions: list[ExtraOccasion] = Field(default_factory=list)
    # What a tier's birthday brings, for {benefit} in the birthday text.
    birthday_benefits: dict[str, Texts] = Field(default_factory=dict)
    # Points reminders go this many days before a lot lapses (0 switches them off).
    points_reminder_days: int = Field(default=7, ge=0, le=90)
    # WeChat outside the 48-hour window: a template message per kind of message (greeting,
    # points_reminder, campaign, survey); a kind without one is not sent there (the reason
    # is recorded).
    wechat_templates: dict[str, WechatTemplate] = Field(default_factory=dict)
    # The after-sales survey: one per purchase, 1-5 and a comment.
    survey: SurveySettings = SurveySettings()

    @field_validator("wechat_templates")
    @classmethod
    def _purposes(cls, value: dict[str, WechatTemplate]) -> dict[str, WechatTemplate]:
        unknown = sorted(set(value) - set(PURPOSES))
        if unknown:
            raise ValueError(f"unknown message kind(s) {unknown}; use {list(PURPOSES)}")
        return value

    @field_validator("occasions")
    @classmethod
    def _known(cls, value: dict[str, OccasionSetting]) -> dict[str, OccasionSetting]:
        unknown = sorted(set(value) - set(BUILTIN))
        if unknown:
            raise ValueError(f"unknown occasion(s) {unknown}; built-in ones are {list(BUILTIN)} "
                             "(add your own under proactive.extra_occasions)")
        return value

    @model_validator(mode="after")
    def _unique_codes(self) -> ProactiveSettings:
        codes = [extra.code for extra in self.extra_occasions]
        if len(codes) != len(set(codes)):
            raise ValueError(f"extra_occasions codes must be unique, got {codes}")
        return self

    def enabled(self, occasion: str) -> bool:
        setting = self.occasions.get(occasion)
        return setting is None or setting.enabled

    def in_quiet_hours(self, local: time) -> bool:
        start, end = self.quiet_hours.start, self.quiet_hours.end
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end
