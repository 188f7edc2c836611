"""Coinalyze exchange codes and symbols <-> ccxt (exchange id, unified perpetual symbol).

:data:`EXCHANGE_CODES` is the one table both mappings use: the catalog mapping in
:mod:`~helpers.sources.coinalyze.selection` (from the catalog's fields, never the symbol
text) and :func:`parse_symbol`, the fallback for symbols that come without a catalog row
(CSV exports). Symbols do not share one format across venues; the formats
:func:`parse_symbol` reads are the ones recorded in ``docs/venue-rules.md`` (Coinalyze).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpers.errors import UserError


@dataclass(frozen=True)
class Venue:
    """A Coinalyze exchange code: the venue's name, the ccxt ids of its linear and inverse
    perpetuals (None where ccxt or the venue has none), and the ccxt quote of a linear
    contract Coinalyze quotes in ``USD`` (Hyperliquid's settle in USDC, Kraken's in USD)."""

    name: str
    linear: str | None
    inverse: str | None
    usd_linear_as: str = "USD"


EXCHANGE_CODES: dict[str, Venue] = {
    "A": Venue("Binance", "binanceusdm", "binancecoinm"),
    "6": Venue("Bybit", "bybit", "bybit"),
    "3": Venue("OKX", "okx", "okx"),
    "0": Venue("BitMEX", "bitmex", "bitmex"),
    "2": Venue("Deribit", "deribit", "deribit"),
    "4": Venue("Huobi/HTX", "htx", "htx"),
    "Y": Venue("Gate.io", "gate", "gate"),
    "K": Venue("Kraken", "krakenfutures", "krakenfutures"),
    "7": Venue("Phemex", "phemex", "phemex"),
    "F": Venue("Bitfinex", "bitfinex", None),
    "H": Venue("Hyperliquid", "hyperliquid", None, usd_linear_as="USDC"),
}
"""Coinalyze exchange code -> venue. Codes missing here (dYdX ``8``, WOO X ``W``, Coinbase
``C``, Vertex ``V``...) are skipped, never guessed."""

STABLE_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD1")
USD_QUOTES = ("USD", *STABLE_QUOTES)
"""Quotes whose contracts can be valued in US dollars (a stablecoin counts as 1 USD)."""
BASE_ALIASES = {"XBT": "BTC"}


@dataclass(frozen=True)
class Market:
    """A Coinalyze perpetual in ccxt terms: ``symbol`` is the unified symbol
    (``BTC/USDT:USDT`` linear, ``BTC/USD:BTC`` inverse), ``quote`` its ccxt quote and
    ``code`` the Coinalyze exchange code."""

    coinalyze: str
    exchange: str
    symbol: str
    base: str
    inverse: bool
    quote: str
    code: str


def market_of(coinalyze: str, code: str, base: str, quote: str, inverse: bool) -> Market:
    """The :class:`Market` of a perpetual on exchange ``code`` with these assets; a
    :class:`UserError` when the code is unknown or the venue has no such contract type."""
    venue = EXCHANGE_CODES.get(code)
    if venue is None:
        raise _unknown_code(coinalyze, code)
    base = BASE_ALIASES.get(base.upper(), base.upper())
    quote = BASE_ALIASES.get(quote.upper(), quote.upper())
    exchange = venue.inverse if inverse else venue.linear
    if exchange is None:
        kind = "inverse" if inverse else "linear"
        raise UserError(f"{coinalyze!r}: {venue.name} has no {kind} perpetuals in ccxt")
    if inverse:
        return Market(coinalyze, exchange, f"{base}/{quote}:{base}", base, True, quote, code)
    if quote == "USD":
        quote = venue.usd_linear_as
    return Market(coinalyze, exchange, f"{base}/{quote}:{quote}", base, False, quote, code)


def _unknown_code(text: str, code: str) -> UserError:
    known = ", ".join(f"{c} ({v.name})" for c, v in EXCHANGE_CODES.items())
    return UserError(f"{text!r}: unknown Coinalyze exchange code {code!r}; known: {known}")


_PAIR = r"(?P<pair>[A-Z0-9]+)"
_BASE = r"(?P<base>[A-Z0-9]+)"
_QUOTE = r"(?P<quote>[A-Z0-9]+)"
_PERP_SUFFIX = (r"(?i:(?P<pair>[A-Za-z0-9]+)_PERP)", "pair")
_FORMATS: dict[str, tuple[tuple[str, str], ...]] = {
    # code: ((regex over the text before ".code", kind), ...), tried in order. "pair": a USD
    # quote is inverse, a stablecoin linear; "linear"/"inverse": fixed; "usdc": linear USDC;
    # "usd-linear"/"usd-inverse": quoted in USD, the base alone in the text.
    "6": ((rf"{_BASE}PERP", "usdc"), (_PAIR, "pair"), _PERP_SUFFIX),
    "H": ((_BASE, "usd-linear"),),
    "2": ((rf"{_BASE}-PERPETUAL", "usd-inverse"), (rf"{_BASE}_{_QUOTE}-PERPETUAL", "linear")),
    "Y": ((rf"{_BASE}_{_QUOTE}", "pair"),),
    "K": ((r"(?i:pf_)(?P<pair>[A-Za-z0-9]+)", "linear"), _PERP_SUFFIX),
    "7": ((rf"c{_PAIR}", "inverse"), (rf"{_PAIR}(?:_PERP)?", "pair")),
}  # fmt: skip
"""Per-venue formats; every other code uses ``<BASE><QUOTE>_PERP`` only."""


def parse_symbol(coinalyze_symbol: str) -> Market:
    """The ccxt exchange id and unified symbol of a Coinalyze perpetual, read from the
    symbol text alone (the fallback when no catalog row is at hand): ``BTCUSDT_PERP.A``,
    ``BTCUSD_PERP.A`` (COIN-M), ``BTCUSDT.6`` / ``BTCUSD.6`` / ``BTCPERP.6`` (Bybit
    linear / inverse / USDC), ``BTC.H`` (Hyperliquid), ``BTC-PERPETUAL.2`` /
    ``BTC_USDC-PERPETUAL.2`` (Deribit), ``BTC_USDT.Y`` (Gate), ``pf_xbtusd.K`` (Kraken).
    A :class:`UserError` for anything else (spot, dated futures, unknown code)."""
    text = str(coinalyze_symbol).strip()
    head, dot, code = text.rpartition(".")
    code = code.upper()
    if not dot or not head or len(code) != 1:
        raise UserError(
            f"{coinalyze_symbol!r} is not a Coinalyze perpetual symbol such as BTCUSDT_PERP.A"
        )
    if code not in EXCHANGE_CODES:
        raise _unknown_code(text, code)
    for pattern, kind in _FORMATS.get(code, (_PERP_SUFFIX,)):
        m = re.fullmatch(pattern, head)
        if m:
            return _from_match(text, code, m.groupdict(), kind)
    raise UserError(
        f"{coinalyze_symbol!r}: not a perpetual symbol format of "
        f"{EXCHANGE_CODES[code].name} (dated futures and spot are not supported)"
    )


def _from_match(text: str, code: str, groups: dict[str, str], kind: str) -> Market:
    if kind == "usdc":
        return market_of(text, code, groups["base"], "USDC", False)
    if kind == "usd-linear":
        return market_of(text, code, groups["base"], "USD", False)
    if kind == "usd-inverse":
        return market_of(text, code, groups["base"], "USD", True)
    if "base" in groups and "quote" in groups:
        base, quote = groups["base"], groups["quote"]
    else:
        base, quote = _split_pair(groups["pair"].upper(), text)
    inverse = kind == "inverse" or (kind == "pair" and quote == "USD")
    return market_of(text, code, base, quote, inverse)


def _split_pair(pair: str, text: str) -> tuple[str, str]:
    for quote in (*STABLE_QUOTES, "USD"):
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    raise UserError(f"{text!r}: cannot tell base and quote apart in {pair!r}")


def to_coinalyze(exchange: str, symbol: str) -> str:
    """The Coinalyze symbol of a ccxt (exchange id, unified perpetual symbol) in the venue's
    format (the inverse of :func:`parse_symbol`), e.g. (``okx``, ``BTC/USDT:USDT``) ->
    ``BTCUSDT_PERP.3``, (``hyperliquid``, ``BTC/USDC:USDC``) -> ``BTC.H``."""
    pair, _, settle = symbol.partition(":")
    base, _, quote = pair.partition("/")
    if not base or not quote or not settle or "-" in settle:
        raise UserError(f"{symbol!r} is not a unified perpetual symbol such as BTC/USDT:USDT")
    inverse = settle == base
    for code, venue in EXCHANGE_CODES.items():
        if (venue.inverse if inverse else venue.linear) == exchange:
            return f"{_venue_format(code, venue, base, quote, inverse)}.{code}"
    raise UserError(f"no Coinalyze exchange code for ccxt exchange {exchange!r}")


def _venue_format(code: str, venue: Venue, base: str, quote: str, inverse: bool) -> str:
    wire_quote = "USD" if not inverse and quote == venue.usd_linear_as else quote
    if code == "H":
        return base
    if code == "6":
        return f"{base}PERP" if quote == "USDC" else f"{base}{quote}"
    if code == "2":
        return f"{base}-PERPETUAL" if inverse else f"{base}_{quote}-PERPETUAL"
    if code == "Y":
        return f"{base}_{quote}"
    if code == "7" and inverse:
        return "BTCUSD" if base == "BTC" else f"c{base}USD"
    if code == "K" and not inverse:
        kraken_base = {v: k for k, v in BASE_ALIASES.items()}.get(base, base)
        return f"pf_{kraken_base}{wire_quote}".lower()
    return f"{base}{wire_quote}_PERP"
