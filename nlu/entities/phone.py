"""Phone numbers (mainland, +86, +852 Hong Kong, +886 Taiwan) to E.164 with phonenumbers."""

from __future__ import annotations

import phonenumbers

from nlu.types import Entity

EXTRACTOR = "kefu.phone"
# Numbers without a country code are read as mainland numbers; Hong Kong and Taiwan numbers
# need their +852 / +886 (or 00852 / 00886) prefix, since 8 bare digits are ambiguous.
_DEFAULT_REGION = "CN"
_ALLOWED_REGIONS = frozenset({"CN", "HK", "MO", "TW"})


def extract_phones(normalised: str) -> list[Entity]:
    found: list[Entity] = []
    # Leniency VALID: the number must be a real allocated range, which keeps order numbers
    # and amounts from being read as phones.
    matcher = phonenumbers.PhoneNumberMatcher(
        normalised, _DEFAULT_REGION, leniency=phonenumbers.Leniency.VALID, max_tries=50
    )
    for match in matcher:
        number = match.number
        if phonenumbers.region_code_for_number(number) not in _ALLOWED_REGIONS:
            continue
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        found.append(Entity("phone", value, match.start, match.end, EXTRACTOR))
    return found
