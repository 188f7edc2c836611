"""From grouped buckets to ``liquidation_bars``: each series zero-filled over the span it
was observed, bars overlapping a recorded gap removed, rows sorted by time and series.

The buckets are :data:`helpers.aggregate._BUCKETS_SQL`'s rows (``bucket`` = bar open time in
epoch seconds // the interval's seconds; exchange, symbol, base, source; USD and counts of
liquidated longs and shorts). The grid is built on the grouped (small) result, never on
events: only series with holes cost anything.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from helpers.store import conform
from helpers.timegrid import INTERVAL_SECONDS, check_interval

SERIES = ["exchange", "symbol", "base", "source"]
VALUES = ["long_usd", "short_usd", "long_count", "short_count"]

_GAPS_SQL = """
SELECT b.* FROM bars_ b
WHERE NOT EXISTS (
    SELECT 1 FROM gaps_ x
    WHERE x.exchange = b.exchange AND (x.symbol IS NULL OR x.symbol = b.symbol)
      AND x.start < b.ts + to_seconds($secs::BIGINT) AND (x."end" IS NULL OR x."end" > b.ts)
)
"""
"""The bars that overlap no recorded gap (a gap without ``end`` is open)."""


def bars_of_buckets(
    con: duckdb.DuckDBPyConnection,
    buckets: pd.DataFrame,
    interval: str,
    s: pd.Timestamp | None,
    e: pd.Timestamp | None,
    gaps: pd.DataFrame | None,
    full: bool,
) -> pd.DataFrame:
    """``liquidation_bars`` from grouped buckets (:data:`_BUCKETS_SQL`'s columns): each
    series zero-filled over its observed span (or the window when ``full``), minus the bars
    overlapping ``gaps``, sorted by time and series."""
    secs = INTERVAL_SECONDS[check_interval(interval)]
    window = (bucket_of(s, secs), bucket_of(e, secs, ceil=True) - 1) if full else None
    bars = _zero_filled(buckets, secs, window)
    bars.insert(1, "interval", interval)
    if gaps is not None and len(gaps) and len(bars):
        con.register("bars_", bars)
        con.register("gaps_", gaps)
        bars = con.execute(_GAPS_SQL, {"secs": secs}).df()
        bars = bars.sort_values(["ts", *SERIES], kind="stable")  # SQL keeps no order
    return conform("liquidation_bars", bars)


def bucket_of(t: pd.Timestamp | None, secs: int, ceil: bool = False) -> int:
    """The bucket (epoch seconds // ``secs``) of ``t``, or the ceiling of the division."""
    if t is None:
        raise ValueError("full_window needs both start and end")
    step = secs * 1_000_000_000
    return -(-t.value // step) if ceil else t.value // step


def _zero_filled(buckets: pd.DataFrame, secs: int, window: tuple[int, int] | None) -> pd.DataFrame:
    """Every bar of each series' observed span: from its first to its last bucket, or over
    ``window`` (first, last bucket) when given; bars without events as zeros; rows in
    order of bar, then series (its columns' values, as ``sort_values`` orders them).

    Columns ``ts`` (bar open, UTC), the series columns and the USD and counts per side.
    Only series with holes cost anything: the grid is built on the grouped (small) result.
    """
    ids = buckets.groupby(SERIES, sort=True, dropna=False).ngroup().to_numpy()
    bucket = buckets["bucket"].to_numpy(dtype="int64")
    n = int(ids.max()) + 1 if len(ids) else 0
    if window is None:
        lo = np.full(n, np.iinfo(np.int64).max, dtype="int64")
        hi = np.full(n, np.iinfo(np.int64).min, dtype="int64")
        np.minimum.at(lo, ids, bucket)
        np.maximum.at(hi, ids, bucket)
    else:
        lo, hi = np.full(n, window[0], dtype="int64"), np.full(n, window[1], dtype="int64")
    sizes = hi - lo + 1
    if int(sizes.sum()) == len(buckets):  # no holes: every bar has events
        order = np.lexsort((ids, bucket))
        out = buckets.drop(columns="bucket").take(order).reset_index(drop=True)
        out[VALUES] = out[VALUES].fillna(0)
        out.insert(0, "ts", _bar_times(bucket[order], secs))
        return out
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int64")
    total = int(sizes.sum())
    series = np.repeat(np.arange(n), sizes)
    grid = lo[series] + (np.arange(total) - offsets[series])
    where = offsets[ids] + (bucket - lo[ids])
    order = np.lexsort((series, grid))
    first = np.zeros(n, dtype="int64")
    first[ids[::-1]] = np.arange(len(ids))[::-1]  # a row of each series, for its names
    cols: dict[str, object] = {"ts": _bar_times(grid[order], secs)}
    for c in SERIES:
        cols[c] = buckets[c].take(first[series[order]]).reset_index(drop=True)
    for c in VALUES:
        v = np.zeros(total, dtype="float64" if c.endswith("usd") else "int64")
        v[where] = buckets[c].to_numpy(dtype=v.dtype, na_value=0)
        cols[c] = v[order]
    return pd.DataFrame(cols)


def _bar_times(bucket: np.ndarray, secs: int) -> pd.DatetimeIndex:
    return pd.to_datetime(bucket * secs, unit="s", utc=True)
