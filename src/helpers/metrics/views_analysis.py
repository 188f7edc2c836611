"""The article's views a CoinGlass user expects, in one call each for the notebooks: the worst
bar and the spikes split by venue, the split by coin, the 1h/4h/12h/24h totals with the
largest single liquidations, and the time x price heatmap of realised liquidations.

A venue is a FAMILY (:mod:`helpers.metrics.families`); missing is NaN (shown as missing),
never 0; money is US dollars; sides are the liquidated POSITION. These views add no key
figure: the figures of notebooks 01 and 02 stay those of
:mod:`~helpers.metrics.imbalance_analysis` and :mod:`~helpers.metrics.venues_analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from helpers import event_queries
from helpers.aggregate import aggregate_store, load_bars
from helpers.dataset import Dataset
from helpers.metrics import price_heatmap as ph
from helpers.metrics import totals as tot
from helpers.metrics import worst_hour as wh
from helpers.metrics.families import family_rows, family_window
from helpers.metrics.figures import rows_of_base
from helpers.metrics.imbalance_analysis import ImbalanceResult
from helpers.metrics.venues import venue_hourly
from helpers.precedence import source_name
from helpers.venues import family

TOP_EVENTS = 10
"""Largest single liquidations listed."""


@dataclass(frozen=True)
class WorstHourViews:
    """The worst bar (``worst_ts``, None when there is none) by venue, each spike bar by
    venue, and long / short US dollars per venue and bar for the stacked chart.

    ``by_venue``: :func:`~helpers.metrics.worst_hour.side_split` of the worst bar (empty
    when there is none); ``spikes``: :func:`~helpers.metrics.worst_hour.spikes_by_venue`;
    ``long_hourly`` / ``short_hourly``: :func:`helpers.metrics.venues.venue_hourly` of the
    family bars (NaN: venue not observed); ``table``: the imbalance table (missing and
    partial bars, for shading)."""

    worst_ts: pd.Timestamp | None
    by_venue: pd.DataFrame
    spikes: pd.DataFrame
    long_hourly: pd.DataFrame
    short_hourly: pd.DataFrame
    table: pd.DataFrame


def worst_hour_views(ds: Dataset, imb: ImbalanceResult) -> WorstHourViews:
    """The venue views of the worst bar and spikes of ``imb`` (:func:`imbalance_analysis`)."""
    bars, window = ds.bars(), ds.window
    worst = None if imb.worst is None else imb.worst.ts
    by_venue = wh.side_split(bars, window, "venue", [worst] if worst is not None else [])
    fam, fwin = family_rows(bars), family_window(window)
    return WorstHourViews(
        worst_ts=worst,
        by_venue=by_venue if worst is not None else by_venue.iloc[0:0],
        spikes=wh.spikes_by_venue(bars, window, imb.spikes.index),
        long_hourly=venue_hourly(fam, fwin, "long_usd"),
        short_hourly=venue_hourly(fam, fwin, "short_usd"),
        table=imb.table,
    )


@dataclass(frozen=True)
class CoinViews:
    """Long / short per coin over the window (``window``) and in the worst bar (``worst``,
    empty when there is none): :func:`~helpers.metrics.worst_hour.side_split` by coin."""

    window: pd.DataFrame
    worst: pd.DataFrame
    worst_ts: pd.Timestamp | None


def coin_views(ds: Dataset, imb: ImbalanceResult) -> CoinViews:
    """The split by coin of the window and of the worst bar of ``imb``."""
    bars, window = ds.bars(), ds.window
    worst = None if imb.worst is None else imb.worst.ts
    at = [worst] if worst is not None else []
    in_worst = wh.side_split(bars, window, "coin", at)
    return CoinViews(
        window=wh.side_split(bars, window, "coin"),
        worst=in_worst if worst is not None else in_worst.iloc[0:0],
        worst_ts=worst,
    )


@dataclass(frozen=True)
class TotalsViews:
    """1h/4h/12h/24h totals ending at ``end`` by venue and by coin
    (:func:`~helpers.metrics.totals.horizon_totals` of hourly bars), the ``largest`` single
    liquidations of the window (:func:`helpers.event_queries.largest_events`), the ccxt ids
    that recorded events (``event_exchanges``) and the families with bars but no events
    (``bar_only_venues``: their single liquidations are unknown)."""

    end: pd.Timestamp
    by_venue: pd.DataFrame
    by_coin: pd.DataFrame
    largest: pd.DataFrame
    event_exchanges: tuple[str, ...]
    bar_only_venues: tuple[str, ...]


def totals_views(ds: Dataset, top_n: int = TOP_EVENTS) -> TotalsViews:
    """The totals page of the window: hourly bars of its last 24 hours (or fewer when the
    window is shorter), one source per contract and bar."""
    hourly_window = replace(ds.window, interval="1h")
    fit = tot.horizons_in(hourly_window)
    longest = max((pd.Timedelta(h) for h in fit), default=pd.Timedelta(0))
    if fit:
        bars = load_bars(
            ds.store, ds.end - longest, ds.end, ds.exchanges, ds.symbols, "1h", ds.precedence
        )
    else:
        bars = ds.bars().iloc[0:0]
    venues = event_queries.event_venues(ds.store, ds.start, ds.end, ds.exchanges, ds.symbols)
    with_events = tuple(sorted(str(e) for e in venues["exchange"].unique()))
    barred = {family(str(e)) for e in ds.bars()["exchange"].dropna().unique()}
    return TotalsViews(
        end=ds.end,
        by_venue=tot.horizon_totals(bars, hourly_window, "venue", fit),
        by_coin=tot.horizon_totals(bars, hourly_window, "coin", fit),
        largest=event_queries.largest_events(
            ds.store, ds.start, ds.end, ds.exchanges, ds.symbols, top_n
        ),
        event_exchanges=with_events,
        bar_only_venues=tuple(sorted(barred - {family(e) for e in with_events})),
    )


@dataclass(frozen=True)
class CoinHeatmap:
    """One coin's time x price heatmap: ``status`` says whether it could be built
    (:func:`~helpers.metrics.price_heatmap.heatmap_status`); ``long_usd`` / ``short_usd``
    are :func:`~helpers.metrics.price_heatmap.heatmap_grid` (None without events);
    ``price`` the price path drawn over it."""

    status: ph.HeatmapStatus
    long_usd: pd.DataFrame | None
    short_usd: pd.DataFrame | None
    bin_width: float | None
    price: ph.PricePath

    @property
    def base(self) -> str:
        return self.status.base

    @property
    def built(self) -> bool:
        return self.long_usd is not None


def heatmap_coins(ds: Dataset) -> list[str]:
    """The coins of the window: every base with bars or events in it, sorted."""
    bars = ds.bars()
    venues = event_queries.event_venues(ds.store, ds.start, ds.end, ds.exchanges, ds.symbols)
    found = {str(b) for b in bars["base"].dropna()} | {str(b) for b in venues["base"]}
    return sorted(found)


def heatmap_views(ds: Dataset, target_bins: int = ph.TARGET_BINS) -> list[CoinHeatmap]:
    """One :class:`CoinHeatmap` per coin of :func:`heatmap_coins`."""
    venues = event_queries.event_venues(ds.store, ds.start, ds.end, ds.exchanges, ds.symbols)
    observed = aggregate_store(ds.store, ds.interval, ds.start, ds.end, ds.exchanges, ds.symbols)
    bars, ohlcv = ds.bars(), ds.ohlcv()
    return [
        _coin_heatmap(ds, base, venues, observed, bars, ohlcv, target_bins)
        for base in heatmap_coins(ds)
    ]


def _coin_heatmap(
    ds: Dataset,
    base: str,
    venues: pd.DataFrame,
    observed: pd.DataFrame,
    bars: pd.DataFrame,
    ohlcv: pd.DataFrame,
    target_bins: int,
) -> CoinHeatmap:
    window = ds.window
    mine = venues[venues["base"] == base]
    coin_bars = bars[bars["base"] == base]
    bar_sources = ", ".join(sorted({source_name(str(s)) for s in coin_bars["source"].dropna()}))
    status = ph.heatmap_status(base, mine["exchange"], coin_bars["exchange"], bar_sources)
    path = ph.price_path(ohlcv, base, window)
    if status.status != ph.EVENTS:
        return CoinHeatmap(status, None, None, None, path)
    close = path.close.dropna()
    low = min(float(mine["min_price"].min()), float(close.min()) if len(close) else float("inf"))
    high = max(float(mine["max_price"].max()), float(close.max()) if len(close) else 0.0)
    width = ph.nice_bin_width(low, high, target_bins)
    bin_range = (ph.bin_of(low, width), ph.bin_of(high, width))
    cells = event_queries.time_price_bins(
        ds.store, base, width, ds.start, ds.end, ds.exchanges, ds.symbols, ds.interval
    )
    seen = rows_of_base(observed, base)["ts"].unique()
    grids = {
        side: ph.heatmap_grid(cells, window, seen, width, bin_range, side)
        for side in ("long", "short")
    }
    return CoinHeatmap(status, grids["long"], grids["short"], width, path)
