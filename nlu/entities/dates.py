"""Dates in Chinese and English (今天, 下周五, 5月3日, 2026-05-03, 5/3, next Friday, May 3) → ISO.

Rules, so that every answer is predictable (documented in nlu/README.md):
- ``周五``/``这周五``/``Friday``/``this Friday``: the coming Friday (today when it is Friday).
- ``下周五``/``next Friday``: Friday of next calendar week (weeks start on Monday).
- ``上周五``/``last Friday``: Friday of the previous calendar week.
- A month and day without a year (``5月3日``, ``5/3``, ``May 3``): the occurrence nearest to
  today, so "3月1日" in December means next March and "11月20日" in December this year.
- ``5/3`` is month/day.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Final

from nlu.entities.numerals import CN_NUMERAL_CHARS, parse_number
from nlu.types import Entity

EXTRACTOR = "kefu.date"

_CN_NUM = f"[{CN_NUMERAL_CHARS}]{{1,3}}"
_NUM = rf"(?:\d{{1,2}}|{_CN_NUM})"

_RELATIVE_DAYS: Final = {
    "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明儿": 1, "今天": 0, "今日": 0, "今儿": 0,
    "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3,
    # Cantonese: 听日 tomorrow, 琴日/寻日 yesterday (matched after t2s, so 聽日 works too).
    "听日": 1, "琴日": -1, "寻日": -1,
    "day after tomorrow": 2, "tomorrow": 1, "tmrw": 1, "tmr": 1, "today": 0, "tonight": 0,
    "yesterday": -1, "day before yesterday": -2,
}
_ZH_WEEKDAY: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
                      "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_EN_WEEKDAY: Final = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6,
}
_EN_MONTH: Final = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1,
    "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTHS = _alternation(_EN_MONTH)
_WEEKDAYS = _alternation(_EN_WEEKDAY)
_FULL_WEEKDAYS = "|".join(w for w in _EN_WEEKDAY if len(w) > 4)

# 2026-11-23, 2026/11/23, 2026.11.23, 2026年11月23日 (the birthday handler reads it too).
YEAR_MONTH_DAY = re.compile(
    r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?!\d)")
_ZH_MONTH_DAY = re.compile(
    rf"(?<![\d年])({_NUM})\s*月\s*({_NUM})\s*(?:[日号]|(?![\d{CN_NUMERAL_CHARS}]))"
)
_SLASH = re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])")
_ZH_DAY_ONLY = re.compile(r"(?<![\d月/.])(\d{1,2})\s*号(?![店线楼门铺柜台机口码])")
_ZH_WEEK = re.compile(r"(下下|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
_ZH_IN_DAYS = re.compile(rf"(\d{{1,3}}|{_CN_NUM})\s*天\s*(?:以|之)?后")
_RELATIVE = re.compile(
    r"(?<![a-z])(" + _alternation(_RELATIVE_DAYS) + r")(?![a-z])"
)
_EN_WEEK = re.compile(
    rf"(?<![a-z])(?:(next|this|coming|last)\s+({_WEEKDAYS})|({_FULL_WEEKDAYS}))(?![a-z])"
)
_EN_MONTH_DAY = re.compile(
    rf"(?<![a-z])({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?(?![\d:])"
)
_EN_DAY_MONTH = re.compile(
    rf"(?<![\d])(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTHS})(?![a-z])(?:,?\s+(\d{{4}}))?"
)
_EN_IN_DAYS = re.compile(r"(?<![a-z])in\s+(\d{1,3})\s+days?(?![a-z])")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(month: int, day: int, today: date) -> date | None:
    candidates = [d for year in (today.year - 1, today.year, today.year + 1)
                  if (d := _safe_date(year, month, day)) is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda d: (abs((d - today).days), d < today))


def _weekday(modifier: str, weekday: int, today: date) -> date:
    monday = today - timedelta(days=today.weekday())
    if modifier.startswith("下下"):
        return monday + timedelta(days=14 + weekday)
    if modifier.startswith(("下", "next")):
        return monday + timedelta(days=7 + weekday)
    if modifier.startswith(("上", "last")):
        return monday + timedelta(days=-7 + weekday)
    if modifier.startswith(("这", "本", "this")):
        return monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _number(text: str) -> int | None:
    return parse_number(text)


Resolver = Callable[[re.Match[str], date], date | None]


def _iso(m: re.Match[str], today: date) -> date | None:
    return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _zh_month_day(m: re.Match[str], today: date) -> date | None:
    month, day = _number(m.group(1)), _number(m.group(2))
    return _nearest(month, day, today) if month and day else None


def _slash(m: re.Match[str], today: date) -> date | None:
    return _nearest(int(m.group(1)), int(m.group(2)), today)


def _day_only(m: re.Match[str], today: date) -> date | None:
    return _safe_date(today.year, today.month, int(m.group(1)))


def _zh_week(m: re.Match[str], today: date) -> date | None:
    return _weekday(m.group(1) or "", _ZH_WEEKDAY[m.group(2)], today)


def _zh_in_days(m: re.Match[str], today: date) -> date | None:
    days = _number(m.group(1))
    return today + timedelta(days=days) if days is not None and days <= 366 else None


def _relative(m: re.Match[str], today: date) -> date | None:
    return today + timedelta(days=_RELATIVE_DAYS[m.group(1)])


def _en_week(m: re.Match[str], today: date) -> date | None:
    if m.group(3):
        return _weekday("", _EN_WEEKDAY[m.group(3)], today)
    modifier = "" if m.group(1) == "coming" else m.group(1)
    return _weekday(modifier, _EN_WEEKDAY[m.group(2)], today)


def _en_month_day(m: re.Match[str], today: date) -> date | None:
    month, day = _EN_MONTH[m.group(1)], int(m.group(2))
    return _safe_date(int(m.group(3)), month, day) if m.group(3) else _nearest(month, day, today)


def _en_day_month(m: re.Match[str], today: date) -> date | None:
    month, day = _EN_MONTH[m.group(2)], int(m.group(1))
    return _safe_date(int(m.group(3)), month, day) if m.group(3) else _nearest(month, day, today)


def _en_in_days(m: re.Match[str], today: date) -> date | None:
    days = int(m.group(1))
    return today + timedelta(days=days) if days <= 366 else None


# Most specific first: a span claimed by an earlier pattern is not read again.
_PATTERNS: Final[tuple[tuple[re.Pattern[str], Resolver], ...]] = (
    (YEAR_MONTH_DAY, _iso),
    (_ZH_MONTH_DAY, _zh_month_day),
    (_EN_MONTH_DAY, _en_month_day),
    (_EN_DAY_MONTH, _en_day_month),
    (_SLASH, _slash),
    (_ZH_WEEK, _zh_week),
    (_EN_WEEK, _en_week),
    (_ZH_IN_DAYS, _zh_in_days),
    (_EN_IN_DAYS, _en_in_days),
    (_RELATIVE, _relative),
    (_ZH_DAY_ONLY, _day_only),
)


def extract_dates(normalised: str, *, today: date) -> list[Entity]:
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for pattern, resolve in _PATTERNS:
        for match in pattern.finditer(normalised):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            resolved = resolve(match, today)
            if resolved is None:
                continue
            taken.append((start, end))
            found.append(Entity("date", resolved.isoformat(), start, end, EXTRACTOR))
    return sorted(found, key=lambda e: e.start)
