"""Liquidation bars from events, with DuckDB; and loading bars for the notebooks.

A bar row means "this venue/symbol was observed during this bar": observed bars with no
liquidations are written as zeros, unobserved bars are not written at all, so metrics can
tell missing from zero. A venue/symbol counts as observed from the bar of its first event
to the bar of its last event in the window (or over the whole window when ``full_window``
is set, as for the simulator), minus every bar that overlaps a recorded gap (a gap without
an ``end`` is still open: every bar from its start on).

The same SQL runs on a pandas frame or on the Parquet store; it is the project's one
aggregation path, measured against pandas and Polars by ``benchmarks/aggregate.py``.
Bars are stored per source; :func:`load_bars` keeps one source per venue and bar
(:mod:`helpers.precedence`) and builds coarser bars from finer stored ones where every finer
bar is observed (:mod:`helpers.rollup`).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers import schema
from helpers.config import load_precedence
from helpers.precedence import one_source_per_bar
from helpers.rollup import finer_intervals, with_rolled_up
from helpers.store import Store, WriteResult, conform, window_filter
from helpers.timegrid import INTERVAL_SECONDS, TimeLike, check_interval, to_utc

_BUCKETS_SQL = """
SELECT epoch_us(ts) // ($secs::BIGINT * 1000000) AS bucket,
       exchange, symbol, base, source,
       sum(notional_usd) FILTER (WHERE side = 'long')  AS long_usd,
       sum(notional_usd) FILTER (WHERE side = 'short') AS short_usd,
       count(*) FILTER (WHERE side = 'long')  AS long_count,
       count(*) FILTER (WHERE side = 'short') AS short_count
FROM {events}
WHERE ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end) {extra}
GROUP BY ALL
"""
"""The events' bars with at least one event; bucket = bar open time (epoch s) // secs."""

_GAPS_SQL = """
SELECT b.* FROM bars_ b
WHERE NOT EXISTS (
    SELECT 1 FROM gaps_ x
    WHERE x.exchange = b.exchange AND (x.symbol IS NULL OR x.symbol = b.symbol)
      AND x.start < b.ts + to_seconds($secs::BIGINT) AND (x."end" IS NULL OR x."end" > b.ts)
)
"""
"""The bars that overlap no recorded gap (a gap without ``end`` is open)."""

_SERIES = ["exchange", "symbol", "base", "source"]
_VALUES = ["long_usd", "short_usd", "long_count", "short_count"]


def _check_interval(interval: str) -> int:
    return INTERVAL_SECONDS[check_interval(interval)]


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def bars_from_events(
    events: pd.DataFrame,
    interval: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    gaps: pd.DataFrame | None = None,
    full_window: bool | None = None,
) -> pd.DataFrame:
    """Aggregate a ``liquidations`` frame into ``liquidation_bars`` (USD and counts per side).

    ``full_window`` (default: true when both ``start`` and ``end`` are given) treats every
    venue/symbol as observed over the whole window.
    """
    con = _connection()
    try:
        con.register("events_", events)
        return _run_bars_sql(con, "events_", interval, start, end, gaps, full_window, "", [])
    finally:
        con.close()


def _run_bars_sql(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    interval: str,
    start: TimeLike | None,
    end: TimeLike | None,
    gaps: pd.DataFrame | None,
    full_window: bool | None,
    extra: str,
    extra_params: Sequence[object],
) -> pd.DataFrame:
    secs = _check_interval(interval)
    s, e = to_utc(start), to_utc(end)
    full = (s is not None and e is not None) if full_window is None else full_window
    if full and (s is None or e is None):
        raise ValueError("full_window needs both start and end")
    sql = _BUCKETS_SQL.format(events=relation, extra=extra)
    params: dict[str, object] = {
        "start": s.to_pydatetime() if s is not None else None,
        "end": e.to_pydatetime() if e is not None else None,
        "secs": secs,
    }
    params.update({f"x{i}": v for i, v in enumerate(extra_params)})
    arrow = con.sql(sql, params=params).to_arrow_table()
    buckets = arrow.to_pandas(types_mapper=_strings)
    window = (_bucket_of(s, secs), _bucket_of(e, secs, ceil=True) - 1) if full else None
    bars = _zero_filled(buckets, secs, window)
    bars.insert(1, "interval", interval)
    if gaps is not None and len(gaps) and len(bars):
        con.register("bars_", bars)
        con.register("gaps_", gaps)
        bars = con.execute(_GAPS_SQL, {"secs": secs}).df()
    bars = bars.sort_values(["ts", "exchange", "symbol"], kind="stable")
    return conform("liquidation_bars", bars)


def _bucket_of(t: pd.Timestamp | None, secs: int, ceil: bool = False) -> int:
    """The bucket (epoch seconds // ``secs``) of ``t``, or the ceiling of the division."""
    if t is None:
        raise ValueError("full_window needs both start and end")
    step = secs * 1_000_000_000
    return -(-t.value // step) if ceil else t.value // step


def _zero_filled(buckets: pd.DataFrame, secs: int, window: tuple[int, int] | None) -> pd.DataFrame:
    """Every bar of each series' observed span: from its first to its last bucket, or over
    ``window`` (first, last bucket) when given; bars without events as zeros.

    Columns ``ts`` (bar open, UTC), the series columns and the USD and counts per side.
    Only series with holes cost anything: the grid is built on the grouped (small) result.
    """
    ids = buckets.groupby(_SERIES, sort=False, dropna=False).ngroup().to_numpy()
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
        out = buckets.drop(columns="bucket")
        out[_VALUES] = out[_VALUES].fillna(0)
        out.insert(0, "ts", _bar_times(bucket, secs))
        return out
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int64")
    total = int(sizes.sum())
    series = np.repeat(np.arange(n), sizes)
    grid = lo[series] + (np.arange(total) - offsets[series])
    where = offsets[ids] + (bucket - lo[ids])
    first = np.zeros(n, dtype="int64")
    first[ids[::-1]] = np.arange(len(ids))[::-1]  # a row of each series, for its names
    cols: dict[str, object] = {"ts": _bar_times(grid, secs)}
    for c in _SERIES:
        cols[c] = buckets[c].take(first[series]).reset_index(drop=True)
    for c in _VALUES:
        v = np.zeros(total, dtype="float64" if c.endswith("usd") else "int64")
        v[where] = buckets[c].to_numpy(dtype=v.dtype, na_value=0)
        cols[c] = v
    return pd.DataFrame(cols)


def _bar_times(bucket: np.ndarray, secs: int) -> pd.DatetimeIndex:
    return pd.to_datetime(bucket * secs, unit="s", utc=True)


def build_bars(
    store: Store,
    interval: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
) -> WriteResult:
    """Aggregate stored events into ``liquidation_bars`` straight from Parquet and store them."""
    bars = aggregate_store(store, interval, start, end, exchanges, symbols)
    return store.write("liquidation_bars", bars)


def aggregate_store(
    store: Store,
    interval: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The bars of the stored events (not written); filters are pushed down to Parquet."""
    if not store.has_data("liquidations"):
        return schema.empty("liquidation_bars")
    s, e = to_utc(start), to_utc(end)
    extra: list[str] = []
    extra_params: list[object] = []
    if s is not None:
        extra.append("AND date >= $x0::DATE")
        extra_params.append(s.strftime("%Y-%m-%d"))
    if e is not None:
        extra.append(f"AND date <= $x{len(extra_params)}::DATE")
        extra_params.append(e.strftime("%Y-%m-%d"))
    if exchanges is not None:
        extra.append(f"AND list_contains($x{len(extra_params)}, exchange)")
        extra_params.append(list(exchanges))
    if symbols is not None:
        extra.append(f"AND list_contains($x{len(extra_params)}, symbol)")
        extra_params.append(list(symbols))
    gaps = store.read("gaps", where="table_name = 'liquidations'")
    con = _connection()
    try:
        return _run_bars_sql(
            con,
            store.scan("liquidations"),
            interval,
            s,
            e,
            gaps,
            False,
            " ".join(extra),
            extra_params,
        )
    finally:
        con.close()


def price_bins(
    store: Store,
    base: str,
    bin_width: float,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    origin: float = 0.0,
) -> pd.DataFrame:
    """Liquidated notional (USD) and event counts of one base asset per price bin and side,
    computed in DuckDB over the Parquet store so the events never reach pandas.

    ``bin`` is ``floor((price - origin) / bin_width)`` (the price rounded to 1e-9 of a bin
    first, as :func:`helpers.metrics.clusters.liquidations_by_price` does). One row per occupied
    (bin, side): columns ``bin``, ``side``, ``usd``, ``n``.
    """
    empty = pd.DataFrame(
        {
            "bin": pd.Series(dtype="int64"),
            "side": pd.Series(dtype="string"),
            "usd": pd.Series(dtype="float64"),
            "n": pd.Series(dtype="int64"),
        }
    )
    if not store.has_data("liquidations"):
        return empty
    clauses, params = window_filter(start, end, exchanges, symbols)
    clauses.append("base = $base")
    params |= {"base": base, "w": float(bin_width), "o": float(origin)}
    sql = f"""
        SELECT floor(round((price - $o) / $w, 9))::BIGINT AS bin, side,
               sum(notional_usd) AS usd, count(*) AS n
        FROM {store.scan("liquidations")}
        WHERE {" AND ".join(clauses)}
        GROUP BY ALL ORDER BY bin, side
    """
    con = _connection()
    try:
        out = con.execute(sql, params).df()
    finally:
        con.close()
    return (
        out.astype({"bin": "int64", "side": "string", "usd": "float64", "n": "int64"})
        if len(out)
        else empty
    )


def load_bars(
    store: Store,
    start: TimeLike,
    end: TimeLike,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    interval: str = "1h",
    precedence: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Stored bars for the window, one source per venue and bar so nothing is counted twice.

    Where several sources cover the same contract and bar (bars built from recorded events
    and a vendor's bars, or two vendors), the highest-precedence one is kept, bar by bar;
    a family aggregate (CoinGlass "Binance") and the contracts of its family are never both
    kept in a bar (:func:`helpers.precedence.one_source_per_bar`). ``precedence`` lists
    source names or patterns, most trusted first; None reads ``precedence:`` from
    ``config/sources.yaml`` (:func:`helpers.config.load_precedence`). ``exchanges`` and
    ``symbols`` are exact: ``binanceusdm`` does not bring in the ``binance`` aggregate.

    Coarser bars are built from finer stored bars (:mod:`helpers.rollup`): a (exchange,
    symbol, source) with no bar of ``interval`` in the window has its bars rolled up from
    its finest stored interval that divides ``interval``, a coarse bar only where every
    finer bar is observed (a 4h bar from four observed hours, missing when one is not), so
    hourly vendor bars serve a 4h or 1d report. Precedence then applies to the result.
    """
    _check_interval(interval)
    wanted = ", ".join(f"'{i}'" for i in (interval, *finer_intervals(interval)))
    bars = store.read(
        "liquidation_bars", start, end, exchanges, symbols, where=f"interval IN ({wanted})"
    )
    bars = with_rolled_up(bars, interval)
    ranks = load_precedence() if precedence is None else tuple(precedence)
    return conform("liquidation_bars", one_source_per_bar(bars, ranks))


def _strings(t: object) -> pd.StringDtype | None:
    """Arrow strings straight into pandas' string dtype (no Python objects on the way)."""
    return pd.StringDtype() if t in (pa.string(), pa.large_string(), pa.string_view()) else None
