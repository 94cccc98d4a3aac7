"""Number and money formatting shared by the handlers."""

from __future__ import annotations

from decimal import Decimal


def points(value: int) -> str:
    return f"{value:,}"


def money(value: Decimal) -> str:
    """¥ amounts without float rounding: 3000 → 3,000; 1234.5 → 1,234.50."""
    quantized = value.quantize(Decimal("0.01"))
    if quantized == quantized.to_integral_value():
        return f"{int(quantized):,}"
    return f"{quantized:,.2f}"
