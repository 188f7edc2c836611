"""Questions about single liquidation EVENTS, answered by DuckDB over the Parquet store so the
events never reach pandas: which venues recorded events, the largest ones, and liquidated
notional per bar and price bin (the time x price heatmap).

Every query reads the ``liquidations`` table (:mod:`helpers.schema`) on the half-open window
``start <= ts < end`` (UTC), on ``exchanges`` / ``symbols`` (None: all). ``side`` is the
liquidated POSITION; ``*_usd`` columns are US dollars; prices are in the quote currency
(USDT/USDC, read as US dollars). A store with no events gives empty frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers import schema
from helpers.duck import connect_utc
from helpers.store import Store, conform, window_filter
from helpers.timegrid import TimeLike, interval_timedelta

VENUE_COLUMNS = {
    "exchange": "string",
    "base": "string",
    "events": "int64",
    "long_usd": "float64",
    "short_usd": "float64",
    "min_price": "float64",
    "max_price": "float64",
}
BIN_COLUMNS = {"ts": "datetime64[us, UTC]", "bin": "int64", "side": "string", "usd": "float64"}
BIN_COLUMNS |= {"n": "int64"}


def _where(
    start: TimeLike | None,
    end: TimeLike | None,
    exchanges: Sequence[str] | None,
    symbols: Sequence[str] | None,
    base: str | None = None,
) -> tuple[str, dict[str, object]]:
    clauses, params = window_filter(start, end, exchanges, symbols)
    if base is not None:
        clauses.append("base = $base")
        params["base"] = base
    return " AND ".join(["TRUE", *clauses]), params


def _query(store: Store, sql: str, params: dict[str, object]) -> pd.DataFrame:
    con = connect_utc()
    try:
        return con.execute(sql.format(events=store.scan("liquidations")), params).df()
    finally:
        con.close()


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
    return frame[list(columns)].astype(columns).reset_index(drop=True)


def event_venues(
    store: Store,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per (ccxt ``exchange``, ``base``) with events in the window: ``events``
    (count), ``long_usd``, ``short_usd`` (sums; 0 for a side with no event) and the
    ``min_price`` / ``max_price`` of its events; sorted by exchange, base."""
    if not store.has_data("liquidations"):
        return _typed(pd.DataFrame(), VENUE_COLUMNS)
    where, params = _where(start, end, exchanges, symbols)
    sql = f"""
        SELECT exchange, base, count(*) AS events,
               coalesce(sum(notional_usd) FILTER (WHERE side = 'long'), 0) AS long_usd,
               coalesce(sum(notional_usd) FILTER (WHERE side = 'short'), 0) AS short_usd,
               min(price) AS min_price, max(price) AS max_price
        FROM {{events}} WHERE {where} GROUP BY ALL ORDER BY exchange, base
    """
    return _typed(_query(store, sql, params), VENUE_COLUMNS)


def largest_events(
    store: Store,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    n: int = 10,
) -> pd.DataFrame:
    """The ``n`` largest single liquidations by ``notional_usd``, largest first (ties: the
    earliest first, then by exchange and event id): canonical ``liquidations`` rows."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not store.has_data("liquidations"):
        return schema.empty("liquidations")
    where, params = _where(start, end, exchanges, symbols)
    sql = f"""
        SELECT * EXCLUDE (date) FROM {{events}} WHERE {where}
        ORDER BY notional_usd DESC, ts, exchange, event_id LIMIT {int(n)}
    """
    return conform("liquidations", _query(store, sql, params)).reset_index(drop=True)


def time_price_bins(
    store: Store,
    base: str,
    bin_width: float,
    start: TimeLike,
    end: TimeLike,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    interval: str = "1h",
    origin: float = 0.0,
) -> pd.DataFrame:
    """Liquidated notional of coin ``base`` per bar, price bin and side.

    ``ts`` is the open of the ``interval`` bar holding the event (bars counted from the
    Unix epoch, as :mod:`helpers.aggregate` counts them); ``bin`` is
    ``floor((price - origin) / bin_width)`` (rounded to 1e-9 of a bin first, as
    :func:`helpers.aggregate.price_bins`). One row per occupied (ts, bin, side): ``usd``
    (sum of ``notional_usd``) and ``n`` (events); sorted by ts, bin, side.
    """
    if not (bin_width > 0):
        raise ValueError(f"bin width must be positive, got {bin_width!r}")
    if not store.has_data("liquidations"):
        return _typed(pd.DataFrame(), BIN_COLUMNS)
    where, params = _where(start, end, exchanges, symbols, base)
    secs = int(interval_timedelta(interval).total_seconds())
    params |= {"w": float(bin_width), "o": float(origin), "secs": secs}
    sql = f"""
        SELECT to_timestamp((epoch_us(ts) // ($secs::BIGINT * 1000000)) * $secs) AS ts,
               floor(round((price - $o) / $w, 9))::BIGINT AS bin, side,
               sum(notional_usd) AS usd, count(*) AS n
        FROM {{events}} WHERE {where}
        GROUP BY ALL ORDER BY ts, bin, side
    """
    out = _query(store, sql, params)
    if len(out):
        out["ts"] = pd.to_datetime(out["ts"], utc=True)
    return _typed(out, BIN_COLUMNS)
