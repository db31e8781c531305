"""The one way numbers are written beside bars, in dialogs and on the console."""

from __future__ import annotations

import math


def format_value(value: float, signed: bool = True, digits: int = 4) -> str:
    """`digits` decimals, with an explicit sign where values can be negative (not on gates);
    scientific, with two fewer decimals, from 10⁴ on."""
    sign = "+" if signed else ""
    if abs(value) >= 1e4:
        return f"{value:{sign}.{max(digits - 2, 1)}e}"
    return f"{value:{sign}.{digits}f}"


def scientific(log10_value: float) -> str:
    """10**log10_value as 3.1e-09, exact far beyond float64's range; 0 for −inf."""
    if log10_value == -math.inf:
        return "0"
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if mantissa >= 9.95:  # rounds up to the next power
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f}e{exponent:+03d}"
