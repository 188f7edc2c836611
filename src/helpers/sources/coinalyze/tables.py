"""Coinalyze history -> the canonical tables ``liquidation_bars``, ``open_interest`` and
``funding`` (US dollars; funding as a fraction), one row per bar Coinalyze returns.

Every fetcher takes ``symbols`` as a mapping Coinalyze symbol -> :class:`Market` (as
:func:`~helpers.sources.coinalyze.selection.resolve_markets` returns, mapped from the
catalog) or as plain symbols, which are read with :func:`parse_symbol`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from helpers import schema
from helpers.sources.coinalyze.client import Coinalyze
from helpers.sources.coinalyze.symbols import Market, parse_symbol

log = logging.getLogger(__name__)

SOURCE = "coinalyze"
SOURCE_APPROX = "coinalyze (approx USD = base x close)"
"""``source`` of bars converted from base units with the bar's close price."""

TABLES = ("liquidation_bars", "open_interest", "funding")

Symbols = Sequence[str] | Mapping[str, Market]


def market_map(symbols: Symbols) -> dict[str, Market]:
    """Coinalyze symbol -> :class:`Market`: a mapping as given, plain symbols parsed."""
    if isinstance(symbols, Mapping):
        return dict(symbols)
    return {s: parse_symbol(s) for s in symbols}


def liquidation_bars(
    client: Coinalyze,
    symbols: Symbols,
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    usd: bool = True,
) -> pd.DataFrame:
    """``liquidation_bars`` of the Coinalyze ``symbols``: USD from ``convert_to_usd=true``;
    with ``usd=False`` base units times the bar's close (approximate, :data:`SOURCE_APPROX`).
    Bars Coinalyze does not return stay missing (no row)."""
    markets = market_map(symbols)
    params = {"convert_to_usd": "true" if usd else "false"}
    rows = []
    for sym, entries in client.history(
        "liquidation-history", list(markets), interval, start, end, **params
    ):
        for e in entries:
            rows.append({"coinalyze": sym, "t": e["t"], "long": e.get("l"), "short": e.get("s")})
    df = pd.DataFrame(rows, columns=["coinalyze", "t", "long", "short"])
    source = SOURCE
    if not usd and len(df):
        closes = ohlcv_closes(client, list(markets), interval, start, end)
        df = df.merge(closes, on=["coinalyze", "t"], how="left")
        df["long"] = pd.to_numeric(df["long"]) * df["close"]
        df["short"] = pd.to_numeric(df["short"]) * df["close"]
        no_close = df["close"].isna()
        if no_close.any():
            log.warning("coinalyze: %d bars without a close price dropped", int(no_close.sum()))
            df = df[~no_close]
        source = SOURCE_APPROX
    return bars_frame(df, markets, interval, source)


def bars_frame(
    df: pd.DataFrame, markets: dict[str, Market], interval: str, source: str
) -> pd.DataFrame:
    """Canonical ``liquidation_bars`` from columns ``coinalyze``, ``t`` (bar open, UNIX s),
    ``long``/``short`` (US dollars); counts are unknown (NA)."""
    if df.empty:
        return schema.empty("liquidation_bars")
    m = df["coinalyze"].map(markets)
    out = pd.DataFrame(
        {
            "ts": pd.to_datetime(df["t"].astype("int64"), unit="s", utc=True),
            "interval": interval,
            "exchange": [x.exchange for x in m],
            "symbol": [x.symbol for x in m],
            "base": [x.base for x in m],
            "long_usd": pd.to_numeric(df["long"], errors="coerce").astype("float64"),
            "short_usd": pd.to_numeric(df["short"], errors="coerce").astype("float64"),
            "long_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "short_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "source": source,
        }
    )
    return out.reset_index(drop=True)


def ohlcv_closes(
    client: Coinalyze,
    symbols: Sequence[str],
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Columns ``coinalyze``, ``t``, ``close`` (quote currency) from ``/ohlcv-history``."""
    rows = [
        {"coinalyze": sym, "t": e["t"], "close": e.get("c")}
        for sym, entries in client.history("ohlcv-history", symbols, interval, start, end)
        for e in entries
    ]
    out = pd.DataFrame(rows, columns=["coinalyze", "t", "close"])
    out["close"] = pd.to_numeric(out["close"], errors="coerce")
    return out


def open_interest(
    client: Coinalyze,
    symbols: Symbols,
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """``open_interest`` in US dollars (``convert_to_usd=true``): the bar's open at ``ts``."""
    markets = market_map(symbols)
    rows = [
        {"ts": e["t"], "coinalyze": sym, "oi_usd": e.get("o")}
        for sym, entries in client.history(
            "open-interest-history", list(markets), interval, start, end, convert_to_usd="true"
        )
        for e in entries
    ]
    return _point_frame(rows, markets, "open_interest", "oi_usd", scale=1.0)


def funding(
    client: Coinalyze,
    symbols: Symbols,
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """``funding`` as a fraction per funding period: Coinalyze's percent / 100, the bar's open
    at ``ts`` (a sample of the current rate, not necessarily a settlement)."""
    markets = market_map(symbols)
    rows = [
        {"ts": e["t"], "coinalyze": sym, "rate": e.get("o")}
        for sym, entries in client.history(
            "funding-rate-history", list(markets), interval, start, end
        )
        for e in entries
    ]
    return _point_frame(rows, markets, "funding", "rate", scale=0.01)


def _point_frame(
    rows: list[dict[str, Any]], markets: dict[str, Market], table: str, col: str, scale: float
) -> pd.DataFrame:
    if not rows:
        return schema.empty(table)
    df = pd.DataFrame(rows)
    m = df["coinalyze"].map(markets)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(df["ts"].astype("int64"), unit="s", utc=True),
            "exchange": [x.exchange for x in m],
            "symbol": [x.symbol for x in m],
            col: pd.to_numeric(df[col], errors="coerce").astype("float64") * scale,
            "source": SOURCE,
        }
    )
