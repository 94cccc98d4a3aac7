"""Reading a birthday someone types: a real date, with a year, not in the future."""

from __future__ import annotations

import re
from datetime import date

from bot.core.i18n import to_simplified

FUTURE, INVALID, NO_YEAR = "!future", "!invalid", "!year"

_MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?!\d)")
_COMPACT = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
_DMY_EN = re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})",
                     re.IGNORECASE)
_MDY_EN = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})",
                     re.IGNORECASE)
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?!\d)")
_MD = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_MD_EN = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})\b|(?<!\d)(\d{{1,2}})\s+({_MONTH})\b",
                    re.IGNORECASE)


def _real(year: int, month: int, day: int, today: date) -> str:
    try:
        born = date(year, month, day)
    except ValueError:
        return INVALID
    if born > today:
        return FUTURE
    if year < 1900:
        return INVALID
    return born.isoformat()


def parse_birthday(text: str, *, today: date) -> str | None:
    """An ISO date; FUTURE, INVALID (30 Feb) or NO_YEAR for dates that cannot be a
    birthday; ``None`` when the text holds no date at all."""
    cleaned = to_simplified(text)
    if match := _YMD.search(cleaned) or _COMPACT.search(cleaned):
        return _real(int(match[1]), int(match[2]), int(match[3]), today)
    if match := _DMY_EN.search(cleaned):
        return _real(int(match[3]), _MONTHS[match[2].lower()], int(match[1]), today)
    if match := _MDY_EN.search(cleaned):
        return _real(int(match[3]), _MONTHS[match[1].lower()], int(match[2]), today)
    if match := _DMY.search(cleaned):  # 3/5/1990: day first, as most of the world writes
        return _real(int(match[3]), int(match[2]), int(match[1]), today)
    if match := _MD.search(cleaned):
        month, day = int(match[1]), int(match[2])
    elif match := _MD_EN.search(cleaned):
        month = _MONTHS[(match[1] or match[4]).lower()]
        day = int(match[2] or match[3])
    else:
        return None
    # 2000 was a leap year: 29 Feb passes here, 30 Feb never does.
    return INVALID if _real(2000, month, day, date.max) == INVALID else NO_YEAR
