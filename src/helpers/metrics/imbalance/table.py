"""The per-bar long/short table on the window grid, its running totals, window totals and
the worst bar (conventions: :mod:`helpers.metrics.imbalance`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from helpers.metrics.coverage import (
    bars_in_window,
    expected_pairs,
    expected_venues,
    pairs_observed,
)
from helpers.metrics.families import family_rows
from helpers.timegrid import Window
from helpers.venues import family

__all__ = [
    "WindowTotals",
    "WorstBar",
    "bars_in_window",
    "cumulative_sides",
    "expected_pairs",
    "expected_venues",
    "imbalance_table",
    "window_totals",
    "worst_bar",
]


# ---- the per-bar table --------------------------------------------------------------------
def imbalance_table(bars: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Long vs short liquidations per bar, summed over venues and symbols, on the window grid.

    Indexed by bar open time ``ts`` (UTC), one row per grid bar. Columns:

    * ``long_usd``, ``short_usd``, ``total_usd`` (= long + short): US dollars, NaN when no
      venue reported in the bar.
    * ``net_usd``: long - short (positive: more longs than shorts were liquidated).
    * ``long_dominance``: long / (long + short), a fraction; NaN when long + short == 0 or the
      bar is missing.
    * ``venues_reporting``: venues with at least one row in the bar; ``venues_expected``: the
      window's ``exchanges`` (or every venue with a row of its interval anywhere in
      ``bars`` when None, so a venue silent for the whole window still counts). A venue is
      a family (:mod:`helpers.metrics.families`): Binance USD-M and COIN-M count once.
    * ``pairs_reporting``: (venue, symbol) pairs observed in the bar, a family aggregate
      standing in for its family's contracts (:func:`helpers.metrics.coverage.pairs_observed`);
      ``pairs_expected``: :func:`helpers.metrics.coverage.expected_pairs` of the window's
      selection; ``pairs_share``: reporting / expected (NaN when nothing is expected).
    * ``missing`` (no venue reported), ``partial`` (something reported, but not every
      expected pair: a venue that reported ETH and not BTC makes the bar partial).
    """
    grid = window.grid()
    rows = bars_in_window(bars, window)
    expected = len({family(v) for v in expected_venues(bars, window.exchanges, window.interval)})
    pairs = expected_pairs(bars, window.exchanges, window.symbols, window.interval)
    pairs_reporting = pairs_observed(bars, window, pairs).sum(axis=1).astype("int64")
    by_ts = (
        family_rows(rows)
        .groupby("ts", sort=True)
        .agg(
            long_usd=("long_usd", "sum"),
            short_usd=("short_usd", "sum"),
            venues_reporting=("exchange", "nunique"),
        )
    )
    out = by_ts.reindex(grid)
    out.index.name = "ts"
    out["long_usd"] = out["long_usd"].astype("float64")
    out["short_usd"] = out["short_usd"].astype("float64")
    out["venues_reporting"] = out["venues_reporting"].fillna(0).astype("int64")
    missing = out["venues_reporting"] == 0
    out.loc[missing, ["long_usd", "short_usd"]] = np.nan
    out["total_usd"] = out["long_usd"] + out["short_usd"]
    out["net_usd"] = out["long_usd"] - out["short_usd"]
    out["long_dominance"] = out["long_usd"] / out["total_usd"].where(out["total_usd"] > 0)
    out["venues_expected"] = expected
    out["pairs_reporting"] = pairs_reporting.to_numpy()
    out["pairs_expected"] = len(pairs)
    out["pairs_share"] = out["pairs_reporting"] / len(pairs) if pairs else np.nan
    out["missing"] = missing
    out["partial"] = (~missing) & (out["pairs_reporting"] < len(pairs))
    return out[
        [
            "long_usd",
            "short_usd",
            "total_usd",
            "net_usd",
            "long_dominance",
            "venues_reporting",
            "venues_expected",
            "pairs_reporting",
            "pairs_expected",
            "pairs_share",
            "missing",
            "partial",
        ]
    ]


def cumulative_sides(table: pd.DataFrame) -> pd.DataFrame:
    """Running totals of long and short US dollars over the window, from :func:`imbalance_table`.

    Missing bars add nothing: the running total is carried through them unchanged, and the
    ``missing`` column (copied from ``table``) says which bars they were. Before the first
    observed bar the running totals are NaN (nothing is known yet), not zero.
    """
    observed = ~table["missing"]
    seen = observed.cumsum() > 0
    out = pd.DataFrame(index=table.index)
    for side in ("long", "short"):
        running = table[f"{side}_usd"].fillna(0.0).cumsum()
        out[f"cum_{side}_usd"] = running.where(seen)
    out["missing"] = table["missing"]
    return out


# ---- window totals and the worst bar ------------------------------------------------------
@dataclass(frozen=True)
class WindowTotals:
    """Long and short US dollars over the observed bars of a window, with its coverage."""

    long_usd: float
    short_usd: float
    bars: int
    observed_bars: int
    partial_bars: int
    missing_bars: int
    venues_expected: int
    pairs_expected: int = 0

    @property
    def total_usd(self) -> float:
        return self.long_usd + self.short_usd

    @property
    def long_share(self) -> float:
        """long / (long + short) over the window, a fraction; NaN when nothing was liquidated."""
        return self.long_usd / self.total_usd if self.total_usd > 0 else math.nan


def window_totals(table: pd.DataFrame) -> WindowTotals:
    """Sums over the observed bars of an :func:`imbalance_table`; NaN sums if none was observed."""
    observed = ~table["missing"]
    any_seen = bool(observed.any())
    return WindowTotals(
        long_usd=float(table["long_usd"].sum()) if any_seen else math.nan,
        short_usd=float(table["short_usd"].sum()) if any_seen else math.nan,
        bars=len(table),
        observed_bars=int(observed.sum()),
        partial_bars=int(table["partial"].sum()),
        missing_bars=int(table["missing"].sum()),
        venues_expected=int(table["venues_expected"].iloc[0]) if len(table) else 0,
        pairs_expected=int(table["pairs_expected"].iloc[0]) if len(table) else 0,
    )


@dataclass(frozen=True)
class WorstBar:
    """The bar with the most long US dollars liquidated.

    ``ratio`` is long / short; it is ``math.inf`` when no shorts were liquidated in that bar.
    ``partial``: not every expected (venue, symbol) pair reported in it
    (:func:`imbalance_table`).
    """

    ts: pd.Timestamp
    long_usd: float
    short_usd: float
    ratio: float
    venues_reporting: int
    venues_expected: int
    pairs_reporting: int = 0
    pairs_expected: int = 0
    partial: bool = False


def worst_bar(table: pd.DataFrame) -> WorstBar | None:
    """The observed bar with the largest ``long_usd`` (the earliest on ties).

    None when no bar was observed or no long was liquidated in the window (there is no worst
    bar to speak of). ``ratio`` = long / short, ``math.inf`` when short is 0.
    """
    longs = table["long_usd"].dropna()
    if longs.empty or longs.max() <= 0:
        return None
    ts = cast(pd.Timestamp, longs.idxmax())  # an imbalance table is indexed by ts
    row = cast(pd.Series, table.loc[ts])  # one row: the ts index is unique
    long_usd, short_usd = float(row["long_usd"]), float(row["short_usd"])
    return WorstBar(
        ts=ts,
        long_usd=long_usd,
        short_usd=short_usd,
        ratio=long_usd / short_usd if short_usd > 0 else math.inf,
        venues_reporting=int(row["venues_reporting"]),
        venues_expected=int(row["venues_expected"]),
        pairs_reporting=int(row["pairs_reporting"]),
        pairs_expected=int(row["pairs_expected"]),
        partial=bool(row["partial"]),
    )
