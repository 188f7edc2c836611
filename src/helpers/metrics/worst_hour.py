"""The worst bar and the spike bars split by venue, and any set of bars split by coin.

Input is the canonical ``liquidation_bars`` table as :func:`helpers.aggregate.load_bars`
returns it (one source per contract and bar; every row keeps its ``source``). A venue is a
FAMILY (:mod:`helpers.metrics.families`): Binance's USD-M and COIN-M rows are one Binance
row. A coin is the bars' ``base``. A venue (or coin) with no row in the bars asked about was
NOT OBSERVED there: its sums are NaN (shown as missing), never 0; one observed with no
liquidations has 0. Sides are the liquidated POSITION; money is in US dollars; shares are
fractions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from helpers.metrics.coverage import bars_in_window, expected_venues
from helpers.metrics.families import family_rows, family_window
from helpers.timegrid import Window, require_utc
from helpers.units import fmt_usd
from helpers.venues import display_name

SplitBy = Literal["venue", "coin"]
SPLIT_COLUMNS = (
    "long_usd",
    "short_usd",
    "total_usd",
    "long_share",
    "share_of_longs",
    "source",
    "observed_bars",
    "bars",
)


def on_grid(at: Iterable[pd.Timestamp], window: Window) -> pd.DatetimeIndex:
    """``at`` as sorted unique bar open times of the window grid; a ``ValueError`` naming
    the first time that is not a bar of the grid."""
    grid = window.grid()
    idx = pd.DatetimeIndex([require_utc(t, "bar time") for t in at]).as_unit("us")
    outside = idx[~idx.isin(grid)]
    if len(outside):
        raise ValueError(f"bar time {outside[0]} is not a bar of the window grid")
    return idx.unique().sort_values()


def _keyed_rows(bars: pd.DataFrame, window: Window, by: SplitBy) -> tuple[pd.DataFrame, list[str]]:
    """The window's rows with a ``key`` column (family id or base coin), and the keys a
    split lists: the window's venues (every venue with bars of its interval when None), or
    every coin with bars of the interval."""
    if by not in ("venue", "coin"):
        raise ValueError(f"split by 'venue' or 'coin', got {by!r}")
    fam, fwin = family_rows(bars), family_window(window)
    rows = bars_in_window(fam, fwin)
    if window.symbols is not None:
        rows = rows[rows["symbol"].isin(list(window.symbols))]
    if by == "venue":
        keys = expected_venues(fam, fwin.exchanges, window.interval)
        return rows.assign(key=rows["exchange"].astype("string")), keys
    of_interval = fam[(fam["interval"] == window.interval).fillna(False).astype(bool)]
    keys = sorted(str(b) for b in of_interval["base"].dropna().unique())
    return rows.assign(key=rows["base"].astype("string")), keys


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) for v in values.dropna()}))


def side_split(
    bars: pd.DataFrame,
    window: Window,
    by: SplitBy = "venue",
    at: Iterable[pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Long and short US dollars per venue (``by="venue"``) or per coin (``by="coin"``)
    over the window's bars, or only over the bars ``at`` (bar open times on the grid).

    Index ``venue`` (family id) or ``coin`` (base), every venue or coin the window lists
    (:func:`_keyed_rows`), sorted. Columns:

    * ``long_usd``, ``short_usd``, ``total_usd``: sums over the key's rows in those bars;
      NaN when the key has no row in any of them (not observed), 0 when observed with none.
    * ``long_share``: long / total of the key (NaN when its total is 0 or missing).
    * ``share_of_longs``: the key's fraction of the longs of every key with data.
    * ``source``: the ``source`` values of its rows, ``", "``-joined ("" when none).
    * ``observed_bars``: bars in which the key has a row; ``bars``: bars asked about.
    """
    rows, keys = _keyed_rows(bars, window, by)
    selected = window.grid() if at is None else on_grid(at, window)
    rows = rows[rows["ts"].isin(selected)]
    grouped = rows.groupby("key", observed=True)
    out = pd.DataFrame(
        {
            "long_usd": grouped["long_usd"].sum(),
            "short_usd": grouped["short_usd"].sum(),
            "source": grouped["source"].agg(_joined),
            "observed_bars": grouped["ts"].nunique(),
        }
    ).reindex(pd.Index(keys, dtype="string"))
    out["long_usd"] = out["long_usd"].astype("float64")
    out["short_usd"] = out["short_usd"].astype("float64")
    out["total_usd"] = out["long_usd"] + out["short_usd"]
    out["long_share"] = out["long_usd"] / out["total_usd"].where(out["total_usd"] > 0)
    longs = out["long_usd"].sum(min_count=1)
    out["share_of_longs"] = out["long_usd"] / longs if longs > 0 else np.nan
    out["source"] = out["source"].fillna("").astype("string")
    out["observed_bars"] = out["observed_bars"].fillna(0).astype("int64")
    out["bars"] = len(selected)
    out.index.name = by
    return out[list(SPLIT_COLUMNS)]


def spikes_by_venue(
    bars: pd.DataFrame, window: Window, spike_times: Iterable[pd.Timestamp]
) -> pd.DataFrame:
    """Spike bar x venue: one row per spike bar (index ``ts``, sorted), columns (``venue``
    id, ``side`` = ``long_usd`` / ``short_usd``) for every venue of the window, each cell
    the venue's US dollars in that bar (summed over its symbols); NaN where the venue has no
    row in that bar (missing, never 0)."""
    rows, venues = _keyed_rows(bars, window, "venue")
    times = pd.DatetimeIndex(on_grid(spike_times, window), name="ts")
    rows = rows[rows["ts"].isin(times)]
    columns = pd.MultiIndex.from_tuples(
        [(v, side) for v in venues for side in ("long_usd", "short_usd")], names=["venue", "side"]
    )
    out = pd.DataFrame(np.nan, index=times, columns=columns, dtype="float64")
    sums = rows.groupby(["ts", "key"], observed=True)[["long_usd", "short_usd"]].sum()
    for side in ("long_usd", "short_usd"):
        wide = sums[side].unstack("key").reindex(index=times, columns=venues)
        for venue in venues:
            out[(venue, side)] = wide[venue].to_numpy(dtype="float64")
    return out


def ranked_longs_text(split: pd.DataFrame, names: Sequence[str] | None = None) -> str:
    """``Hyperliquid $59.3M, Binance $36.1M``: the longs of each venue (or coin) of a
    :func:`side_split` with data, largest first; a venue by its display name, a coin as
    is. ``names`` overrides the shown names (same order as the index)."""
    shown = list(names) if names is not None else _shown_names(split)
    longs = pd.Series(split["long_usd"].to_numpy(), index=shown).dropna()
    return ", ".join(f"{k} {fmt_usd(v)}" for k, v in longs.sort_values(ascending=False).items())


def _shown_names(split: pd.DataFrame) -> list[str]:
    if split.index.name == "venue":
        return [display_name(str(v)) for v in split.index]
    return [str(v) for v in split.index]


def split_sentence(split: pd.DataFrame, when: str) -> str:
    """One sentence for a :func:`side_split` of one bar: ``In the worst hour (...): longs
    Hyperliquid $59.3M, Binance $36.1M; shorts $3.5M across venues. No data: Gate.``"""
    longs = ranked_longs_text(split)
    shorts = split["short_usd"].sum(min_count=1)
    across = "venues" if split.index.name == "venue" else "coins"
    missing = [n for n, v in zip(_shown_names(split), split["long_usd"], strict=True) if pd.isna(v)]
    text = f"{when}: longs {longs or 'none observed'}; shorts {fmt_usd(shorts)} across {across}."
    return text + (f" No data: {', '.join(missing)}." if missing else "")
