"""Chinese numerals (五百, 一千二, 两万) and grouped Arabic numbers (1,000) as integers."""

from __future__ import annotations

from typing import Final

CN_DIGITS: Final = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                    "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS: Final = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL_CHARS: Final = "".join(CN_DIGITS) + "".join(_SMALL_UNITS) + "".join(_LARGE_UNITS)


def parse_cn_number(text: str) -> int | None:
    """``五百`` → 500, ``一千二`` → 1200 (colloquial), ``十五`` → 15; ``None`` if not a numeral."""
    if not text or any(char not in CN_NUMERAL_CHARS for char in text):
        return None
    total = 0
    section = 0
    digit: int | None = None
    last_unit = 0
    zero_seen = False
    for char in text:
        if char in CN_DIGITS:
            if digit is not None and digit != 0:
                return None  # two digits in a row ("五五") is not a numeral we read
            digit = CN_DIGITS[char]
            zero_seen = zero_seen or digit == 0
        elif char in _SMALL_UNITS:
            unit = _SMALL_UNITS[char]
            section += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
            zero_seen = False
        else:
            unit = _LARGE_UNITS[char]
            section += digit or 0
            total += max(section, 1) * unit
            section = 0
            digit = None
            last_unit = unit
            zero_seen = False
    if digit is not None:
        # 一千二 means 1200: a trailing digit counts in the unit below the last one, unless a
        # zero came between (三百零五 is 305).
        scale = last_unit // 10 if last_unit >= 100 and not zero_seen else 1
        section += digit * scale
    return total + section


def parse_number(text: str) -> int | None:
    """Arabic (``1,000``, ``1000``) or Chinese numerals; ``None`` when neither."""
    compact = text.replace(",", "").replace(" ", "")
    if compact.isascii() and compact.isdigit():
        return int(compact)
    return parse_cn_number(compact)
