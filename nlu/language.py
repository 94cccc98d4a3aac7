"""Which of Kefu's languages a text is written in: zh-Hans, zh-Hant or en."""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Written Cantonese characters that have no simplified counterpart to give them away.
_CANTONESE = re.compile(r"[嘅咗冇唔喺哋咩乜嚟佢啲嘢攰咁噉嗰睇俾畀攞揾搵]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def detect_language(text: str) -> str:
    """``en`` without Chinese characters; ``zh-Hant`` when OpenCC would change a character or
    the text uses written Cantonese; ``zh-Hans`` otherwise."""
    if not _CJK.search(text):
        return "en"
    if _CANTONESE.search(text) or _t2s().convert(text) != text:
        return "zh-Hant"
    return "zh-Hans"
