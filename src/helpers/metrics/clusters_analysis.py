"""Notebook 04, clusters and support: REALISED liquidations by price, support zones, and the
ESTIMATED open liquidation map, in one call, and the key figures it reports.

Conventions (missing is None, never 0; money in US dollars; shares as fractions, reported in
percent points in key figures): :mod:`helpers.metrics.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics.figures import num_or_none, rows_of_base
from helpers.metrics.parameters import ClusterParameters
from helpers.present import KeyFigure
from helpers.venues import market_name

if TYPE_CHECKING:
    from helpers.metrics.liquidation_map import Exposure

_D = ClusterParameters()
"""Defaults of this analysis's knobs (helpers.metrics.parameters)."""


@dataclass(frozen=True)
class ClusterResult:
    """REALISED clusters by price beside the price path, supports, and the ESTIMATED map."""

    base: str
    reference: str | None
    grid: pd.DataFrame
    by_price: pd.DataFrame
    lows: pd.DataFrame
    supports: pd.DataFrame
    last_price: float | None
    clusters: pd.DataFrame
    oi_usd: float | None
    levels: pd.DataFrame | None
    estimated_map: pd.DataFrame | None
    exposure: Exposure | None
    model: str
    break_depth: float

    @property
    def reference_name(self) -> str | None:
        """The price path's venue as a page names it (``binanceusdm`` -> "Binance USD-M");
        ``reference`` keeps the ccxt id."""
        return None if self.reference is None else market_name(self.reference)


def cluster_analysis(
    ds: Dataset,
    base: str = _D.base,
    bin_width: float = _D.bin_width,
    swing_window: int = _D.swing_window,
    zone_tolerance: float = _D.zone_tolerance,
    leverage_weights: dict[float, float] | None = None,
    long_share: float | None = _D.long_share,
    mmr: float = _D.mmr,
    lookback: str = _D.lookback,
    break_depth: float = _D.break_depth,
) -> ClusterResult:
    """Clusters for one base asset; the estimated map is built at the window's end.

    ``long_share`` (fraction of open interest held long) None takes the long share of the
    window's realised ``base`` liquidations (all venues,
    :func:`helpers.metrics.liquidation_map.resolve_long_share`); the model sentence says
    which it used."""
    from helpers.metrics import clusters, liquidation_map

    weights = leverage_weights or _D.leverage_weights
    ohlcv = rows_of_base(ds.ohlcv(), base)
    by_price = clusters.realised_by_price(ds.price_bins(base, bin_width), bin_width)
    if ohlcv.empty:
        empty = pd.DataFrame()
        return ClusterResult(
            base,
            None,
            empty,
            by_price,
            empty,
            empty,
            None,
            empty,
            None,
            None,
            None,
            None,
            "no price data in the window",
            break_depth,
        )
    window = ds.window
    ref = clusters.reference_bars(ohlcv, window)
    reference = str(ref["exchange"].iloc[0])
    grid = clusters.price_grid(ref, window)
    closes = grid["close"].dropna()
    last_price = float(closes.iloc[-1]) if len(closes) else None
    lows = clusters.swing_lows(grid, swing_window)
    supports = clusters.support_zones(lows, zone_tolerance)
    top = (
        clusters.largest_clusters(by_price, last_price, supports)
        if last_price is not None and len(by_price)
        else pd.DataFrame()
    )
    oi = rows_of_base(ds.open_interest(), base)
    at = ds.end
    oi_usd = num_or_none(liquidation_map.total_open_interest_at(oi, at - pd.Timedelta(hours=1)))
    levels = est_map = exposure = None
    model = "no open interest at the window end: no estimated map"
    if oi_usd is not None and last_price is not None:
        observed = liquidation_map.observed_long_share(rows_of_base(ds.bars(), base))
        share = liquidation_map.resolve_long_share(long_share, observed)
        levels = liquidation_map.open_liquidation_levels(
            oi_usd, grid, at, weights, lookback=lookback, long_share=share, mmr=mmr
        )
        est_map = liquidation_map.estimated_liquidation_map(levels, bin_width, last_price)
        model = liquidation_map.describe_model(
            oi_usd, at, weights, lookback=lookback, long_share=share, mmr=mmr
        )
        level = float(supports["level"].iloc[-1]) if len(supports) else last_price
        below = supports[supports["level"] < last_price] if len(supports) else supports
        if len(below):
            level = float(below["level"].max())
        exposure = liquidation_map.exposed_notional(levels, level, break_depth, "long")
    return ClusterResult(
        base,
        reference,
        grid,
        by_price,
        lows,
        supports,
        last_price,
        top,
        oi_usd,
        levels,
        est_map,
        exposure,
        model,
        break_depth,
    )


def cluster_figures(r: ClusterResult) -> list[KeyFigure]:
    total_long = float(r.by_price["long_usd"].sum()) if len(r.by_price) else None
    biggest = r.clusters.iloc[0] if len(r.clusters) else None
    ex = r.exposure
    return [
        KeyFigure("base", r.base, "", "Asset analysed", "info"),
        KeyFigure(
            "last_price", r.last_price, "price", f"Last price ({r.reference_name})", "realised"
        ),
        KeyFigure(
            "realised_long_usd",
            total_long,
            "USD",
            f"{r.base} longs liquidated in the window (binned by price)",
            "realised",
        ),
        KeyFigure(
            "largest_cluster_price",
            None if biggest is None else float(biggest["bin_mid"]),
            "price",
            "Largest realised cluster, bin mid price",
            "realised",
        ),
        KeyFigure(
            "largest_cluster_usd",
            None if biggest is None else float(biggest["notional_usd"]),
            "USD",
            "Largest realised cluster, notional",
            "realised",
        ),
        KeyFigure(
            "supports_found",
            int(len(r.supports)),
            "count",
            "Support zones (merged confirmed swing lows)",
            "realised",
        ),
        KeyFigure(
            "nearest_support_below",
            None if ex is None else float(ex.level),
            "price",
            "Nearest support below the last price",
            "realised",
        ),
        KeyFigure(
            "open_interest_usd",
            r.oi_usd,
            "USD",
            f"{r.base} open interest at the window end",
            "realised",
        ),
        KeyFigure(
            "exposed_long_usd_below_support",
            None if ex is None else float(ex.notional_usd),
            "USD",
            "ESTIMATED long notional liquidated if price breaks the support by "
            f"{r.break_depth * 100:g}%",
            "estimated",
        ),
    ]
