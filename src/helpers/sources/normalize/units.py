"""Unit conversion of a liquidation's size: contracts to BASE units and US dollars.

Linear: ``amount = contracts * contractSize`` (base units), ``notional_usd = amount * price``.
Inverse: the contract size is in USD, ``notional_usd = contracts * contractSize`` and
``amount = notional_usd / price``. USD stablecoins count as 1 USD; any other quote gives
``notional_usd`` NaN. Without ``exchange.markets`` the contract size is the venue's
:attr:`~helpers.sources.venue_rules.VenueQuirks.linear_contract_size` or
:attr:`~helpers.sources.venue_rules.VenueQuirks.inverse_contract_usd`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpers.sources.normalize.records import nan_if_missing
from helpers.sources.venue_rules import quirks

USD_QUOTES = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USDE", "DAI", "UST"})

Market = Mapping[str, Any]
Markets = Mapping[str, Market]


@dataclass(frozen=True)
class Contract:
    """What unit conversion needs from a market."""

    base: str | None
    quote: str | None
    inverse: bool
    contract_size: float | None


def base_and_usd(
    contracts: float | None, price: float | None, contract: Contract
) -> tuple[float, float]:
    """(amount in base units, notional in USD) of ``contracts`` filled at ``price``.

    Linear: ``amount = contracts * contractSize``, ``notional = amount * price`` (NaN unless
    the quote is USD or a USD stablecoin). Inverse: ``notional = contracts * contractSize``
    (the contract size is in USD), ``amount = notional / price``. NaN when an input is missing.
    """
    n = nan_if_missing(contracts)
    p = nan_if_missing(price)
    size = nan_if_missing(contract.contract_size)
    n = abs(n)
    if contract.inverse:
        usd = n * size if contract.quote in USD_QUOTES else math.nan
        amount = usd / p if p > 0 else math.nan
        return amount, usd
    amount = n * size
    usd = amount * p if contract.quote in USD_QUOTES else math.nan
    return amount, usd


def contract_info(exchange_id: str, symbol: str | None, markets: Markets | None) -> Contract:
    """Base, quote, inverse flag and contract size for ``symbol`` from ``markets``; without
    the market, parsed from the unified symbol with the venue's unit contract size (its
    ``linear_contract_size`` / ``inverse_contract_usd`` in
    :data:`~helpers.sources.venue_rules.VENUES`)."""
    market = (markets or {}).get(symbol) if symbol else None
    if market is not None:
        size = market.get("contractSize")
        return Contract(
            base=market.get("base"),
            quote=market.get("quote"),
            inverse=bool(market.get("inverse")),
            contract_size=float(size) if size is not None else None,
        )
    base, quote, settle = _split_symbol(symbol)
    inverse = settle is not None and settle == base
    venue = quirks(exchange_id)
    size = venue.inverse_contract_usd if inverse else venue.linear_contract_size
    return Contract(base, quote, inverse, size)


def _split_symbol(symbol: str | None) -> tuple[str | None, str | None, str | None]:
    if not symbol or "/" not in symbol:
        return None, None, None
    pair, _, rest = symbol.partition(":")
    base, _, quote = pair.partition("/")
    settle = rest.split("-")[0] if rest else None
    return base or None, quote or None, settle or None
