"""Builders shared by the tests (imported as ``factories``; pytest puts tests/ on sys.path).

Times are hour offsets from ``T0`` (2025-11-10 00:00 UTC) unless a test passes its own ``t0``
(where its expectations spell out dates). Amounts are US dollars; ``side`` is the liquidated
POSITION, as in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd

from helpers import schema
from helpers.timegrid import Window

T0 = pd.Timestamp("2025-11-10", tz="UTC")
H = pd.Timedelta(hours=1)

BarRow = tuple[float, str, float, float] | tuple[float, str, float, float, str]
"""(hour offset, exchange, long_usd, short_usd[, symbol])."""
GapRow = tuple[float, float | None, str, str | None, str, str]
"""(start hour, end hour or None while open, exchange, symbol or None, table_name, reason)."""
EventRow = tuple[str, float, float]
"""(side, price, notional_usd)."""


def hours_after(t0: pd.Timestamp) -> Callable[[float], pd.Timestamp]:
    """``h(n)``: the time ``n`` hours (fractions allowed) after ``t0``."""

    def h(n: float) -> pd.Timestamp:
        return t0 + pd.Timedelta(hours=n)

    return h


h = hours_after(T0)
"""The time ``n`` hours after :data:`T0` (the open of bar ``n`` on an hourly grid)."""


def win(
    start: pd.Timestamp,
    end: pd.Timestamp,
    exchanges: Iterable[str] | None = None,
    sources: Iterable[str] = (),
    interval: str = "1h",
    symbols: Iterable[str] | None = None,
) -> Window:
    """The plot/metric context of a test: a window with its venues, sources and symbols
    (``None``: all)."""
    ex = None if exchanges is None else tuple(exchanges)
    sym = None if symbols is None else tuple(symbols)
    return Window(start, end, ex, sym, interval, tuple(sources))


def liquidation_bars(
    rows: Sequence[BarRow],
    *,
    t0: pd.Timestamp = T0,
    interval: str = "1h",
    symbol: str = "BTC/USDT:USDT",
    source: str = "demo",
    source_of: Mapping[str, str] | None = None,
    counts: int = 1,
    validated: bool = True,
) -> pd.DataFrame:
    """``liquidation_bars`` rows, one per (hour offset, exchange, long_usd, short_usd[, symbol])
    tuple: only the OBSERVED bars (an hour without a row is missing, not zero).

    The bar opens ``hour`` hours after ``t0`` whatever its ``interval``; base BTC; ``symbol``
    unless the row names one; ``source``, or ``source_of[exchange]`` where given; ``counts``
    liquidations on each side. ``validated``: in the table's canonical form (every row must
    pass :func:`helpers.schema.validate`; no rows give the table's empty frame); otherwise
    the plain frame as a caller would hand it in (int64 counts, object strings)."""
    at = hours_after(t0)
    sources = source_of or {}
    if not validated:
        return pd.DataFrame(
            {
                "ts": [at(r[0]) for r in rows],
                "interval": interval,
                "exchange": [r[1] for r in rows],
                # a scalar when there are no rows, so the empty frame keeps string columns
                "symbol": [r[4] if len(r) > 4 else symbol for r in rows] if rows else symbol,
                "base": "BTC",
                "long_usd": [r[2] for r in rows],
                "short_usd": [r[3] for r in rows],
                "long_count": counts,
                "short_count": counts,
                "source": [sources.get(r[1], source) for r in rows] if rows else source,
            }
        )
    if not rows:
        return schema.empty("liquidation_bars")
    records = [
        {
            "ts": at(r[0]),
            "interval": interval,
            "exchange": r[1],
            "symbol": r[4] if len(r) > 4 else symbol,
            "base": "BTC",
            "long_usd": r[2],
            "short_usd": r[3],
            "long_count": counts,
            "short_count": counts,
            "source": sources.get(r[1], source),
        }
        for r in rows
    ]
    good, bad = schema.validate("liquidation_bars", pd.DataFrame.from_records(records))
    assert bad.empty, bad
    return good


def coverage_gaps(rows: Sequence[GapRow], *, t0: pd.Timestamp = T0) -> pd.DataFrame:
    """Canonical ``gaps`` rows, one per (start hour, end hour or None, exchange, symbol,
    table_name, reason) tuple, hours after ``t0``; no rows give the table's empty frame."""
    if not rows:
        return schema.empty("gaps")
    at = hours_after(t0)
    records = [
        {
            "start": at(a),
            "end": at(b) if b is not None else pd.NaT,
            "exchange": ex,
            "symbol": sym,
            "table_name": table,
            "reason": reason,
            "ts": at(a),
        }
        for a, b, ex, sym, table, reason in rows
    ]
    good, bad = schema.validate("gaps", pd.DataFrame.from_records(records))
    assert bad.empty, bad
    return good


def liquidations(
    rows: Sequence[EventRow],
    *,
    t0: pd.Timestamp = T0,
    step: pd.Timedelta = H,
    exchange: str = "okx",
    base: str = "BTC",
    source: str = "demo",
) -> pd.DataFrame:
    """``liquidations`` events, one per (side, price, notional_usd) tuple, the i-th at
    ``t0 + i * step`` on ``<base>/USDT:USDT`` of ``exchange``; ``amount`` is 1 whatever the
    price (the metrics tested read ``notional_usd``), ``event_id`` the row number. Not
    validated: the plain frame a caller hands to a metric."""
    return pd.DataFrame(
        {
            "ts": [t0 + i * step for i in range(len(rows))],
            "exchange": exchange,
            "symbol": f"{base}/USDT:USDT",
            "base": base,
            "side": [r[0] for r in rows],
            "price": [r[1] for r in rows],
            "amount": 1.0,
            "notional_usd": [r[2] for r in rows],
            "source": source,
            "event_id": [str(i) for i in range(len(rows))],
        }
    )


LiquidationRow = tuple[str, str, str, str, float] | tuple[str, str, str, str, float, str]
"""(ISO time, exchange, symbol, side, notional_usd[, event_id])."""


def liquidation_rows(rows: Sequence[LiquidationRow]) -> pd.DataFrame:
    """``liquidations`` rows at ISO times with a price of 100 (``amount = notional / 100``),
    ``base`` from the symbol and source ``t``; ``event_id`` is the row's position when the
    rows name none."""
    named = bool(rows) and len(rows[0]) == 6
    columns = ["ts", "exchange", "symbol", "side", "notional_usd", *(["event_id"] * named)]
    df = pd.DataFrame(rows, columns=columns)
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    if not named:
        df["event_id"] = [str(i) for i in range(len(df))]
    return df.assign(
        base=df["symbol"].str.split("/").str[0],
        price=100.0,
        amount=df["notional_usd"] / 100.0,
        source="t",
    )
