"""Turn ccxt liquidation dicts (and raw stream frames) into canonical ``liquidations`` rows.

ccxt 4.5 passes each venue's side field through unchanged, drops ``contractSize`` in most
liquidation parsers (so ``baseValue``/``quoteValue`` are often None) and has no inverse
branch. This package therefore ignores ccxt's unified ``side``/``baseValue``/``quoteValue``
and reads the raw ``info`` of each item with the venue's rule (the table, with sources, is
``docs/venue-rules.md``). The rule's facts (wire format, which field carries the side and
whether it is the ORDER or the POSITION side, unit contract sizes) are the venue's entry in
:data:`helpers.sources.venue_rules.VENUES`:

* ``side`` is the liquidated POSITION (``long`` = a forced sell, ``short`` = a forced buy).
* ``amount`` is in BASE units. Quantities given in contracts are multiplied by the market's
  ``contractSize``; for an inverse contract the size is in USD, so
  ``notional_usd = contracts * contractSize`` and ``amount = notional_usd / price``.
* ``notional_usd = amount * price`` for linear contracts quoted in USD or a USD stablecoin
  (USDT, USDC... counted at 1 USD); NaN for any other quote.
* ``event_id`` is the venue's id when it has one, else a hash of the raw fields, so the same
  event seen twice (a re-fetched page, a stream replay) has the same key.

A row that cannot be normalised (unknown venue, missing side field, no contract size, no
timestamp) keeps ``side`` None and NaN numbers rather than a guess; the store's ``write``
then quarantines it with the reason.

Modules, along the path of a record: :mod:`.formats` (one parser per wire format, raw
``info`` -> :class:`Event`), :mod:`.records` (raw-field readers, the side conventions),
:mod:`.symbols` (unified symbols from market ids), :mod:`.units` (contracts -> base units
and USD), :mod:`.rows` (events -> canonical rows), :mod:`.streams` (raw websocket frames).
"""

from helpers.sources.normalize.formats import VERIFIED_VENUES, Rule, venue_rule
from helpers.sources.normalize.records import Event, raw_hash
from helpers.sources.normalize.rows import events_to_frame, normalize_liquidations
from helpers.sources.normalize.streams import (
    normalize_raw_binance_force_order,
    normalize_raw_bybit_liquidation,
    normalize_raw_okx_liquidation,
)
from helpers.sources.normalize.symbols import binance_symbol, hyperliquid_symbol
from helpers.sources.normalize.units import (
    USD_QUOTES,
    Contract,
    Market,
    Markets,
    base_and_usd,
    contract_info,
)

__all__ = [
    "USD_QUOTES",
    "VERIFIED_VENUES",
    "Contract",
    "Event",
    "Market",
    "Markets",
    "Rule",
    "base_and_usd",
    "binance_symbol",
    "contract_info",
    "events_to_frame",
    "hyperliquid_symbol",
    "normalize_liquidations",
    "normalize_raw_binance_force_order",
    "normalize_raw_bybit_liquidation",
    "normalize_raw_okx_liquidation",
    "raw_hash",
    "venue_rule",
]
