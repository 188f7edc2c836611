"""Liquidated notional per venue and bar on the window grid, summed over venues, and
against open interest (conventions: :mod:`helpers.metrics.outlook`)."""

from __future__ import annotations

import pandas as pd

from helpers.metrics.liquidation_map import oi_on_grid
from helpers.timegrid import Window

TOTAL = "total"


def liquidations_on_grid(bars: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Liquidated notional (USD) per venue and bar over the window grid.

    One row per (grid ts, exchange) for the window's ``exchanges`` (None: every exchange in
    ``bars``); rows of other intervals than the window's are ignored;
    a venue's symbols are summed, and a venue counts as observed in a bar when any of its
    symbols has a row there. A bar with no row for the venue is unobserved: NaN, never 0.
    Columns: ``ts``, ``exchange``, ``long_usd``, ``short_usd``, ``total_usd``.
    """
    grid = window.grid()
    bars = bars[bars["interval"] == window.interval]
    exchanges = window.exchanges
    venues = sorted(bars["exchange"].unique()) if exchanges is None else sorted(exchanges)
    sums = bars.groupby(["ts", "exchange"])[["long_usd", "short_usd"]].sum(min_count=1)
    full = pd.MultiIndex.from_product([grid, venues], names=["ts", "exchange"])
    out = sums.reindex(full).astype("float64").reset_index()
    out["exchange"] = out["exchange"].astype("string")
    return out.assign(total_usd=out["long_usd"] + out["short_usd"])


def total_liquidations(per_venue: pd.DataFrame) -> pd.DataFrame:
    """All venues summed per bar; NaN in a bar where any venue is unobserved.

    Input: :func:`liquidations_on_grid`. Columns: ``ts``, ``long_usd``, ``short_usd``,
    ``total_usd``, ``venues_observed``, ``venues_expected``.
    """
    grouped = per_venue.groupby("ts")
    out = grouped[["long_usd", "short_usd", "total_usd"]].sum(skipna=False)
    out["venues_observed"] = grouped["total_usd"].count()
    out["venues_expected"] = grouped.size()
    return out.reset_index()


def hourly_liquidations(bars: pd.DataFrame, window: Window) -> pd.DataFrame:
    """:func:`total_liquidations` of :func:`liquidations_on_grid`, one row per grid bar.

    With no venue at all (an empty frame and no ``exchanges`` in the window) every bar is NaN.
    """
    per_venue = liquidations_on_grid(bars, window)
    grid = pd.DataFrame({"ts": window.grid()})
    totals = total_liquidations(per_venue)
    out = grid.merge(totals, on="ts", how="left")
    return out.fillna({"venues_observed": 0, "venues_expected": 0}).astype(
        {"venues_observed": "int64", "venues_expected": "int64"}
    )


def liquidations_to_oi(
    per_venue: pd.DataFrame,
    open_interest: pd.DataFrame,
    max_age: pd.Timedelta | str = "15min",
) -> pd.DataFrame:
    """Liquidated notional (long + short, USD) per bar over open interest at the bar's open.

    ``per_venue`` is :func:`liquidations_on_grid`; OI is taken as in
    :func:`helpers.metrics.liquidation_map.oi_on_grid`. One row per (ts, exchange) plus
    ``exchange == 'total'``, whose numerator and denominator are NaN unless every venue has
    both. ``ratio`` is a fraction, NaN where either is missing.
    Columns: ``ts``, ``exchange``, ``liquidations_usd``, ``oi_usd``, ``ratio``.
    """
    times = pd.DatetimeIndex(per_venue["ts"].unique())
    venues = sorted(per_venue["exchange"].unique())
    oi = oi_on_grid(open_interest, times, max_age, venues)
    rows = per_venue[["ts", "exchange", "total_usd"]].merge(oi, on=["ts", "exchange"], how="left")
    rows = rows.rename(columns={"total_usd": "liquidations_usd"})
    total = rows.groupby("ts")[["liquidations_usd", "oi_usd"]].sum(skipna=False).reset_index()
    total["exchange"] = TOTAL
    out = pd.concat([rows, total], ignore_index=True)
    out = out.assign(
        exchange=out["exchange"].astype("string"),
        ratio=out["liquidations_usd"] / out["oi_usd"],
    )
    return out.sort_values(["ts", "exchange"], ignore_index=True)
