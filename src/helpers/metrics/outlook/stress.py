"""Rolling liquidations against the rolling price range, and the stress-without-relief flag
(conventions: :mod:`helpers.metrics.outlook`)."""

from __future__ import annotations

import pandas as pd

from helpers.errors import UserError
from helpers.metrics.parameters import OutlookParameters

_D = OutlookParameters()
"""Defaults of the knobs (:mod:`helpers.metrics.parameters`)."""


def liquidations_vs_range(hourly: pd.DataFrame, grid: pd.DataFrame, window: int) -> pd.DataFrame:
    """Rolling liquidation volume against the rolling price range, per bar.

    ``hourly`` is :func:`helpers.metrics.outlook.hourly_liquidations`, ``grid`` the price
    grid of the same window (:func:`helpers.metrics.clusters.price_grid`). Over the
    ``window`` bars ending at each bar:

    * ``long_usd_roll``, ``short_usd_roll``, ``total_usd_roll``: sums of liquidated notional;
    * ``range_frac = (max high - min low) / close`` of the last bar, a fraction;
    * ``window_open``: the open of the window's first bar, the price when the window started.

    Each is NaN until ``window`` bars exist and whenever a bar inside the window is missing.
    """
    if window < 1:
        raise UserError(f"rolling window must be at least 1 bar, got {window}")
    px = grid.set_index("ts")
    liq = hourly.set_index("ts").reindex(px.index)
    roll = {
        f"{c}_roll": liq[c].rolling(window, min_periods=window).sum()
        for c in ("long_usd", "short_usd", "total_usd")
    }
    high = px["high"].rolling(window, min_periods=window).max()
    low = px["low"].rolling(window, min_periods=window).min()
    out = pd.DataFrame(
        {
            "long_usd": liq["long_usd"],
            "short_usd": liq["short_usd"],
            "total_usd": liq["total_usd"],
            **roll,
            "range_frac": (high - low) / px["close"],
            "close": px["close"],
            "window_open": px["open"].shift(window - 1),
        },
        index=px.index,
    )
    out.attrs["window"] = window
    return out.reset_index()


def _nullable(values: pd.Series, known: pd.Series) -> pd.Series:
    return values.astype("boolean").mask(~known)


def flag_stress_without_relief(
    frame: pd.DataFrame, k: int = _D.rising_steps, min_usd: float = _D.stress_min_usd
) -> pd.DataFrame:
    """Flag bars where long liquidations keep rising while the range narrows without recovery.

    On :func:`liquidations_vs_range` output, four tests at each bar t:

    * ``large_enough``: ``long_usd_roll[t] >= min_usd`` (US dollars; default
      :attr:`~helpers.metrics.parameters.OutlookParameters.stress_min_usd`), so a quiet
      stretch whose longs creep up from a few hundred thousand dollars is never flagged;

    * ``longs_rising``: ``long_usd_roll`` rose at each of the last ``k`` steps
      (``roll[t] > roll[t-1] > ... > roll[t-k]``);
    * ``range_narrowing``: ``range_frac[t] < range_frac[t-k]``;
    * ``no_recovery``: ``close[t] < window_open[t]`` (price below where the window started).

    ``stress_flag`` is their AND. Each column is a nullable boolean, NA where an input is
    missing, so a gap never reads as "no stress" (but a bar known to be under ``min_usd`` is
    decided: not flagged).
    """
    if k < 1:
        raise UserError(f"k must be at least 1 step, got {k}")
    if not min_usd >= 0:
        raise UserError(f"minimum stress size must be a non-negative USD amount, got {min_usd}")
    roll = frame["long_usd_roll"]
    steps = roll.diff()
    known_steps = steps.notna().astype("float64").rolling(k, min_periods=k).sum() == k
    rising = (steps > 0).astype("float64").rolling(k, min_periods=k).sum() == k
    prior_range = frame["range_frac"].shift(k)
    narrowing = frame["range_frac"] < prior_range
    no_recovery = frame["close"] < frame["window_open"]
    out = frame.assign(
        large_enough=_nullable(roll >= min_usd, roll.notna()),
        longs_rising=_nullable(rising, known_steps),
        range_narrowing=_nullable(narrowing, frame["range_frac"].notna() & prior_range.notna()),
        no_recovery=_nullable(no_recovery, frame["close"].notna() & frame["window_open"].notna()),
    )
    out["stress_flag"] = (
        out["large_enough"] & out["longs_rising"] & out["range_narrowing"] & out["no_recovery"]
    )
    out.attrs = {**frame.attrs, "k": k, "min_usd": float(min_usd)}
    return out


STRESS_TABLE_COLUMNS = (
    "ts",
    "long_usd",
    "short_usd",
    "long_usd_roll",
    "range_frac",
    "close",
    "window_open",
    "drawdown_frac",
)


def stress_bars(flagged: pd.DataFrame) -> pd.DataFrame:
    """The bars :func:`flag_stress_without_relief` flagged, oldest first, one row each:
    ``ts`` (bar open, UTC), the bar's ``long_usd`` / ``short_usd`` and the rolling
    ``long_usd_roll`` (US dollars), ``range_frac`` (fraction of close), ``close`` and
    ``window_open`` (quote currency) and ``drawdown_frac = close / window_open - 1`` (a
    negative fraction: how far price is below where the rolling window started). Empty
    (same columns) when nothing is flagged or the frame has no flag."""
    if "stress_flag" not in flagged:
        return pd.DataFrame(columns=list(STRESS_TABLE_COLUMNS))
    rows = flagged[flagged["stress_flag"].fillna(False).astype(bool)]
    rows = rows.assign(drawdown_frac=rows["close"] / rows["window_open"] - 1)
    present = [c for c in STRESS_TABLE_COLUMNS if c in rows]
    return rows[present].sort_values("ts", kind="stable").reset_index(drop=True)
