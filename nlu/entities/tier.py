"""Membership tier names in Chinese (简/繁, Cantonese 咭) and English to tier codes."""

from __future__ import annotations

import re
from typing import Final

from nlu.types import Entity

EXTRACTOR = "kefu.tier"

# Matched on simplified, lower-cased text; traditional input (銀卡, 鑽石) arrives simplified.
TIER_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "standard": ("普通会员", "普通卡", "普通咭", "普卡", "普通级", "普通", "standard", "basic"),
    "silver": ("银卡会员", "银卡", "银咭", "银会员", "白银会员", "白银", "silver"),
    "gold": ("金卡会员", "金卡", "金咭", "黄金会员", "黄金卡", "金会员", "gold"),
    "diamond": ("钻石会员", "钻石卡", "钻石", "钻卡", "钻咭", "diamond"),
}


def _pattern() -> re.Pattern[str]:
    words = sorted(((w, code) for code, ws in TIER_WORDS.items() for w in ws),
                   key=lambda item: -len(item[0]))
    parts = []
    for word, _ in words:
        escaped = re.escape(word)
        if word.isascii():
            parts.append(rf"(?<![a-z]){escaped}(?![a-z])")
        elif word == "普通":
            parts.append(rf"{escaped}(?!话|人|快递)")  # 普通话 is Mandarin, not a tier
        else:
            parts.append(escaped)
    return re.compile("|".join(parts))


_TIERS = _pattern()
_CODE_OF = {word: code for code, words in TIER_WORDS.items() for word in words}


def extract_tiers(normalised: str) -> list[Entity]:
    return [Entity("tier", _CODE_OF[m.group(0)], m.start(), m.end(), EXTRACTOR)
            for m in _TIERS.finditer(normalised)]
