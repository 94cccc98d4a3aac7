"""Which occasions fall on a day: birthdays, Chinese holidays (lunar ones computed), extras.

Lunar dates come from ``lunardate`` (years 1900–2099); 清明 is a solar term, computed with the
published 21st/20th-century term formula. A year outside that range has no lunar occasions
(logged once), never a crash.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, timedelta
from functools import lru_cache

from lunardate import LunarDate

from bot.features.proactive.settings import ProactiveSettings

log = logging.getLogger(__name__)

FIRST_YEAR, LAST_YEAR = 1901, 2099
# code → (lunar month, lunar day) for the holidays on a fixed day of the lunar calendar.
LUNAR = {"spring_festival": (1, 1), "lantern": (1, 15), "dragon_boat": (5, 5), "qixi": (7, 7),
         "mid_autumn": (8, 15), "double_ninth": (9, 9)}
SOLAR = {"new_year": (1, 1), "national_day": (10, 1)}


def lunar_to_solar(year: int, month: int, day: int) -> date | None:
    """The solar date of a lunar month/day in the lunar year starting in ``year``.

    Day 30 of a 29-day month becomes its last day, as birthdays on 30th are kept.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    for candidate in (day, day - 1) if day == 30 else (day,):
        try:
            solar: date = LunarDate(year, month, candidate).to_solar_date()
            return solar
        except ValueError:
            continue
    return None


def qingming(year: int) -> date | None:
    """清明 (the sun at 15°): [Y·0.2422 + C] − [Y/4], Y the year's last two digits."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    y = year % 100
    c = 4.81 if year >= 2000 else 5.59
    return date(year, 4, int(y * 0.2422 + c) - y // 4)


@lru_cache(maxsize=64)
def holidays_of(year: int) -> dict[date, tuple[str, ...]]:
    """Built-in holidays of a solar year: day → occasion codes."""
    days: dict[date, list[str]] = {}
    for code, (month, day) in SOLAR.items():
        days.setdefault(date(year, month, day), []).append(code)
    spring = lunar_to_solar(year, 1, 1)
    if spring is None:
        log.warning("no lunar calendar data for %d: lunar occasions skipped", year)
        return {d: tuple(c) for d, c in days.items()}
    days.setdefault(spring - timedelta(days=1), []).append("spring_festival_eve")
    for code, (month, day) in LUNAR.items():
        solar = lunar_to_solar(year, month, day)
        if solar is not None:
            days.setdefault(solar, []).append(code)
    term = qingming(year)
    if term is not None:
        days.setdefault(term, []).append("qingming")
    return {d: tuple(c) for d, c in days.items()}


def extra_date(year: int, month_day: str, lunar: bool) -> date | None:
    month, day = (int(part) for part in month_day.split("-"))
    if lunar:
        return lunar_to_solar(year, month, day)
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def occasions_on(day: date, settings: ProactiveSettings) -> list[str]:
    """The enabled holiday and extra occasions of ``day`` (birthdays are per member)."""
    found = [code for code in holidays_of(day.year).get(day, ()) if settings.enabled(code)]
    for extra in settings.extra_occasions:
        if extra.enabled and extra_date(day.year, extra.date, extra.calendar == "lunar") == day:
            found.append(extra.code)
    return found


def birthday_in(year: int, birthday: date) -> date:
    """The day a birthday is celebrated in ``year``: 29 February is 28 February in common
    years."""
    if (birthday.month, birthday.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def birthday_keys(day: date) -> list[tuple[int, int]]:
    """Month/day pairs whose birthdays are celebrated on ``day`` (28 Feb also takes 29 Feb in
    common years)."""
    keys = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        keys.append((2, 29))
    return keys
