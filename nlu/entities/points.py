"""Points amounts: 500积分, 1,000 points, 五百分, 2k pts → integers."""

from __future__ import annotations

import re

from nlu.entities.numerals import CN_NUMERAL_CHARS, parse_number
from nlu.types import Entity

EXTRACTOR = "kefu.points"

_UNIT = r"(?:个)?(?:积分|分|points?|pts?)"
_ARABIC = re.compile(
    r"(?<![\d.:点,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(k|千|万|w)?\s*(" + _UNIT + r")(?![a-z钟])"
)
_CHINESE = re.compile(r"(?<![\d.])([" + CN_NUMERAL_CHARS + r"]+)\s*(" + _UNIT + r")(?!钟|之)")
_MULTIPLIER = {"k": 1000, "千": 1000, "万": 10_000, "w": 10_000}


def extract_points(normalised: str) -> list[Entity]:
    found: list[Entity] = []
    for match in _ARABIC.finditer(normalised):
        whole = parse_number(match.group(1))
        multiplier = _MULTIPLIER.get(match.group(3) or "", 1)
        if whole is None or (match.group(2) and multiplier == 1):
            continue  # 2.5 points is not an amount anyone holds
        fraction = float(match.group(2) or 0)
        amount = whole * multiplier + round(fraction * multiplier)
        found.append(Entity("points", amount, match.start(), match.end(), EXTRACTOR))
    for match in _CHINESE.finditer(normalised):
        value = parse_number(match.group(1))
        unit = match.group(2)
        # A bare 分 after a small Chinese numeral is usually not points: 十分 means "very",
        # 一分 a cent or a score.
        if value is None or (unit.endswith("分") and "积" not in unit and value < 50):
            continue
        found.append(Entity("points", value, match.start(), match.end(), EXTRACTOR))
    return found
