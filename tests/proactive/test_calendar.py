"""Occasions on the calendar: lunar dates against a second source, leap years, extras."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from holidays.calendars.chinese import _ChineseLunisolar
from lunardate import LunarDate
from pydantic import ValidationError

from bot.features.proactive import calendar
from bot.features.proactive.settings import ExtraOccasion, OccasionSetting, ProactiveSettings

YEARS = range(2026, 2031)


def day_of(year: int, code: str) -> date:
    found = [d for d, codes in calendar.holidays_of(year).items() if code in codes]
    assert len(found) == 1, (year, code, found)
    return found[0]


@pytest.mark.parametrize("year", YEARS)
def test_lunar_holidays_agree_with_the_holidays_package(year: int) -> None:
    other = _ChineseLunisolar()  # the `holidays` package's own lunisolar tables
    new_year = other.lunar_new_year_date(year)[0]
    assert day_of(year, "spring_festival") == new_year
    assert day_of(year, "spring_festival_eve") == new_year - timedelta(days=1)
    assert day_of(year, "lantern") == new_year + timedelta(days=14)
    assert day_of(year, "dragon_boat") == other.dragon_boat_date(year)[0]
    assert day_of(year, "mid_autumn") == other.mid_autumn_date(year)[0]
    assert day_of(year, "double_ninth") == other.double_ninth_date(year)[0]
    assert day_of(year, "qingming") == other.qingming_date(year)[0]
    qixi = LunarDate.from_solar_date(*day_of(year, "qixi").timetuple()[:3])
    assert (qixi.month, qixi.day, qixi.isLeapMonth) == (7, 7, False)


@pytest.mark.parametrize("year", YEARS)
def test_statutory_days_match_holidays_china(year: int) -> None:
    import holidays

    named = {d: n for d, n in holidays.China(years=year).items() if "observed" not in n}

    def first(word: str) -> date:
        return min(d for d, n in named.items() if word in n)

    assert day_of(year, "spring_festival") == first("Spring Festival")
    assert day_of(year, "qingming") == first("Tomb-Sweeping")
    assert day_of(year, "dragon_boat") == first("Dragon Boat")
    assert day_of(year, "national_day") == first("National Day") == date(year, 10, 1)


def test_known_dates() -> None:
    assert day_of(2027, "spring_festival") == date(2027, 2, 6)
    assert day_of(2027, "mid_autumn") == date(2027, 9, 15)
    assert day_of(2026, "spring_festival_eve") == date(2026, 2, 16)


def test_years_without_lunar_data_give_the_solar_days_only() -> None:
    days = calendar.holidays_of(2150)
    assert sorted(code for codes in days.values() for code in codes) == ["national_day",
                                                                         "new_year"]


def test_birthdays_on_29_february_are_greeted_on_28_february_in_common_years() -> None:
    leap_born = date(1992, 2, 29)
    assert calendar.birthday_in(2027, leap_born) == date(2027, 2, 28)
    assert calendar.birthday_in(2028, leap_born) == date(2028, 2, 29)
    assert calendar.birthday_keys(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert calendar.birthday_keys(date(2028, 2, 28)) == [(2, 28)]
    assert calendar.birthday_keys(date(2028, 2, 29)) == [(2, 29)]


def test_switched_off_and_extra_occasions() -> None:
    settings = ProactiveSettings(
        occasions={"spring_festival": OccasionSetting(enabled=False)},
        extra_occasions=[
            ExtraOccasion(code="christmas", date="12-25", text={"en": "Merry Christmas"}),
            ExtraOccasion(code="founding", date="08-15", calendar="lunar",
                          text={"zh-Hans": "{name}，店庆快乐"}),
        ])
    assert calendar.occasions_on(date(2027, 2, 6), settings) == []
    assert calendar.occasions_on(date(2027, 12, 25), settings) == ["christmas"]
    assert calendar.occasions_on(date(2027, 9, 15), settings) == ["mid_autumn", "founding"]


@pytest.mark.parametrize("bad", [
    {"occasions": {"easter": {"enabled": True}}},
    {"occasions": {"birthday": {"text": {"en": "Hi {nickname}"}}}},
    {"extra_occasions": [{"code": "x_day", "date": "13-01", "text": {"en": "hi"}}]},
    {"extra_occasions": [{"code": "birthday", "date": "01-01", "text": {"en": "hi"}}]},
    {"extra_occasions": [{"code": "promo", "date": "01-02", "text": {"en": "{points} left"}}]},
])
def test_bad_occasion_config_is_refused_with_the_reason(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ProactiveSettings.model_validate(bad)


def test_quiet_hours_cross_midnight() -> None:
    from datetime import time

    settings = ProactiveSettings()
    assert settings.in_quiet_hours(time(21, 0)) and settings.in_quiet_hours(time(3, 0))
    assert settings.in_quiet_hours(time(8, 59))
    assert not settings.in_quiet_hours(time(9, 0)) and not settings.in_quiet_hours(time(20, 59))
