"""The perpetuals a Coinalyze pull asks for, chosen from the market catalog.

Each catalog row is mapped to ccxt terms from its fields (exchange code, base and quote
asset, perpetual flag, margin type) and :data:`~helpers.sources.coinalyze.symbols.EXCHANGE_CODES`,
never from the symbol text: ``margined`` ``COIN`` is an inverse contract (``BTC/USD:BTC``),
``STABLE`` a linear one (``BTC/USDT:USDT``; a ``USD`` quote becomes the venue's settle
currency, e.g. Hyperliquid ``BTC/USDC:USDC``). Without ``margined``, a ``USD`` quote is read
as inverse where the venue has inverse perpetuals. Only contracts quoted in USD or a USD
stablecoin are chosen, so every bar can be stated in US dollars.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from helpers.errors import UserError
from helpers.sources.coinalyze.catalog import Catalog, CatalogEntry
from helpers.sources.coinalyze.symbols import (
    BASE_ALIASES,
    EXCHANGE_CODES,
    USD_QUOTES,
    Market,
    market_of,
    parse_symbol,
)

log = logging.getLogger(__name__)


def market_for(entry: CatalogEntry) -> Market | None:
    """The ccxt terms of a catalog row; None when its exchange code is not in the table or
    the venue has no ccxt class for that contract type (skipped, never guessed)."""
    if entry.exchange not in EXCHANGE_CODES:
        return None
    try:
        return market_of(entry.symbol, entry.exchange, entry.base, entry.quote, _inverse(entry))
    except UserError as exc:
        log.debug("coinalyze catalog: %s skipped: %s", entry.symbol, exc)
        return None


def _inverse(entry: CatalogEntry) -> bool:
    if entry.margined in ("COIN", "STABLE"):
        return entry.margined == "COIN"
    return entry.quote == "USD" and EXCHANGE_CODES[entry.exchange].inverse is not None


def select_perpetuals(
    catalog: Catalog, bases: Iterable[str], exchanges: Iterable[str] | None = None
) -> list[Market]:
    """Every perpetual in ``catalog`` on one of ``bases`` (``BTC``; ``XBT`` counts as BTC),
    quoted in USD or a USD stablecoin, on ``exchanges`` (ccxt ids, Coinalyze codes or venue
    names; None: every venue the catalog lists), sorted by (ccxt id, symbol). Rows whose
    exchange code is not in the table are left out and listed in one log line."""
    wanted = {_alias(b) for b in bases}
    venues = _venue_filter(exchanges)
    chosen: dict[tuple[str, str], Market] = {}
    unmapped: Counter[str] = Counter()
    for entry in sorted(catalog.entries, key=lambda e: e.symbol):
        if _alias(entry.base) not in wanted or not entry.perpetual or entry.quote not in USD_QUOTES:
            continue
        if entry.exchange not in EXCHANGE_CODES:
            unmapped[entry.exchange] += 1
            continue
        market = market_for(entry)
        if market is None or (venues is not None and not _on_venue(market, venues)):
            continue
        key = (market.exchange, market.symbol)
        if key in chosen:
            log.warning(
                "coinalyze catalog: %s and %s are both %s %s; keeping %s",
                chosen[key].coinalyze, entry.symbol, *key, chosen[key].coinalyze,
            )  # fmt: skip
            continue
        chosen[key] = market
    if unmapped and venues is None:
        log.info(
            "coinalyze catalog: %d %s perpetuals skipped on exchange codes without a ccxt "
            "mapping: %s",
            sum(unmapped.values()),
            "/".join(sorted(wanted)),
            ", ".join(f"{c} ({catalog.exchange_name(c)})" for c in sorted(unmapped)),
        )
    return sorted(chosen.values(), key=lambda m: (m.exchange, m.symbol))


def _alias(asset: str) -> str:
    asset = asset.strip().upper()
    return BASE_ALIASES.get(asset, asset)


def _venue_names(code: str) -> set[str]:
    v = EXCHANGE_CODES[code]
    return {code.lower(), v.name.lower(), *(x for x in (v.linear, v.inverse) if x)}


def _venue_filter(exchanges: Iterable[str] | None) -> set[str] | None:
    if exchanges is None:
        return None
    asked = {str(x).strip().lower() for x in exchanges if str(x).strip()}
    known = set().union(*(_venue_names(c) for c in EXCHANGE_CODES))
    unknown = sorted(asked - known)
    if unknown:
        names = ", ".join(f"{c} ({v.name})" for c, v in EXCHANGE_CODES.items())
        raise UserError(f"coinalyze: unknown venue(s) {unknown}; known codes: {names}")
    return asked or None


def _on_venue(market: Market, venues: set[str]) -> bool:
    name = EXCHANGE_CODES[market.code].name.lower()
    return bool({market.exchange, market.code.lower(), name} & venues)


def config_bases(config: Any) -> list[str]:
    """The base coins of the config's enabled exchanges' symbols (``BTC/USDT:USDT`` -> BTC),
    in order of first appearance."""
    bases: dict[str, None] = {}
    for ex in config.enabled_exchanges:
        for sym in config.exchange(ex).symbols:
            bases.setdefault(_alias(sym.split("/")[0]), None)
    return list(bases)


def resolve_markets(
    given: Sequence[str],
    settings: Mapping[str, Any],
    config: Any,
    catalog: Catalog | None,
    coins: Sequence[str] = (),
    exchanges: Sequence[str] = (),
) -> dict[str, Market]:
    """Coinalyze symbol -> :class:`Market` of the perpetuals to pull: ``given``, else the
    config's ``vendors.coinalyze.symbols`` (each looked up in ``catalog``, or read with
    :func:`parse_symbol` when it is not there); else every perpetual of ``coins`` (else
    ``vendors.coinalyze.coins``, else the config's base coins) on ``exchanges`` (else
    ``vendors.coinalyze.exchanges``, else every venue the catalog lists)."""
    names = list(given) or _strings(settings.get("symbols"))
    if names:
        return {s: _named(s, catalog) for s in names}
    if catalog is None:
        raise UserError("no Coinalyze symbols: pass --symbols, or read the market catalog")
    bases = list(coins) or _strings(settings.get("coins")) or config_bases(config)
    if not bases:
        raise UserError("no coins to pull from Coinalyze: pass --coins BTC,ETH")
    venues = list(exchanges) or _strings(settings.get("exchanges")) or None
    markets = select_perpetuals(catalog, bases, venues)
    if not markets:
        where = f" on {', '.join(venues)}" if venues else ""
        raise UserError(f"Coinalyze's catalog lists no perpetuals for {', '.join(bases)}{where}")
    return {m.coinalyze: m for m in markets}


def resolve_symbols(
    given: Sequence[str],
    settings: Mapping[str, Any],
    config: Any,
    catalog: Catalog | None = None,
    coins: Sequence[str] = (),
    exchanges: Sequence[str] = (),
) -> list[str]:
    """The Coinalyze symbols :func:`resolve_markets` chooses."""
    return list(resolve_markets(given, settings, config, catalog, coins, exchanges))


def _named(symbol: str, catalog: Catalog | None) -> Market:
    entry = catalog.entry(symbol) if catalog is not None else None
    if entry is None:
        if catalog is not None:
            log.warning("coinalyze: %s is not in the market catalog; mapped from its text", symbol)
        return parse_symbol(symbol)
    if not entry.perpetual:
        raise UserError(f"{symbol}: not a perpetual in Coinalyze's catalog (dated futures)")
    market = market_for(entry)
    if market is None:
        name = catalog.exchange_name(entry.exchange) if catalog else entry.exchange
        raise UserError(f"{symbol}: exchange {entry.exchange} ({name}) has no ccxt mapping")
    return market


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(x).strip() for x in items if str(x).strip()]
