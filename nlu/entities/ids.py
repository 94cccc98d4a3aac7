"""Order ids and case ids: fixed formats documented in nlu/README.md."""

from __future__ import annotations

import re

from nlu.types import Entity

EXTRACTOR = "kefu.ids"

# Case ids: C-YYYYMMDD-NNNN (separators optional when typed) or the readable KF + 6–10 digits.
_CASE = re.compile(r"(?<![a-z0-9])(?:c-?(\d{8})-?(\d{4})|kf-?(\d{6,10}))(?![a-z0-9])")
# Order ids: SO + 10–16 digits, or a bare run of 14–20 digits (online-shop order numbers are
# longer than any phone number, so the two never collide).
_ORDER = re.compile(r"(?<![a-z0-9])(?:so-?(\d{10,16})|(\d{14,20}))(?![a-z0-9])")


def extract_case_ids(normalised: str) -> list[Entity]:
    found = []
    for match in _CASE.finditer(normalised):
        value = (f"C-{match.group(1)}-{match.group(2)}" if match.group(1)
                 else f"KF{match.group(3)}")
        found.append(Entity("case_id", value, match.start(), match.end(), EXTRACTOR))
    return found


def extract_order_ids(normalised: str) -> list[Entity]:
    found = []
    for match in _ORDER.finditer(normalised):
        value = f"SO{match.group(1)}" if match.group(1) else match.group(2)
        found.append(Entity("order_id", value, match.start(), match.end(), EXTRACTOR))
    return found
