"""Phone numbers normalised to E.164, the one form Kefu stores and indexes."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str, *, default_region: str = "CN") -> str | None:
    """``13800000001``, ``+86 138-0000-0001``, ``+852 9123 4567`` → E.164, else ``None``."""
    cleaned = raw.strip()
    if not cleaned or len(cleaned) > 32:
        return None
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
