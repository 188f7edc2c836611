"""Venue families as analysts name them, and the store's family aggregates.

A FAMILY is one trading venue as an analyst names it ("Binance"), keyed by a family id
(``binance``) and holding every ccxt exchange id that is part of it: Binance is the ccxt
classes ``binance``, ``binanceusdm`` (USDⓈ-M futures) and ``binancecoinm`` (COIN-M
futures). :data:`FAMILIES` is the one table; an id it does not list is a family of its own,
named by the id title-cased. Pages name venues this way, never by ccxt class ids: a venue
table or legend row is a family (:func:`display_name`, "Binance"), and a figure about one
part of a family is named as analysts name that part (:func:`market_name`, "Binance
USD-M"). Stored data and machine-readable keys keep the ccxt ids.

A FAMILY AGGREGATE is a vendor's bar that already sums every futures market of a coin on a
whole family (CoinGlass "Binance" BTC is USDⓈ-M + COIN-M, USDT- and USDC-margined). It is
stored with ``exchange`` = the family id (several families joined with ``+``, e.g.
``binance+okx+bybit``) and ``symbol`` = :data:`AGGREGATE_SYMBOL` (``BTC/USD:ALL``), a symbol
no real contract has, so :func:`is_family_aggregate` tells it apart from the rows of the
family's own contracts (its COMPONENTS) and bar loading never adds the two
(:mod:`helpers.precedence`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

AGGREGATE_SETTLE = "ALL"
AGGREGATE_SYMBOL = "{base}/USD:" + AGGREGATE_SETTLE
"""Symbol of a coin's aggregate over every futures market of a family (USD-valued)."""

FAMILY_SEPARATOR = "+"
"""Joins the family ids of an aggregate over several families (``binance+okx+bybit``)."""


@dataclass(frozen=True)
class Family:
    """A venue family: its id, the name analysts use, and its ccxt exchange ids."""

    id: str
    name: str
    members: tuple[str, ...]


FAMILIES: dict[str, Family] = {
    f.id: f
    for f in (
        Family("binance", "Binance", ("binance", "binanceusdm", "binancecoinm")),
        Family("okx", "OKX", ("okx",)),
        Family("bybit", "Bybit", ("bybit",)),
        Family("hyperliquid", "Hyperliquid", ("hyperliquid",)),
        Family("gate", "Gate", ("gate", "gateio")),
        Family("htx", "HTX", ("htx", "huobi")),
        Family("bitfinex", "Bitfinex", ("bitfinex",)),
        Family("deribit", "Deribit", ("deribit",)),
        Family("bitmex", "BitMEX", ("bitmex",)),
        Family("kraken", "Kraken", ("kraken", "krakenfutures")),
        Family("kucoin", "KuCoin", ("kucoin", "kucoinfutures")),
        Family("coinex", "CoinEx", ("coinex",)),
        Family("bitget", "Bitget", ("bitget",)),
        Family("mexc", "MEXC", ("mexc",)),
        Family("dydx", "dYdX", ("dydx",)),
    )
}
"""Family id -> :class:`Family`. Every ccxt id appears in at most one family."""

_FAMILY_OF: dict[str, str] = {m: f.id for f in FAMILIES.values() for m in f.members}

MARKET_NAMES: dict[str, str] = {
    "binanceusdm": "Binance USD-M",
    "binancecoinm": "Binance COIN-M",
    "krakenfutures": "Kraken Futures",
    "kucoinfutures": "KuCoin Futures",
}
"""ccxt ids that are one distinct PART of a family (its USD-margined or coin-margined
futures), by the name analysts give that part; every other id is named by its family."""


def family(exchange_id: str) -> str:
    """The family id of a ccxt exchange id (``binancecoinm`` -> ``binance``); a family id
    is its own family, and an id :data:`FAMILIES` does not list is a family of its own."""
    return _FAMILY_OF.get(exchange_id, exchange_id)


def members(family_id: str) -> tuple[str, ...]:
    """The ccxt exchange ids of a family (just the id itself for an unlisted one)."""
    known = FAMILIES.get(family_id)
    return known.members if known is not None else (family_id,)


def display_name(exchange_id_or_family: str) -> str:
    """The name analysts use: ``binanceusdm``, ``binancecoinm`` and ``binance`` are all
    "Binance"; an aggregate over several families joins their names (``binance+okx`` ->
    "Binance + OKX"); an unlisted id is title-cased (``phemex`` -> "Phemex")."""
    parts = exchange_id_or_family.split(FAMILY_SEPARATOR)
    if len(parts) > 1:
        return " + ".join(display_name(p) for p in parts)
    fam = FAMILIES.get(family(exchange_id_or_family))
    return fam.name if fam is not None else exchange_id_or_family.title()


def market_name(exchange_id: str) -> str:
    """The name of one ccxt exchange id as a part of its family: ``binanceusdm`` is
    "Binance USD-M", ``binancecoinm`` "Binance COIN-M"; an id that is not a distinct part
    (``okx``, ``gateio``, a family id, an aggregate) is named by :func:`display_name`."""
    return MARKET_NAMES.get(exchange_id) or display_name(exchange_id)


def is_family_part(exchange_id: str) -> bool:
    """True for an id that is one distinct part of a larger family (``binanceusdm``), whose
    figures a report can give beside its family's (Binance = USD-M + COIN-M)."""
    return exchange_id in MARKET_NAMES


def venues_text(exchange_ids: Iterable[str]) -> str:
    """The ids as analysts name them, in order, each name once (``binanceusdm, okx`` ->
    "Binance USD-M, OKX"; ``binance, okx`` -> "Binance, OKX")."""
    return ", ".join(dict.fromkeys(market_name(str(e)) for e in exchange_ids))


def aggregate_symbol(base: str) -> str:
    """The family-aggregate symbol of coin ``base`` (``BTC`` -> ``BTC/USD:ALL``)."""
    return AGGREGATE_SYMBOL.format(base=base)


def is_aggregate_symbol(symbol: str) -> bool:
    """True for a family-aggregate symbol (``<COIN>/USD:ALL``), never for a contract."""
    pair, _, settle = str(symbol).partition(":")
    return settle == AGGREGATE_SETTLE and pair.endswith("/USD")


def is_family_aggregate(exchange: str, symbol: str) -> bool:
    """True when a bar row is a vendor aggregate over whole families (CoinGlass "Binance"
    BTC: ``exchange`` ``binance``, ``symbol`` ``BTC/USD:ALL``) rather than one contract's."""
    return bool(exchange) and is_aggregate_symbol(symbol)


def covered_families(exchange: str, symbol: str) -> tuple[str, ...]:
    """The families a bar row speaks for: every family of an aggregate's ``exchange``
    (``binance+okx`` -> ``(binance, okx)``; a ccxt id stored by an older import maps to its
    family), the one family of a contract's exchange otherwise."""
    if not is_family_aggregate(exchange, symbol):
        return (family(exchange),)
    return tuple(dict.fromkeys(family(p) for p in exchange.split(FAMILY_SEPARATOR) if p))


def symbol_base(symbol: str) -> str:
    """The base coin of a ccxt unified symbol (``BTC/USDT:USDT`` -> ``BTC``)."""
    return str(symbol).partition("/")[0]
