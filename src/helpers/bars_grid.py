"""The zero-filled, gap-excluded bars of per-bucket sums, in numpy.

:func:`helpers.aggregate` sums events per (bucket, exchange, symbol, base, source) in DuckDB
(a bucket is ``epoch seconds // interval seconds``); this module turns those sums into
``liquidation_bars`` rows: every series (exchange, symbol, base, source) gets one row per
bucket of its observed span (its first to its last bucket, or the whole ``[start, end)``
window when ``full_window``), zeros where it had no event, minus every bucket that overlaps a
recorded gap of its venue (and symbol, when the gap names one; a gap without ``end`` is
still open). Series are laid out one after another, bucket by bucket, so a gap removes a
contiguous slice of each series it matches: the work is linear in the bars, never a join.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import schema

SERIES = ["exchange", "symbol", "base", "source"]
SUMS = ["long_usd", "short_usd", "long_count", "short_count"]
_US = 1_000_000


def _epoch_us(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since the epoch of a UTC timestamp column, and where it is missing."""
    ts = pd.to_datetime(col, utc=True).astype("datetime64[us, UTC]")
    missing = ts.isna().to_numpy()
    values = ts.dt.tz_localize(None).to_numpy().view("int64")
    return values, missing


def zero_filled(
    sums: pd.DataFrame,
    interval: str,
    secs: int,
    gaps: pd.DataFrame | None = None,
    window: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """``liquidation_bars`` from ``sums`` (columns ``bucket`` plus :data:`SERIES` and
    :data:`SUMS`, one row per series and bucket), sorted by ``ts``, exchange, symbol.

    ``window`` (first bucket, last bucket) spans every series over the same buckets (the
    ``full_window`` rule); None spans each series from its first to its last bucket.
    ``gaps`` are ``gaps`` rows of the ``liquidations`` table.
    """
    if not len(sums):
        return schema.empty("liquidation_bars")
    codes = [pd.factorize(sums[c], sort=True, use_na_sentinel=False) for c in SERIES]
    levels = [u for _, u in codes]
    sizes = np.array([len(u) for u in levels], dtype=np.int64)
    key = np.zeros(len(sums), dtype=np.int64)
    for (c, _), n in zip(codes, sizes, strict=True):
        key = key * n + c
    series_key, series = np.unique(key, return_inverse=True)
    n_series = len(series_key)
    bucket = sums["bucket"].to_numpy(dtype=np.int64)
    if window is None:
        lo = np.full(n_series, np.iinfo(np.int64).max)
        hi = np.full(n_series, np.iinfo(np.int64).min)
        np.minimum.at(lo, series, bucket)
        np.maximum.at(hi, series, bucket)
    else:
        lo = np.full(n_series, window[0], dtype=np.int64)
        hi = np.full(n_series, window[1], dtype=np.int64)
    length = np.maximum(hi - lo + 1, 0)
    offset = np.zeros(n_series + 1, dtype=np.int64)
    np.cumsum(length, out=offset[1:])
    total = int(offset[-1])
    grid_series = np.repeat(np.arange(n_series), length)
    grid_bucket = lo[grid_series] + (np.arange(total) - offset[grid_series])
    inside = (bucket >= lo[series]) & (bucket <= hi[series])
    pos = offset[series] + bucket - lo[series]
    values = {}
    for c in SUMS:
        v = np.zeros(total, dtype=np.float64 if c.endswith("_usd") else np.int64)
        v[pos[inside]] = sums[c].to_numpy(dtype=v.dtype, na_value=0)[inside]
        values[c] = v
    keep = _outside_gaps(gaps, secs, levels, sizes, series_key, lo, hi, offset, total)
    # the key columns of each series, decoded from the combined key
    parts = []
    rest = series_key.copy()
    for n in sizes[::-1]:
        parts.append(rest % n)
        rest //= n
    series_codes = parts[::-1]
    g_codes = [sc[grid_series][keep] for sc in series_codes]
    g_bucket = grid_bucket[keep]
    order = np.lexsort((g_codes[3], g_codes[2], g_codes[1], g_codes[0], g_bucket))
    ts = pd.to_datetime(g_bucket[order] * (secs * _US), unit="us", utc=True)
    out = pd.DataFrame({"ts": ts, "interval": interval})
    for name, level, gc in zip(SERIES, levels, g_codes, strict=True):
        out[name] = pd.array(np.asarray(level, dtype=object)[gc[order]], dtype="string")
    for c in SUMS:
        out[c] = values[c][keep][order]
    return out[list(schema.table("liquidation_bars").columns)]


def _outside_gaps(
    gaps: pd.DataFrame | None,
    secs: int,
    levels: list,
    sizes: np.ndarray,
    series_key: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    offset: np.ndarray,
    total: int,
) -> np.ndarray:
    """Which grid rows overlap no gap: a bucket ``b`` overlaps ``[start, end)`` when
    ``start < (b + 1) * S`` and ``end > b * S`` (S the bucket length), i.e. when
    ``floor(start / S) <= b <= ceil(end / S) - 1``."""
    keep = np.ones(total, dtype=bool)
    if gaps is None or not len(gaps) or total == 0:
        return keep
    size = secs * _US
    start, _ = _epoch_us(gaps["start"])
    end, open_ = _epoch_us(gaps["end"])
    g_lo = np.floor_divide(start, size)
    g_hi = np.where(open_, np.iinfo(np.int64).max, -np.floor_divide(-end, size) - 1)
    ex_level = pd.Index(levels[0])
    sym_level = pd.Index(levels[1])
    stride_ex = int(np.prod(sizes[1:]))
    stride_sym = int(np.prod(sizes[2:]))
    s_ex = series_key // stride_ex
    s_sym = (series_key // stride_sym) % sizes[1]
    delta = np.zeros(total + 1, dtype=np.int64)
    symbols = gaps["symbol"].astype("string")
    for i, exchange in enumerate(gaps["exchange"].astype("string")):
        ex = ex_level.get_indexer([exchange])[0]
        if ex < 0:
            continue
        match = s_ex == ex
        if not pd.isna(symbols.iloc[i]):
            match &= s_sym == sym_level.get_indexer([symbols.iloc[i]])[0]
        s = np.flatnonzero(match)
        a = np.maximum(g_lo[i], lo[s])
        b = np.minimum(g_hi[i], hi[s])
        s, a, b = s[a <= b], a[a <= b], b[a <= b]
        np.add.at(delta, offset[s] + (a - lo[s]), 1)
        np.add.at(delta, offset[s] + (b - lo[s]) + 1, -1)
    keep &= np.cumsum(delta[:-1]) == 0
    return keep
