"""Canned replies: {variables} filled in from the case the agent is answering."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Only plain names: "{case_number}". A regex rather than str.format, so a template can never
# reach attributes ("{x.__class__}") of the values.
_VARIABLE = re.compile(r"\{([a-z_]{1,32})\}")
VARIABLES = ("agent", "case_number", "tier", "points", "store", "due")


def fill(body: str, values: Mapping[str, str]) -> str:
    """``body`` with known variables replaced; unknown ones stay visible for the agent."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def unknown_variables(body: str) -> list[str]:
    """Variables in ``body`` that no case can fill (a typo an admin should see)."""
    return sorted({name for name in _VARIABLE.findall(body) if name not in VARIABLES})
