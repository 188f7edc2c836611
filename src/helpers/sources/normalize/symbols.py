"""Unified ccxt symbols for raw liquidation records: from ``exchange.markets`` by the venue's
market id, or, without markets, from the id itself where the venue's ids are unambiguous
(Binance futures, Hyperliquid perpetuals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpers.sources.normalize.units import Markets


def markets_by_id(markets: Markets | None) -> dict[str, str]:
    """Unified symbol by venue market id, contracts only (the first symbol of an id wins)."""
    out: dict[str, str] = {}
    for symbol, m in (markets or {}).items():
        mid = m.get("id")
        if mid is not None and m.get("contract", True):
            out.setdefault(str(mid), symbol)
    return out


def item_symbol(item: Mapping[str, Any], raw_id: Any, by_id: Mapping[str, str]) -> str | None:
    """ccxt's ``symbol`` of ``item``, else the market of the raw id ``raw_id``; None if neither."""
    sym = item.get("symbol")
    if sym:
        return str(sym)
    if raw_id is not None and str(raw_id) in by_id:
        return by_id[str(raw_id)]
    return None


def binance_symbol(raw_id: Any) -> str | None:
    """A unified symbol from a Binance futures id without markets: ``BTCUSDT`` ->
    ``BTC/USDT:USDT``, ``BTCUSD_PERP`` -> ``BTC/USD:BTC``, ``ETHUSDT_250328`` ->
    ``ETH/USDT:USDT-250328``; None when the id has no known quote."""
    if not raw_id:
        return None
    rid = str(raw_id).upper()
    pair, _, suffix = rid.partition("_")
    for quote in ("USDT", "USDC", "FDUSD", "BUSD", "USD"):
        if pair.endswith(quote) and len(pair) > len(quote):
            base = pair[: -len(quote)]
            settle = base if quote == "USD" else quote
            expiry = "" if suffix in ("", "PERP") else f"-{suffix}"
            return f"{base}/{quote}:{settle}{expiry}"
    return None


def hyperliquid_symbol(coin: Any) -> str | None:
    """``BTC`` -> ``BTC/USDC:USDC`` (Hyperliquid perpetuals settle in USDC)."""
    if not coin or str(coin).startswith("@"):
        return None
    return f"{coin}/USDC:USDC"
