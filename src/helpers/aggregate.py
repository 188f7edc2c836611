"""Liquidation bars from events, with DuckDB; and loading bars for the notebooks.

A bar row means "this venue/symbol was observed during this bar": observed bars with no
liquidations are written as zeros, unobserved bars are not written at all, so metrics can
tell missing from zero. A venue/symbol counts as observed from the bar of its first event
to the bar of its last event in the window (or over the whole window when ``full_window``
is set, as for the simulator), minus every bar that overlaps a recorded gap (a gap without
an ``end`` is still open: every bar from its start on).

Events are grouped into buckets here (one SQL over a pandas frame or the Parquet store),
or, for the clean partitions of a cached build, by :mod:`helpers.bars_group` (Arrow +
numpy, the same rows); :mod:`helpers.bars_fill` turns buckets into bars. Over the store
the buckets of each (exchange, date) partition are cached between builds
(:mod:`helpers.bars_cache`), so a build groups only the partitions that changed. Measured
against DuckDB and Polars by ``benchmarks/aggregate.py``.
Bars are stored per source; :func:`load_bars` keeps one source per venue and bar
(:mod:`helpers.precedence`) and builds coarser bars from finer stored ones where every finer
bar is observed (:mod:`helpers.rollup`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from helpers import bars_cache, schema
from helpers.bars_cache import CacheStats, partition_key
from helpers.bars_fill import SERIES, VALUES, bars_of_buckets, bucket_of
from helpers.bars_group import group_clean_partitions
from helpers.config import load_precedence
from helpers.duck import connect_utc
from helpers.precedence import one_source_per_bar
from helpers.rollup import finer_intervals, with_rolled_up
from helpers.store import Store, WriteResult, conform, window_filter
from helpers.store_layout import Partition, scan_sql
from helpers.timegrid import INTERVAL_SECONDS, TimeLike, check_interval, to_utc

log = logging.getLogger(__name__)

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

_PARTITION_BUCKETS_SQL = """
SELECT exchange, strftime(date, '%Y-%m-%d') AS date, * EXCLUDE (exchange, date) FROM (
    SELECT epoch_us(ts) // ($secs::BIGINT * 1000000) AS bucket,
           exchange, date, symbol, base, source,
           sum(notional_usd) FILTER (WHERE side = 'long')  AS long_usd,
           sum(notional_usd) FILTER (WHERE side = 'short') AS short_usd,
           count(*) FILTER (WHERE side = 'long')  AS long_count,
           count(*) FILTER (WHERE side = 'short') AS short_count
    FROM {events}
    GROUP BY ALL
)
"""
"""Every event's bucket with its partition: what :mod:`helpers.bars_cache` keeps."""

_BUCKET_DTYPES = {
    "bucket": "int64",
    **dict.fromkeys(SERIES, "string"),
    "long_usd": "float64",
    "short_usd": "float64",
    "long_count": "int64",
    "short_count": "int64",
}


def _check_interval(interval: str) -> int:
    return INTERVAL_SECONDS[check_interval(interval)]


def _connection() -> duckdb.DuckDBPyConnection:
    return connect_utc()


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
    buckets = (
        con.sql(sql, params=params).to_arrow_table().to_pandas(types_mapper=schema.pandas_strings)
    )
    return bars_of_buckets(con, buckets, interval, s, e, gaps, full)


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
    cache: bool = True,
) -> pd.DataFrame:
    """The bars of the stored events (not written); filters are pushed down to Parquet.
    ``cache``: reuse the grouped buckets of partitions unchanged since an earlier build
    (:mod:`helpers.bars_cache`); the rows are the same either way."""
    return aggregate_store_counted(store, interval, start, end, exchanges, symbols, cache)[0]


def aggregate_store_counted(
    store: Store,
    interval: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    cache: bool = True,
) -> tuple[pd.DataFrame, CacheStats | None]:
    """:func:`aggregate_store` and what it did with the bars cache (None: not used, as for
    a window whose ends are not bar boundaries, where a cached bar would hold events
    outside the window)."""
    if not store.has_data("liquidations"):
        return schema.empty("liquidation_bars"), None
    secs = _check_interval(interval)
    s, e = to_utc(start), to_utc(end)
    gaps = store.read("gaps", where="table_name = 'liquidations'")
    partitions = store.partitions("liquidations")
    if not (cache and _on_bar_edges(secs, s, e) and _named_partitions(partitions)):
        return _aggregate_scan(store, interval, s, e, exchanges, symbols, gaps), None
    in_selection = _selection(s, e, exchanges)
    con = _connection()
    try:
        buckets, stats = bars_cache.cached_buckets(
            store.root,
            interval,
            [p for p in partitions if in_selection(partition_key(p))],  # type: ignore[arg-type]
            in_selection,
            lambda stale: _partition_buckets(con, stale, secs),
        )
        log.info("bars (%s): %s", interval, stats)
        buckets = _window_buckets(buckets, secs, s, e, symbols)
        return bars_of_buckets(con, buckets, interval, s, e, gaps, False), stats
    finally:
        con.close()


def _aggregate_scan(
    store: Store,
    interval: str,
    s: pd.Timestamp | None,
    e: pd.Timestamp | None,
    exchanges: Sequence[str] | None,
    symbols: Sequence[str] | None,
    gaps: pd.DataFrame,
) -> pd.DataFrame:
    """The bars by one query over the selected events, no cache."""
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
    con = _connection()
    try:
        scan = store.scan("liquidations")
        return _run_bars_sql(con, scan, interval, s, e, gaps, False, " ".join(extra), extra_params)
    finally:
        con.close()


def _on_bar_edges(secs: int, *bounds: pd.Timestamp | None) -> bool:
    return all(b is None or b.value % (secs * 1_000_000_000) == 0 for b in bounds)


def _named_partitions(partitions: Sequence[Partition]) -> bool:
    return all(partition_key(p) is not None for p in partitions)


def _selection(
    s: pd.Timestamp | None, e: pd.Timestamp | None, exchanges: Sequence[str] | None
) -> bars_cache.Selection:
    """The partitions read for the window: the same the uncached query prunes to (``date``
    from the start's date to the end's) of ``exchanges``."""
    return bars_cache.Selection(
        s.strftime("%Y-%m-%d") if s is not None else None,
        e.strftime("%Y-%m-%d") if e is not None else None,
        None if exchanges is None else frozenset(exchanges),
    )


def _partition_buckets(
    con: duckdb.DuckDBPyConnection, partitions: Sequence[Partition], secs: int
) -> pd.DataFrame:
    """:data:`_BUCKETS_SQL` over every event of ``partitions`` (no window), each bucket
    with its partition's ``exchange`` and ``date`` (``YYYY-MM-DD``): clean partitions
    grouped by :mod:`helpers.bars_group`, the others (write parts to deduplicate) by
    :func:`_sql_partition_buckets`."""
    if not partitions:
        raise ValueError("no partitions to group")
    grouped = group_clean_partitions(partitions, secs)
    frames = [grouped.buckets] if grouped.buckets is not None else []
    if grouped.refused:
        frames.append(_sql_partition_buckets(con, grouped.refused, secs))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _sql_partition_buckets(
    con: duckdb.DuckDBPyConnection, partitions: Sequence[Partition], secs: int
) -> pd.DataFrame:
    """:data:`_PARTITION_BUCKETS_SQL` over ``partitions``, one query."""
    sql = _PARTITION_BUCKETS_SQL.format(events=scan_sql(schema.table("liquidations"), partitions))
    return (
        con.sql(sql, params={"secs": secs})
        .to_arrow_table()
        .to_pandas(types_mapper=schema.pandas_strings)
    )


def _window_buckets(
    buckets: pd.DataFrame | None,
    secs: int,
    s: pd.Timestamp | None,
    e: pd.Timestamp | None,
    symbols: Sequence[str] | None,
) -> pd.DataFrame:
    """The cached buckets inside the window (bounds on bar edges) and of ``symbols``, in
    :data:`_BUCKETS_SQL`'s columns; buckets of one series found in two partitions (events
    filed under another day's partition) summed, as one query over both would."""
    if buckets is None or buckets.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _BUCKET_DTYPES.items()})
    keep = np.ones(len(buckets), dtype=bool)
    bucket = buckets["bucket"].to_numpy(dtype="int64")
    if s is not None:
        keep &= bucket >= bucket_of(s, secs)
    if e is not None:
        keep &= bucket < bucket_of(e, secs)
    if symbols is not None:
        keep &= buckets["symbol"].isin(list(symbols)).to_numpy()
    out = buckets[keep]
    foreign = _outside_their_day(out, secs)
    out = out.drop(columns="date")
    keys = ["bucket", *SERIES]
    if foreign and out.duplicated(keys).any():
        out = out.groupby(keys, sort=False, dropna=False, as_index=False)[VALUES].sum(min_count=1)
    return out[list(_BUCKET_DTYPES)].reset_index(drop=True)


def _outside_their_day(buckets: pd.DataFrame, secs: int) -> bool:
    """Whether a bucket lies outside its partition's day (its ``date``): only then can two
    partitions hold the same series and bucket (a bar of ``secs`` <= 1 day lies in one UTC
    day, and a partition holds each of its series' buckets once)."""
    if buckets.empty:
        return False
    codes, dates = pd.factorize(buckets["date"])
    day = pd.to_datetime(pd.Series(dates), format="%Y-%m-%d").to_numpy("datetime64[D]")
    own = day.astype(np.int64)[codes]
    return bool((buckets["bucket"].to_numpy(np.int64) * secs // 86_400 != own).any())


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
