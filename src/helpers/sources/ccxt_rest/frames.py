"""Canonical frames of the store's tables from ccxt rows (``ohlcv``, ``funding``,
``open_interest``, ``long_short_ratio``) and the ``gaps`` rows of bars a venue did not return."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from helpers import schema
from helpers.sources import normalize
from helpers.sources.ccxt_rest.checks import _finite
from helpers.sources.venue_rules import quirks


def _ts_col(stamps: Sequence[int] | pd.Series) -> pd.Series:
    return pd.to_datetime(pd.Series(stamps, dtype="int64"), unit="ms", utc=True).astype(
        "datetime64[us, UTC]"
    )


def ohlcv_frame(
    rows: Sequence[Sequence[Any]], exchange_id: str, symbol: str, interval: str
) -> pd.DataFrame:
    """Canonical ``ohlcv`` rows from ccxt candles ``[ts_open_ms, o, h, l, c, volume]``."""
    df = pd.DataFrame(
        [list(r[:6]) for r in rows], columns=["t", "open", "high", "low", "close", "volume"]
    )
    out = pd.DataFrame({"ts": _ts_col(df["t"].astype("int64"))})
    out["interval"] = interval
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["source"] = f"ccxt:{exchange_id}"
    for col in ("open", "high", "low", "close", "volume"):
        out[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return out


def funding_frame(rows: Sequence[Mapping[str, Any]], exchange_id: str, symbol: str) -> pd.DataFrame:
    """Canonical ``funding`` rows (``rate`` = the period's funding rate as a fraction)."""
    out = pd.DataFrame({"ts": _ts_col([int(r["timestamp"]) for r in rows])})
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["source"] = f"ccxt:{exchange_id}"
    out["rate"] = [float(r["fundingRate"]) for r in rows]
    return out


def ratio_frame(
    rows: Sequence[Mapping[str, Any]], exchange_id: str, symbol: str, period: str
) -> pd.DataFrame:
    """Canonical ``long_short_ratio`` rows from ccxt's long/short ratio structures:
    ``long_short_ratio`` as ccxt gives it (accounts net long / accounts net short; Bybit's
    is ccxt's ``buyRatio / sellRatio``), ``long_account`` the raw long share where the venue
    sends one (``long_share_key`` in :mod:`~helpers.sources.venue_rules`), else NaN; ``ts``
    the venue's own stamp."""
    rules = quirks(exchange_id).long_short_ratio
    key = rules.long_share_key if rules is not None else None
    shares = [_float_or_none((r.get("info") or {}).get(key)) if key else None for r in rows]
    out = pd.DataFrame({"ts": _ts_col([int(r["timestamp"]) for r in rows])})
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["period"] = period
    out["long_short_ratio"] = pd.Series([float(r["longShortRatio"]) for r in rows], dtype="float64")
    out["long_account"] = pd.Series([math.nan if v is None else v for v in shares], dtype="float64")
    out["source"] = f"ccxt:{exchange_id}"
    return out


def open_interest_frame(
    rows: Sequence[Mapping[str, Any]],
    exchange_id: str,
    symbol: str,
    market: Mapping[str, Any],
    bar_opens: pd.Series | None = None,
) -> pd.DataFrame:
    """Canonical ``open_interest`` rows; ``oi_usd`` in US dollars.

    Linear markets quoted in USD or a USD stablecoin: ccxt's ``openInterestValue``, else
    the base ``openInterestAmount`` times ``bar_opens`` at the row's time (the fetcher
    gives the open of the stored bar containing it), an estimate. Inverse markets: the
    value where the venue gives it in USD (``oi_value_in_usd`` in
    :mod:`~helpers.sources.venue_rules`), else the
    contract count times the USD contract size (Binance COIN-M's ``openInterestValue`` is
    in the base coin and is not used). NaN when none applies (the store then quarantines
    the row)."""
    opens = bar_opens if bar_opens is not None else pd.Series(dtype="float64")
    values = [_oi_usd(r, exchange_id, market, opens) for r in rows]
    out = pd.DataFrame({"ts": _ts_col([int(r["timestamp"]) for r in rows])})
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["source"] = f"ccxt:{exchange_id}"
    out["oi_usd"] = pd.Series(values, dtype="float64")
    return out


def _oi_usd(
    row: Mapping[str, Any], exchange_id: str, market: Mapping[str, Any], opens: pd.Series
) -> float:
    value = _float_or_none(row.get("openInterestValue"))
    amount = _float_or_none(row.get("openInterestAmount"))
    if market.get("quote") not in normalize.USD_QUOTES:
        return math.nan
    if market.get("inverse"):
        if value is not None and quirks(exchange_id).oi_value_in_usd:
            return value
        size = _float_or_none(market.get("contractSize"))
        return amount * size if amount is not None and size is not None else math.nan
    if value is not None:
        return value
    t = pd.Timestamp(int(row["timestamp"]), unit="ms", tz="UTC")
    price = _float_or_none(opens.get(t)) if len(opens) else None
    return amount * price if amount is not None and price is not None else math.nan


def _float_or_none(value: Any) -> float | None:
    return float(value) if _finite(value) else None


def bar_gaps(
    stamps: Sequence[int],
    step: int,
    exchange_id: str,
    symbol: str,
    table: str,
    previous_last: int | None = None,
) -> pd.DataFrame:
    """``gaps`` rows for missing bars between consecutive bar times (and after
    ``previous_last``, the last bar of the previous page)."""
    times = sorted(stamps)
    if previous_last is not None:
        times = [previous_last, *times]
    holes = [(a + step, b) for a, b in zip(times, times[1:], strict=False) if b - a > step]
    if not holes:
        return schema.empty("gaps")
    start = _ts_col([a for a, _ in holes])
    return pd.DataFrame(
        {
            "start": start,
            "end": _ts_col([b for _, b in holes]),
            "exchange": exchange_id,
            "symbol": symbol,
            "table_name": table,
            "reason": "venue returned no bars",
            "ts": start,
        }
    )
