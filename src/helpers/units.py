"""Formatting of money and fractions for sentences and tables (no plotting, no metrics)."""

from __future__ import annotations

import pandas as pd


def fmt_usd(value: float | None, digits: int = 1) -> str:
    """``$231.4M`` / ``$1.70T`` / ``missing`` for NaN or None."""
    if value is None or pd.isna(value):
        return "missing"
    v = float(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div:
            return f"${v / div:,.{digits}f}{suffix}"
    return f"${v:,.0f}"


def fmt_usd_sig(value: float | None) -> str:
    """US dollars with three significant figures at least, as key figures and the sentences
    quoting them show them: ``$231.4M``, ``$1.66T``, ``$3.50M``, ``$950``; ``missing`` for
    NaN or None. Two decimals below 10 of the unit, one above (:func:`fmt_usd`)."""
    if value is None or pd.isna(value):
        return "missing"
    mag = abs(float(value))
    scaled = next((mag / d for d in (1e12, 1e9, 1e6, 1e3) if mag >= d), mag)
    return fmt_usd(value, 2 if scaled < 10 else 1)


def fmt_pct(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percent (``0.253`` -> ``25.3%``); ``missing`` for NaN or None."""
    if fraction is None or pd.isna(fraction):
        return "missing"
    return f"{float(fraction) * 100:.{digits}f}%"
