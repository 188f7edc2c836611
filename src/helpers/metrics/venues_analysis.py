"""Notebook 02, venue breakdown: per-venue totals over the window and inside spike bars,
hourly per venue and data coverage, in one call, and the key figures it reports.

Conventions (missing is None, never 0; money in US dollars; shares as fractions, reported in
percent points in key figures): :mod:`helpers.metrics.figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics import venues
from helpers.metrics.figures import num_or_none, pct_or_none
from helpers.present import KeyFigure


@dataclass(frozen=True)
class VenueResult:
    """Per-venue totals over the window and inside spike bars, hourly per venue, coverage."""

    totals: pd.DataFrame
    spike_totals: pd.DataFrame
    hourly: pd.DataFrame
    gap_mask: pd.DataFrame
    coverage: pd.DataFrame
    spike_bars: int


def venue_analysis(ds: Dataset, spikes: pd.DataFrame) -> VenueResult:
    """The venue notebook's tables; ``spikes`` is :attr:`ImbalanceResult.spikes`."""
    bars, gaps, window = ds.bars(), ds.gaps(), ds.window
    return VenueResult(
        totals=venues.venue_totals(bars, window),
        spike_totals=venues.venue_totals(bars, window, at=spikes.index),
        hourly=venues.venue_hourly(bars, window),
        gap_mask=venues.venue_gap_mask(gaps, window),
        coverage=venues.venue_coverage(bars, gaps, window),
        spike_bars=len(spikes),
    )


def top_venue(totals: pd.DataFrame, column: str) -> tuple[str | None, float | None]:
    col = totals[column].dropna()
    if col.empty or col.max() <= 0:
        return None, None
    return str(col.idxmax()), float(col.max())


def venue_figures(r: VenueResult) -> list[KeyFigure]:
    figs: list[KeyFigure] = []
    top_name, top_usd = top_venue(r.totals, "long_usd")
    share = None if top_name is None else cast(float, r.totals.loc[top_name, "long_share"])
    top_share = pct_or_none(share)
    figs += [
        KeyFigure("top_long_venue", top_name, "", "Venue with the most longs liquidated", "info"),
        KeyFigure("top_long_venue_usd", top_usd, "USD", "Its longs liquidated", "realised"),
        KeyFigure("top_long_venue_share_pct", top_share, "%", "Its share of all longs", "realised"),
    ]
    for venue in r.totals.index:
        figs.append(
            KeyFigure(
                f"long_usd_{venue}",
                num_or_none(r.totals.loc[venue, "long_usd"]),
                "USD",
                f"Longs liquidated on {venue}",
                "realised",
            )
        )
    spike_short = r.spike_totals["short_usd"].sum(min_count=1) if r.spike_bars else math.nan
    spike_long = r.spike_totals["long_usd"].sum(min_count=1) if r.spike_bars else math.nan
    figs += [
        KeyFigure(
            "spike_long_usd",
            num_or_none(spike_long),
            "USD",
            "Longs liquidated inside spike bars, all venues",
            "realised",
        ),
        KeyFigure(
            "spike_short_usd",
            num_or_none(spike_short),
            "USD",
            "Shorts liquidated inside spike bars, all venues",
            "realised",
        ),
        KeyFigure(
            "venues_with_no_data_bars",
            int((r.coverage["no_data_bars"] > 0).sum()),
            "count",
            "Venues with bars of no data in the window",
            "info",
        ),
    ]
    return figs
