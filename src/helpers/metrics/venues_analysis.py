"""Notebook 02, venue breakdown: per-venue totals over the window and inside spike bars,
hourly per venue and data coverage, in one call, and the key figures it reports.

A venue is a FAMILY (:mod:`helpers.metrics.families`): Binance's row sums its USD-M and
COIN-M contracts. Tables are indexed by family id (``binance``); pages name them with
:func:`helpers.venues.display_name`. Key figures: ``long_usd_<family>`` per family and, for
a distinct part of a family (:func:`helpers.venues.is_family_part`), ``long_usd_<ccxt id>``
as well (``long_usd_binanceusdm``, "Longs liquidated on Binance USD-M"); names and labels
shown to readers are display names, keys stay ids.

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
from helpers.metrics.families import family_rows, family_window
from helpers.metrics.figures import num_or_none, pct_or_none
from helpers.present import KeyFigure
from helpers.units import fmt_usd
from helpers.venues import display_name, family, is_family_part, market_name


@dataclass(frozen=True)
class VenueResult:
    """Per-venue (family) totals over the window and inside spike bars, hourly per venue,
    coverage; ``part_totals``: the same totals per ccxt exchange id, for the parts of a
    family (USD-M, COIN-M) a page names beside it."""

    totals: pd.DataFrame
    spike_totals: pd.DataFrame
    hourly: pd.DataFrame
    gap_mask: pd.DataFrame
    coverage: pd.DataFrame
    spike_bars: int
    part_totals: pd.DataFrame


def venue_analysis(ds: Dataset, spikes: pd.DataFrame) -> VenueResult:
    """The venue notebook's tables, by venue family; ``spikes`` is
    :attr:`ImbalanceResult.spikes`."""
    bars, gaps, window = family_rows(ds.bars()), family_rows(ds.gaps()), family_window(ds.window)
    return VenueResult(
        totals=venues.venue_totals(bars, window),
        spike_totals=venues.venue_totals(bars, window, at=spikes.index),
        hourly=venues.venue_hourly(bars, window),
        gap_mask=venues.venue_gap_mask(gaps, window),
        coverage=venues.venue_coverage(bars, gaps, window),
        spike_bars=len(spikes),
        part_totals=venues.venue_totals(ds.bars(), ds.window),
    )


def top_venue(totals: pd.DataFrame, column: str) -> tuple[str | None, float | None]:
    """The id (index value) of the venue with the largest positive ``column`` and that
    value; (None, None) when no venue has one."""
    col = totals[column].dropna()
    if col.empty or col.max() <= 0:
        return None, None
    return str(col.idxmax()), float(col.max())


def longs_by_venue_text(r: VenueResult) -> str:
    """``Binance $1.3M, Hyperliquid $240.0k``: each venue's longs, largest first, by display
    name; empty when no venue has data."""
    longs = r.totals["long_usd"].dropna().sort_values(ascending=False)
    return ", ".join(f"{display_name(str(v))} {fmt_usd(x)}" for v, x in longs.items())


def venue_figures(r: VenueResult) -> list[KeyFigure]:
    figs: list[KeyFigure] = []
    top_name, top_usd = top_venue(r.totals, "long_usd")
    share = None if top_name is None else cast(float, r.totals.loc[top_name, "long_share"])
    top_share = pct_or_none(share)
    shown_name = None if top_name is None else display_name(top_name)
    figs += [
        KeyFigure("top_long_venue", shown_name, "", "Venue with the most longs liquidated", "info"),
        KeyFigure("top_long_venue_usd", top_usd, "USD", "Its longs liquidated", "realised"),
        KeyFigure("top_long_venue_share_pct", top_share, "%", "Its share of all longs", "realised"),
    ]
    parts = [str(p) for p in r.part_totals.index if is_family_part(str(p))]
    for venue in r.totals.index:
        figs.append(_longs_figure(str(venue), r.totals, display_name(str(venue))))
        for part in (p for p in parts if family(p) == venue):
            figs.append(_longs_figure(part, r.part_totals, market_name(part)))
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


def _longs_figure(venue: str, totals: pd.DataFrame, name: str) -> KeyFigure:
    return KeyFigure(
        f"long_usd_{venue}",
        num_or_none(cast(float, totals.loc[venue, "long_usd"])),
        "USD",
        f"Longs liquidated on {name}",
        "realised",
    )
