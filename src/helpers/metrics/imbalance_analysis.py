"""Notebook 01, liquidation imbalance: the per-bar long/short table, running totals, worst
bar and spikes, in one call, and the key figures it reports.

Conventions (missing is None, never 0; money in US dollars; shares as fractions, reported in
percent points in key figures): :mod:`helpers.metrics.figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics import imbalance
from helpers.metrics.figures import num_or_none, pct_or_none
from helpers.metrics.parameters import SpikeParameters
from helpers.present import KeyFigure

_D = SpikeParameters()
"""Defaults of this analysis's knobs (helpers.metrics.parameters)."""


@dataclass(frozen=True)
class ImbalanceResult:
    """Per-bar long/short table, running totals, window totals, worst bar and spike bars."""

    table: pd.DataFrame
    cumulative: pd.DataFrame
    totals: imbalance.WindowTotals
    worst: imbalance.WorstBar | None
    headline: imbalance.Headline | None
    spikes: pd.DataFrame
    spike_k: float
    spike_window: int


def imbalance_analysis(
    ds: Dataset, spike_k: float = _D.spike_k, spike_window: int = _D.spike_window
) -> ImbalanceResult:
    """The imbalance notebook's tables. Spike tests use ``spike_window`` bars of history
    before ``start`` too, so the first bars of the window can be tested."""
    window = ds.window
    table = imbalance.imbalance_table(ds.bars(), window)
    history = ds.extended(spike_window)
    long_table = imbalance.imbalance_table(history.bars(), window.extended(spike_window))
    spikes = imbalance.spike_bars(long_table, k=spike_k, window=spike_window)
    spikes = spikes[spikes.index >= ds.start]
    return ImbalanceResult(
        table=table,
        cumulative=imbalance.cumulative_sides(table),
        totals=imbalance.window_totals(table),
        worst=imbalance.worst_bar(table),
        headline=imbalance.headline(table, window),
        spikes=spikes,
        spike_k=spike_k,
        spike_window=spike_window,
    )


def imbalance_figures(r: ImbalanceResult) -> list[KeyFigure]:
    w, t = r.worst, r.totals
    ratio = None if w is None else (w.ratio if math.isfinite(w.ratio) else math.inf)
    return [
        KeyFigure(
            "worst_bar_ts",
            None if w is None else w.ts.isoformat(),
            "UTC",
            "Worst bar (most long USD liquidated), open time",
            "info",
        ),
        KeyFigure(
            "worst_bar_long_usd",
            None if w is None else w.long_usd,
            "USD",
            "Longs liquidated in the worst bar",
            "realised",
        ),
        KeyFigure(
            "worst_bar_short_usd",
            None if w is None else w.short_usd,
            "USD",
            "Shorts liquidated in the worst bar",
            "realised",
        ),
        KeyFigure(
            "worst_bar_long_short_ratio",
            ratio,
            "ratio",
            "Long / short in the worst bar (inf: no shorts)",
            "realised",
        ),
        KeyFigure(
            "window_long_usd",
            num_or_none(t.long_usd),
            "USD",
            "Longs liquidated over the window",
            "realised",
        ),
        KeyFigure(
            "window_short_usd",
            num_or_none(t.short_usd),
            "USD",
            "Shorts liquidated over the window",
            "realised",
        ),
        KeyFigure(
            "window_long_dominance_pct",
            pct_or_none(t.long_share),
            "%",
            "Long dominance L/(L+S) over the window",
            "realised",
        ),
        KeyFigure(
            "spike_bars",
            len(r.spikes),
            "count",
            f"Spike bars (median + {r.spike_k:g} x MAD, trailing {r.spike_window} bars)",
            "realised",
        ),
        KeyFigure(
            "missing_bars", t.missing_bars, "count", "Bars with no data from any venue", "info"
        ),
        KeyFigure(
            "partial_bars", t.partial_bars, "count", "Bars with data from only some venues", "info"
        ),
    ]
