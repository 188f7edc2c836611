"""Where in price and time liquidations were REALISED: a bar x price-bin grid of liquidated
US dollars per side, and the price path drawn over it.

The grid is built from single events (``liquidations``), the only data that carries the
price a position was liquidated at (:func:`helpers.event_queries.time_price_bins`). Bars
(``liquidation_bars``) are sums per bar with no price, so a coin known only from bars has
NO heatmap: :func:`heatmap_status` says so rather than place bar sums at invented prices.

Cells: ``bin_low`` is a price bin's lower edge (quote currency, read as US dollars), bins
``[bin_low, bin_low + bin_width)``; columns are the window's bar open times (UTC). A bar in
which no venue with events was observed (:func:`helpers.aggregate.aggregate_store`) is a
column of NaN (missing); an observed bar with no event in a bin is 0. Sides are the
liquidated POSITION.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.metrics.figures import rows_of_base
from helpers.timegrid import Window
from helpers.venues import display_name, market_name

TARGET_BINS = 40
"""About this many price bins span the heatmap's price range (:func:`nice_bin_width`)."""

EVENTS = "events"
BARS_ONLY = "bars_only"
NO_DATA = "no_data"


def nice_bin_width(low: float, high: float, target: int = TARGET_BINS) -> float:
    """A round bin width (1, 2, 2.5 or 5 x a power of ten) that cuts ``[low, high]`` into
    about ``target`` bins; a width of 1 % of ``high`` when the range is empty."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= 0 or target < 1:
        raise ValueError(f"need a finite positive price range, got {low!r}..{high!r}")
    span = high - low if high > low else high * 0.01 * target
    raw = span / target
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw * (1 - 1e-12))
    return step * power


def bin_of(price: float, bin_width: float, origin: float = 0.0) -> int:
    """The bin of ``price``: ``floor((price - origin) / bin_width)`` after rounding to 1e-9
    of a bin, as :func:`helpers.event_queries.time_price_bins` computes it."""
    return int(math.floor(round((price - origin) / bin_width, 9)))


def heatmap_grid(
    bins: pd.DataFrame,
    window: Window,
    observed: Iterable[pd.Timestamp],
    bin_width: float,
    bin_range: tuple[int, int],
    side: str,
    origin: float = 0.0,
) -> pd.DataFrame:
    """One side's grid from :func:`helpers.event_queries.time_price_bins` rows.

    Index ``bin_low`` (ascending, bins ``bin_range[0]`` to ``bin_range[1]`` inclusive),
    columns the window grid (``ts``); values: US dollars liquidated on ``side`` in that bar
    and bin; 0 in an ``observed`` bar without such events, NaN in a bar not observed.
    Events outside ``bin_range`` raise ``ValueError`` (the range must cover every event)."""
    lo, hi = bin_range
    grid = window.grid()
    rows = bins[(bins["side"] == side).fillna(False).astype(bool)]
    if len(rows) and (rows["bin"].min() < lo or rows["bin"].max() > hi):
        raise ValueError(f"events outside price bins {lo}..{hi}")
    wide = rows.pivot_table(index="bin", columns="ts", values="usd", aggfunc="sum")
    wide = wide.reindex(index=range(lo, hi + 1), columns=grid).fillna(0.0)
    seen = pd.DatetimeIndex(list(observed))
    wide.loc[:, ~grid.isin(seen)] = np.nan
    wide.index = pd.Index(origin + np.arange(lo, hi + 1) * bin_width, name="bin_low")
    wide.columns = pd.DatetimeIndex(grid, name="ts")
    return wide.astype("float64")


@dataclass(frozen=True)
class PricePath:
    """The close of one market per bar on the window grid (NaN: no bar), and which market."""

    close: pd.Series
    exchange: str | None
    symbol: str | None

    @property
    def label(self) -> str:
        """``Binance USD-M BTC/USDT:USDT close``; "no price data" when there is none."""
        if self.exchange is None:
            return "no price data"
        return f"{market_name(self.exchange)} {self.symbol} close"


def price_path(ohlcv: pd.DataFrame, base: str, window: Window) -> PricePath:
    """The close of coin ``base`` per bar of the window, from the ``ohlcv`` market of that
    coin with the most bars of the window's interval (ties: first by exchange, symbol).
    Missing bars are NaN; no such market gives an all-NaN series and no market."""
    grid = window.grid()
    rows = rows_of_base(
        ohlcv[(ohlcv["interval"] == window.interval).fillna(False).astype(bool)], base
    )
    rows = rows[(rows["ts"] >= window.start) & (rows["ts"] < window.end)]
    if rows.empty:
        return PricePath(pd.Series(np.nan, index=grid, name="close"), None, None)
    counts = rows.groupby(["exchange", "symbol"], observed=True).size().rename("n").reset_index()
    top = counts[counts["n"] == counts["n"].max()].sort_values(["exchange", "symbol"]).iloc[0]
    exchange, symbol = str(top["exchange"]), str(top["symbol"])
    mine = rows[(rows["exchange"] == exchange) & (rows["symbol"] == symbol)]
    close = mine.drop_duplicates("ts").set_index("ts")["close"].astype("float64")
    close = close.reindex(grid)
    close.name = "close"
    return PricePath(close, exchange, symbol)


@dataclass(frozen=True)
class HeatmapStatus:
    """What a coin's heatmap can show: ``status`` is :data:`EVENTS` (built from the events of
    ``event_venues``), :data:`BARS_ONLY` (bars exist, no event: no heatmap) or
    :data:`NO_DATA`; ``bar_only_venues`` are families with bars of the coin but no events
    (left out of the heatmap); ``note`` says it in a sentence."""

    base: str
    status: str
    event_venues: tuple[str, ...]
    bar_only_venues: tuple[str, ...]
    note: str


def heatmap_status(
    base: str, event_exchanges: Iterable[str], bar_exchanges: Iterable[str], bar_sources: str = ""
) -> HeatmapStatus:
    """Whether a heatmap of ``base`` can be built: from the ccxt ids with events of the coin
    in the window and those with bars of it (``bar_sources``: the bars' source names, for the
    sentence)."""
    events = tuple(sorted({str(e) for e in event_exchanges}))
    event_families = {display_name(e) for e in events}
    bar_families = sorted({display_name(str(e)) for e in bar_exchanges} - event_families)
    only = tuple(bar_families)
    if events:
        where = ", ".join(dict.fromkeys(market_name(e) for e in events))
        note = f"{base}: realised liquidation events recorded on {where}."
        if only:
            note += (
                f" {', '.join(only)} have only bars (sums per bar, no prices) and are not in "
                "the heatmap."
            )
        return HeatmapStatus(base, EVENTS, events, only, note)
    if only:
        via = f" from {bar_sources}" if bar_sources else ""
        note = (
            f"{base}: only liquidation bars{via} exist in this window ({', '.join(only)}); "
            "bars are sums per bar with no price, so no time x price heatmap can be built."
        )
        return HeatmapStatus(base, BARS_ONLY, (), only, note)
    return HeatmapStatus(base, NO_DATA, (), (), f"{base}: no liquidation data in this window.")
