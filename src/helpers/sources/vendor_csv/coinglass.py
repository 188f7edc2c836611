"""CoinGlass aggregated liquidation exports -> ``liquidation_bars`` in US dollars as published
(``source='coinglass'``), one row per bar, venue family (or families) and coin: a FAMILY
AGGREGATE stored under the family id and the symbol :data:`AGGREGATE_SYMBOL`
(:mod:`helpers.venues`), so it is never added to the family's own contracts (see
:mod:`helpers.sources.vendor_csv`)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from helpers.errors import UserError
from helpers.sources.vendor_csv.checks import (
    Imported,
    _dedupe,
    _drop_empty,
    _flag,
    _pick,
    check_grid,
    infer_interval,
    non_negative_numbers,
    read_csv,
    utc_times,
)
from helpers.venues import AGGREGATE_SYMBOL, FAMILY_SEPARATOR, aggregate_symbol, family

SOURCE_COINGLASS = "coinglass"
__all__ = [
    "AGGREGATE_SYMBOL",
    "COINGLASS_EXCHANGES",
    "SOURCE_COINGLASS",
    "coinglass_exchange",
    "read_coinglass",
]

COINGLASS_EXCHANGES: dict[str, str] = {
    "binance": "binance",
    "okx": "okx",
    "okex": "okx",
    "bybit": "bybit",
    "hyperliquid": "hyperliquid",
    "gate": "gate",
    "gate.io": "gate",
    "htx": "htx",
    "huobi": "htx",
    "bitmex": "bitmex",
    "bitfinex": "bitfinex",
    "coinex": "coinex",
    "bitget": "bitget",
    "deribit": "deribit",
    "kraken": "kraken",
    "dydx": "dydx",
    "mexc": "mexc",
    "kucoin": "kucoin",
}
"""CoinGlass venue name (lower case) -> venue family id (:data:`helpers.venues.FAMILIES`):
CoinGlass sums every futures market of a coin on the venue, so "Binance" is the whole
Binance family (USDⓈ-M and COIN-M), not the ccxt class ``binanceusdm``."""

_COINGLASS_TIME = ("time_utc", "ts_utc", "time", "timestamp", "date", "t")
_COINGLASS_LONG = (
    "aggregated_long_liquidation_usd",
    "liq_long_usd",
    "long_liquidation_usd",
    "longliquidation_usd",
    "long_usd",
)
_COINGLASS_SHORT = (
    "aggregated_short_liquidation_usd",
    "liq_short_usd",
    "short_liquidation_usd",
    "shortliquidation_usd",
    "short_usd",
)


def coinglass_exchange(name: str, where: str) -> str:
    """The family id(s) of a CoinGlass venue name or list (``Binance,OKX,Bybit`` ->
    ``binance+okx+bybit``); a ccxt id is accepted and stands for its family
    (``binanceusdm`` -> ``binance``)."""
    import ccxt

    ids = []
    for part in re.split(r"[,+]", str(name)):
        key = part.strip().lower()
        if not key:
            continue
        if key == "all":
            raise UserError(f"{where}: 'All' is every exchange together, not a venue")
        ex = COINGLASS_EXCHANGES.get(key, family(key) if key in ccxt.exchanges else None)
        if ex is None:
            raise UserError(f"{where}: unknown CoinGlass exchange {part.strip()!r}")
        ids.append(ex)
    if not ids:
        raise UserError(f"{where}: empty exchange name")
    return FAMILY_SEPARATOR.join(dict.fromkeys(ids))


def read_coinglass(
    path: str | Path, exchange: str | None = None, interval: str | None = None
) -> Imported:
    """``liquidation_bars`` (US dollars, ``source='coinglass'``) from a CoinGlass export."""
    where = Path(path).name
    df = read_csv(path)
    time_col = _pick(df, _COINGLASS_TIME)
    long_col, short_col = _pick(df, _COINGLASS_LONG), _pick(df, _COINGLASS_SHORT)
    coin_col = _pick(df, ("coin", "symbol", "base"))
    missing = [
        what
        for what, col in (
            ("time", time_col),
            ("coin", coin_col),
            ("long USD", long_col),
            ("short USD", short_col),
        )
        if col is None
    ]
    if missing:
        raise UserError(
            f"{where}: not a CoinGlass liquidation export (no {', '.join(missing)} column)"
        )
    assert time_col is not None and coin_col is not None
    assert long_col is not None and short_col is not None
    notes = []
    if "is_last_bar" in df.columns:
        open_bar = _flag(df["is_last_bar"])
        if open_bar.any():
            notes.append(f"{int(open_bar.sum())} bars still open when pulled dropped")
        df = df[~open_bar].reset_index(drop=True)
    ex_col = _pick(df, ("exchange_list", "exchange", "exchange_name"))
    if exchange is not None:
        venues = pd.Series(coinglass_exchange(exchange, "--exchange"), index=df.index)
    elif ex_col is not None:
        names = {v: coinglass_exchange(v, where) for v in df[ex_col].astype(str).unique()}
        venues = df[ex_col].astype(str).map(names)
    else:
        raise UserError(f"{where}: the file names no exchange; pass --exchange (e.g. binance)")
    coins = df[coin_col].astype("string").str.strip().str.upper()
    if coins.isna().any() or (coins == "").any():
        raise UserError(f"{where}: empty coin in column {coin_col!r}")
    ts = utc_times(df[time_col], time_col, where)
    long_usd = non_negative_numbers(df[long_col], long_col, where)
    short_usd = non_negative_numbers(df[short_col], short_col, where)
    interval = interval or infer_interval(ts, [venues, coins], where)
    check_grid(ts, interval, where)
    bars = pd.DataFrame(
        {
            "ts": ts,
            "interval": interval,
            "exchange": venues.astype("string"),
            "symbol": coins.map(aggregate_symbol).astype("string"),
            "base": coins,
            "long_usd": long_usd,
            "short_usd": short_usd,
            "long_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "short_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "source": SOURCE_COINGLASS,
        }
    )
    return Imported(_dedupe(_drop_empty(bars, notes), where), "USD (as published)", notes)
