"""Notebook 03, market-cap heatmap: the last snapshot's top coins and the lines quoted from
it, in one call, and the key figures it reports.

Conventions (missing is None, never 0; money in US dollars; shares as fractions, reported in
percent points in key figures): :mod:`helpers.metrics.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics import marketmap
from helpers.metrics.figures import num_or_none
from helpers.metrics.parameters import MarketMapParameters
from helpers.present import KeyFigure

_D = MarketMapParameters()
"""Defaults of this analysis's knobs (helpers.metrics.parameters)."""


@dataclass(frozen=True)
class MarketResult:
    """The top ``n`` coins of the last snapshot in the window and the lines a note quotes."""

    top: pd.DataFrame
    lines: marketmap.MarketLines
    sources: tuple[str, ...]


def market_analysis(ds: Dataset, top_n: int = _D.top_n) -> MarketResult:
    caps = ds.market_caps()
    snapshot = marketmap.latest_snapshot(caps, ds.end - pd.Timedelta(microseconds=1))
    top = marketmap.top_by_cap(snapshot, top_n)
    sources = tuple(sorted(top["source"].dropna().unique())) if len(top) else ()
    return MarketResult(top, marketmap.market_lines(top), sources)


def market_figures(r: MarketResult) -> list[KeyFigure]:
    ln = r.lines
    return [
        KeyFigure(
            "snapshot_ts",
            None if ln.ts is None else ln.ts.isoformat(),
            "UTC",
            "Market-cap snapshot time",
            "info",
        ),
        KeyFigure(
            "btc_market_cap_usd", num_or_none(ln.btc_cap_usd), "USD", "BTC market cap", "realised"
        ),
        KeyFigure(
            "eth_market_cap_usd", num_or_none(ln.eth_cap_usd), "USD", "ETH market cap", "realised"
        ),
        KeyFigure("top_n", ln.n, "count", "Coins in the map", "info"),
        KeyFigure(
            "red_count", ln.red if ln.n else None, "count", "Coins down over 24 h", "realised"
        ),
        KeyFigure(
            "green_count", ln.green if ln.n else None, "count", "Coins up over 24 h", "realised"
        ),
        KeyFigure(
            "cap_weighted_change_pct",
            num_or_none(ln.cap_weighted_change_pct),
            "%",
            "Cap-weighted 24 h change (coins with a known change)",
            "realised",
        ),
    ]
