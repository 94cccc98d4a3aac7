"""Stores from config: finding them by name or city, and their hours today (holidays too)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

from bot.core.i18n import to_simplified, to_traditional_many
from bot.features.knowledge.settings import Store, StoresConfig

log = logging.getLogger(__name__)

_HONG_KONG = frozenset({"Asia/Hong_Kong", "Asia/Macau"})


def _norm(text: str) -> str:
    return to_simplified(text).strip().lower()


def find_stores(settings: StoresConfig, *, store: str | None = None,
                city: str | None = None) -> list[Store]:
    """The store named (code, name or alias), else the stores of the city named."""
    if store:
        wanted = _norm(store)
        for candidate in settings.stores:
            names = {candidate.code, *map(_norm, candidate.names.values()),
                     *map(_norm, candidate.aliases)}
            if wanted in names:
                return [candidate]
    if city:
        wanted = _norm(city)
        return [s for s in settings.stores
                if wanted in {_norm(s.city), *map(_norm, s.city_aliases)}]
    return []


def mentioned_stores(settings: StoresConfig, text: str) -> list[Store]:
    """Stores whose name, alias or city appears in ``text`` (when no NLU found them)."""
    words = _norm(text)
    for candidate in settings.stores:
        names = [*map(_norm, candidate.names.values()), *map(_norm, candidate.aliases)]
        if any(len(n) >= 2 and n in words for n in names):
            return [candidate]
    for city in cities(settings):
        if any(len(n) >= 2 and n in words for n in city_names(settings, city)):
            return find_stores(settings, city=city)
    return []


def cities(settings: StoresConfig) -> list[str]:
    """Cities with a store, in config order."""
    return list(dict.fromkeys(s.city for s in settings.stores))


def city_names(settings: StoresConfig, city: str) -> list[str]:
    aliases = next((s.city_aliases for s in settings.stores if s.city == city), [])
    return [_norm(city), *map(_norm, aliases)]


def city_label(settings: StoresConfig, city: str, language: str) -> str:
    """上海 / 上海 / Shanghai: the config's name, or its first Latin alias in English."""
    if language == "en":
        aliases = next((s.city_aliases for s in settings.stores if s.city == city), [])
        return next((a for a in aliases if a.isascii()), city)
    return city


_ZH_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
_LIBRARY_LANGUAGE = {"en": "en_US", "zh-Hans": "zh_CN", "zh-Hant": "zh_TW"}
_HK_LANGUAGE = {"en": "en_HK", "zh-Hans": "zh_CN", "zh-Hant": "zh_HK"}


def holiday_name(day: date, zone: str, language: str = "zh-Hans") -> str | None:
    """The public holiday on ``day`` where the store is, or ``None``. Never raises for a year
    without announced data: the computed calendar of ``holidays`` stands in."""
    if zone in _HONG_KONG:
        name: str | None = holidays.country_holidays(
            "HK", years=day.year, language=_HK_LANGUAGE.get(language, "en_HK")).get(day)
        return name
    try:
        on_holiday, english = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # chinese-calendar knows only the years announced so far
        computed: str | None = holidays.country_holidays(
            "CN", years=day.year, language=_LIBRARY_LANGUAGE.get(language, "zh_CN")).get(day)
        return computed
    # Weekends count as holidays there too; only named days are public holidays.
    if not on_holiday or not english:
        return None
    if language == "en":
        return str(english)
    chinese = _ZH_NAMES.get(str(english), str(english))
    if language != "zh-Hant":
        return chinese
    # Every name in one conversion batch (a child process's work), kept for the next holiday.
    return to_traditional_many([*_ZH_NAMES.values(), chinese])[-1]


@dataclass(frozen=True, slots=True)
class Today:
    """A store's hours on the day it is now where the store is."""

    hours: str
    holiday: str | None
    open_now: bool
    closes: str | None


def _span(hours: str) -> tuple[time, time] | None:
    try:
        start, end = (part.strip() for part in hours.split("-", 1))
        return time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        log.warning("store hours %r are not in the HH:MM-HH:MM form", hours)
        return None


def today_at(store: Store, now: datetime, language: str = "zh-Hans") -> Today:
    local = now.astimezone(ZoneInfo(store.timezone))
    holiday = holiday_name(local.date(), store.timezone, language)
    hours = store.holiday_hours if holiday and store.holiday_hours else store.hours
    span = _span(hours)
    if span is None:
        return Today(hours, holiday, False, None)
    opens, closes = span
    open_now = opens <= local.time().replace(tzinfo=None) < closes
    return Today(hours, holiday, open_now, closes.strftime("%H:%M"))
