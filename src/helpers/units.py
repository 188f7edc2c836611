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


def fmt_pct(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percent (``0.253`` -> ``25.3%``); ``missing`` for NaN or None."""
    if fraction is None or pd.isna(fraction):
        return "missing"
    return f"{float(fraction) * 100:.{digits}f}%"
