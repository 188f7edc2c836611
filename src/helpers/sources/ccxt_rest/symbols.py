"""Symbols as asked for (``BTC`` or a unified ccxt symbol) resolved to a venue's market."""

from __future__ import annotations

from typing import Any

from helpers.errors import UserError
from helpers.sources import normalize


def resolve_symbol(exchange: Any, wanted: str) -> str:
    """A unified symbol of ``exchange``: ``wanted`` itself when it is one, else for a base
    coin (``BTC``) its USD-margined perpetual, preferring USDT, then USDC, then USD; never
    a coin-margined (inverse) one, which is fetched only when named (the error names it)."""
    markets = exchange.markets or {}
    if wanted in markets:
        return wanted
    if "/" in wanted:
        raise UserError(f"{exchange.id}: unknown symbol {wanted!r}")
    base = wanted.upper()
    candidates = [
        m
        for m in markets.values()
        if m.get("swap") and m.get("base") == base and m.get("active", True) is not False
    ]
    for settle in ("USDT", "USDC", "USD"):
        for m in candidates:
            if m.get("settle") == settle and m.get("quote") in normalize.USD_QUOTES:
                return str(m["symbol"])
    others = sorted(str(m["symbol"]) for m in candidates if m.get("inverse"))
    named = f" (coin-margined: {', '.join(others)}; give the symbol to fetch it)" if others else ""
    raise UserError(f"{exchange.id}: no USD-margined perpetual for {wanted!r}{named}")
