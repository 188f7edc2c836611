"""Coinalyze symbols <-> ccxt (exchange id, unified perpetual symbol), by the exchange-code
table of :mod:`helpers.sources.coinalyze`, and the symbols a ``fetch-coinalyze`` run pulls."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from helpers.errors import UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Venue:
    """A Coinalyze exchange code: its name and the ccxt ids of its linear and inverse
    perpetuals (None where the venue has none)."""

    name: str
    linear: str | None
    inverse: str | None
    unsuffixed_perps: bool = False


EXCHANGE_CODES: dict[str, Venue] = {
    "A": Venue("Binance", "binanceusdm", "binancecoinm"),
    "6": Venue("Bybit", "bybit", "bybit", unsuffixed_perps=True),
    "3": Venue("OKX", "okx", "okx"),
    "0": Venue("BitMEX", "bitmex", "bitmex"),
    "2": Venue("Deribit", "deribit", "deribit"),
    "4": Venue("Huobi/HTX", "htx", "htx"),
    "Y": Venue("Gate.io", "gate", "gate"),
    "K": Venue("Kraken", "krakenfutures", "krakenfutures"),
    "7": Venue("Phemex", "phemex", "phemex"),
    "F": Venue("Bitfinex", "bitfinex", None),
    "H": Venue("Hyperliquid", "hyperliquid", None),
}

STABLE_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD")
_SYMBOL = re.compile(r"^(?P<pair>[A-Z0-9]+?)(?P<perp>_PERP)?\.(?P<code>[0-9A-Z])$")


@dataclass(frozen=True)
class Market:
    """A Coinalyze perpetual mapped to ccxt terms."""

    coinalyze: str
    exchange: str
    symbol: str
    base: str
    inverse: bool


def parse_symbol(coinalyze_symbol: str) -> Market:
    """The ccxt exchange id and unified symbol of a Coinalyze perpetual (see the module
    table); a :class:`UserError` for a symbol outside it (spot, dated futures, unknown code)."""
    text = str(coinalyze_symbol).strip().upper()
    m = _SYMBOL.match(text)
    if not m:
        raise UserError(
            f"{coinalyze_symbol!r} is not a Coinalyze perpetual symbol such as BTCUSDT_PERP.A"
        )
    venue = EXCHANGE_CODES.get(m["code"])
    if venue is None:
        known = ", ".join(f"{c} ({v.name})" for c, v in EXCHANGE_CODES.items())
        raise UserError(f"{coinalyze_symbol!r}: unknown Coinalyze exchange code; known: {known}")
    if not m["perp"] and not venue.unsuffixed_perps:
        raise UserError(f"{coinalyze_symbol!r}: only perpetuals (_PERP) are supported")
    pair = m["pair"]
    base, quote = _split_pair(pair, venue)
    if base is None or quote is None:
        raise UserError(f"{coinalyze_symbol!r}: cannot tell base and quote apart in {pair!r}")
    inverse = quote == "USD" and venue.inverse is not None
    if quote == "USD" and not inverse:
        quote = "USDC"
    exchange = venue.inverse if inverse else venue.linear
    if exchange is None:
        raise UserError(f"{coinalyze_symbol!r}: {venue.name} has no such contract type")
    settle = base if inverse else quote
    return Market(text, exchange, f"{base}/{quote}:{settle}", base, inverse)


def _split_pair(pair: str, venue: Venue) -> tuple[str | None, str | None]:
    for quote in (*STABLE_QUOTES, "USD"):
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    if venue.name == "Hyperliquid":
        return pair, "USDC"
    return None, None


def to_coinalyze(exchange: str, symbol: str) -> str:
    """The Coinalyze symbol of a ccxt (exchange id, unified perpetual symbol): the inverse of
    :func:`parse_symbol`, e.g. (``okx``, ``BTC/USDT:USDT``) -> ``BTCUSDT_PERP.3``."""
    pair, _, settle = symbol.partition(":")
    base, _, quote = pair.partition("/")
    if not base or not quote or not settle or "-" in settle:
        raise UserError(f"{symbol!r} is not a unified perpetual symbol such as BTC/USDT:USDT")
    inverse = settle == base
    for code, venue in EXCHANGE_CODES.items():
        if (venue.inverse if inverse else venue.linear) != exchange:
            continue
        wire_quote = "USD" if venue.name == "Hyperliquid" and quote == "USDC" else quote
        suffix = "" if venue.unsuffixed_perps else "_PERP"
        return f"{base}{wire_quote}{suffix}.{code}"
    raise UserError(f"no Coinalyze exchange code for ccxt exchange {exchange!r}")


def resolve_symbols(given: Sequence[str], settings: dict[str, Any], config: Any) -> list[str]:
    """The Coinalyze symbols to pull: ``given``, else the config's
    ``vendors.coinalyze.symbols``, else every configured (exchange, symbol) that maps."""
    if given:
        names = list(given)
    elif settings.get("symbols"):
        names = [str(s) for s in settings["symbols"]]
    else:
        names = []
        for ex in config.enabled_exchanges:
            for sym in config.exchange(ex).symbols:
                try:
                    names.append(to_coinalyze(ex, sym))
                except UserError:
                    log.info("coinalyze: no symbol for %s %s; skipped", ex, sym)
    if not names:
        raise UserError("no Coinalyze symbols: pass --symbols BTCUSDT_PERP.A,...")
    for s in names:
        parse_symbol(s)
    return names
