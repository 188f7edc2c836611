"""Conventions shared by the per-notebook analyses (``*_analysis`` modules).

A notebook calls ``<question>_analysis(ds, ...)`` for every table it shows, then
``<question>_figures(result)`` for the numbers of its key-figures table and of the report's
``summary.json``. The summary notebook calls the same functions, so the brief and the detail
pages can never disagree. Missing is ``None`` (shown and stored as missing, never 0).
"""

from __future__ import annotations

import math

import pandas as pd


def num_or_none(value: float | None) -> float | None:
    """None for missing (NaN/None) so it is shown and stored as missing, never 0."""
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


def pct_or_none(fraction: float | None) -> float | None:
    """A fraction (0.93) in percent points (93.0); None when missing."""
    v = num_or_none(fraction)
    return None if v is None else v * 100


def rows_of_base(frame: pd.DataFrame, base: str) -> pd.DataFrame:
    """Rows whose ccxt unified symbol has base ``base`` (``BTC/USDT:USDT`` -> ``BTC``)."""
    return frame[frame["symbol"].str.split("/").str[0] == base].reset_index(drop=True)
