"""CoinGlass-style totals: longs and shorts liquidated over the last 1h, 4h, 12h and 24h of a
window, by venue and by coin.

Totals read hourly ``liquidation_bars`` (one source per contract and bar,
:func:`helpers.aggregate.load_bars`) and split them as :func:`helpers.metrics.worst_hour.side_split`
does: a venue is a FAMILY, a coin the bars' ``base``; a key with no row in a horizon is NaN
(missing), never 0, and ``observed_bars`` below ``bars`` marks a partial (lower-bound) sum.
The horizons END at the window's end: "last 4h" is ``[end - 4h, end)``. A horizon longer than
the window is not computed (it would reach before the window's start). Money is US dollars;
shares are fractions; sides are the liquidated POSITION.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from helpers.metrics.coverage import bars_in_window
from helpers.metrics.worst_hour import SplitBy, side_split
from helpers.timegrid import Window

HORIZONS: tuple[str, ...] = ("1h", "4h", "12h", "24h")
"""The horizons CoinGlass's liquidation page shows, as pandas offsets."""

TOTAL_COLUMNS = ("long_usd", "short_usd", "total_usd", "long_share", "observed_bars", "bars")
ALL = "all"
"""The key of the row summing every venue (or coin) with data."""


def horizons_in(window: Window, horizons: Sequence[str] = HORIZONS) -> list[str]:
    """The horizons that fit in the window and are whole numbers of its bars, in order."""
    length, step = window.end - window.start, window.step
    fit = []
    for h in horizons:
        span = pd.Timedelta(h)
        if span <= length and span >= step and span % step == pd.Timedelta(0):
            fit.append(h)
    return fit


def horizon_window(window: Window, horizon: str) -> Window:
    """The last ``horizon`` of ``window``: ``[end - horizon, end)``, same selection."""
    return replace(window, start=window.end - pd.Timedelta(horizon))


def horizon_totals(
    bars: pd.DataFrame,
    window: Window,
    by: SplitBy = "venue",
    horizons: Sequence[str] = HORIZONS,
) -> pd.DataFrame:
    """Long and short US dollars per venue (or coin) over each horizon ending at the window's
    end. Index (``horizon``, ``venue`` or ``coin``); each horizon lists every key of
    :func:`~helpers.metrics.worst_hour.side_split` then :data:`ALL` (the sum over keys with
    data, NaN when none has). Columns :data:`TOTAL_COLUMNS`: ``long_share`` = long / total;
    ``observed_bars`` of ``bars`` (for :data:`ALL`, bars in which any key had a row)."""
    frames = {}
    for h in horizons_in(window, horizons):
        frames[h] = _with_all_row(side_split(bars, horizon_window(window, h), by), bars, window, h)
    if not frames:
        index = pd.MultiIndex.from_arrays([[], []], names=["horizon", by])
        return pd.DataFrame(columns=list(TOTAL_COLUMNS), index=index)
    return pd.concat(frames, names=["horizon"])


def _with_all_row(
    split: pd.DataFrame, bars: pd.DataFrame, window: Window, horizon: str
) -> pd.DataFrame:
    keyed = split[list(TOTAL_COLUMNS)].copy()
    long_usd = keyed["long_usd"].sum(min_count=1)
    short_usd = keyed["short_usd"].sum(min_count=1)
    total = long_usd + short_usd
    w = horizon_window(window, horizon)
    seen = bars_in_window(bars, w)
    everything = pd.DataFrame(
        {
            "long_usd": [long_usd],
            "short_usd": [short_usd],
            "total_usd": [total],
            "long_share": [long_usd / total if total > 0 else float("nan")],
            "observed_bars": [int(seen["ts"].nunique())],
            "bars": [len(w.grid())],
        },
        index=pd.Index([ALL], name=keyed.index.name, dtype="string"),
    )
    return pd.concat([keyed, everything])
