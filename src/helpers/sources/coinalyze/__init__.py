"""Coinalyze aggregated history: liquidations, open interest and funding per venue and symbol.

API facts this client follows (https://api.coinalyze.net/v1/doc/):

* The key goes in an ``api_key`` HTTP header, read from the ``COINALYZE_API_KEY`` environment
  variable only; it is never logged or printed.
* ``from``/``to`` are UNIX SECONDS, both inclusive; ``interval`` is one of ``1min 5min 15min
  30min 1hour 2hour 4hour 6hour 12hour daily``.
* Up to 20 symbols per request and each symbol counts as one call; about 40 calls a minute
  per key, which :class:`CallBudget` enforces on the client side.
* Values are in BASE units unless ``convert_to_usd=true``. This client asks for USD. With
  ``usd=False`` it asks for base units and converts them with the close price of the same bar
  (``/ohlcv-history``); such rows are approximate and their ``source`` says so
  (:data:`SOURCE_APPROX`).
* Intraday intervals keep only the last ~1,500-2,000 points; a request reaching further back
  is warned about and the bars that do not come back stay missing (no row), never zero.

Responses are ``[{"symbol": ..., "history": [{"t": <bar open, s>, ...}]}]``: liquidations
``l`` (longs liquidated) and ``s`` (shorts liquidated); open interest and funding as bar OHLC
``o h l c``. Stored: ``liquidation_bars`` (counts unknown -> NA), ``open_interest``
(``oi_usd`` = the bar's OPEN, i.e. the open interest at ``ts``) and ``funding`` (``rate`` =
the bar's open funding rate; Coinalyze quotes funding in PERCENT, stored as a fraction).

Which perpetuals to pull comes from Coinalyze's market catalog (``/future-markets``, with
``/exchanges`` for the venue names), cached for 24 h in ``<data_dir>/_state/``
(:mod:`~helpers.sources.coinalyze.catalog`). Each row is mapped to a ccxt exchange id and
unified symbol from its exchange code, base and quote asset, perpetual flag and margin type
(:mod:`~helpers.sources.coinalyze.selection`), not from the symbol text, because symbols
do not share one format across venues:

| code | venue | ccxt ids (linear / inverse) | perpetual symbols seen |
|---|---|---|---|
| ``A`` | Binance | ``binanceusdm`` / ``binancecoinm`` | ``BTCUSDT_PERP.A``, ``BTCUSD_PERP.A`` |
| ``6`` | Bybit | ``bybit`` / ``bybit`` | ``BTCUSDT.6``, ``BTCUSD.6``, ``BTCPERP.6`` (USDC) |
| ``3`` | OKX | ``okx`` / ``okx`` | ``BTCUSDT_PERP.3``, ``BTCUSD_PERP.3`` |
| ``H`` | Hyperliquid | ``hyperliquid`` (USD -> USDC) / -- | ``BTC.H`` |
| ``2`` | Deribit | ``deribit`` / ``deribit`` | ``BTC_USDC-PERPETUAL.2``, ``BTC-PERPETUAL.2`` |
| ``0`` | BitMEX | ``bitmex`` / ``bitmex`` | ``BTCUSDT_PERP.0``, ``BTCUSD_PERP.0`` |
| ``4`` | Huobi / HTX | ``htx`` / ``htx`` | ``BTCUSDT_PERP.4``, ``BTCUSD_PERP.4`` |
| ``Y`` | Gate.io | ``gate`` / ``gate`` | ``BTC_USDT.Y``, ``BTC_USD.Y`` |
| ``K`` | Kraken | ``krakenfutures`` / ``krakenfutures`` | ``pf_xbtusd.K``, ``BTCUSD_PERP.K`` |
| ``7`` | Phemex | ``phemex`` / ``phemex`` | ``BTCUSD.7``, ``cETHUSD.7`` |
| ``F`` | Bitfinex | ``bitfinex`` / -- | ``BTCUSDT_PERP.F`` |

Rows on other codes (dYdX ``8``, WOO X ``W``, Coinbase ``C``...) are skipped and listed in a
log line. :func:`select_perpetuals` chooses every perpetual of the requested coins quoted in
USD or a USD stablecoin, so ``fetch-coinalyze --coins BTC,ETH`` pulls BTC and ETH on every
venue Coinalyze lists, Binance USD-M and COIN-M alike. :func:`parse_symbol` reads the same
formats from the text alone, for CSV exports that come without a catalog.

The package: :mod:`~helpers.sources.coinalyze.symbols` (the table above),
:mod:`~helpers.sources.coinalyze.catalog`, :mod:`~helpers.sources.coinalyze.selection`,
:mod:`~helpers.sources.coinalyze.client` (requests, call budget, retention horizon) and
:mod:`~helpers.sources.coinalyze.tables` (the canonical tables). Requests go through
:class:`~helpers.sources.http.JsonClient`, the HTTP client the vendor clients share
(Coinalyze, Tardis, CoinGecko).
"""

from helpers.sources.coinalyze.catalog import (
    CATALOG_FILE,
    DEFAULT_MAX_AGE,
    Catalog,
    CatalogEntry,
    catalog_max_age,
    catalog_path,
    load_catalog,
    parse_catalog,
)
from helpers.sources.coinalyze.client import (
    API_KEY_ENV,
    BASE_URL,
    CALLS_PER_MINUTE,
    INTERVALS,
    INTRADAY_POINTS_KEPT,
    MAX_SYMBOLS_PER_REQUEST,
    POINTS_PER_REQUEST,
    CallBudget,
    Coinalyze,
    check_retention,
)
from helpers.sources.coinalyze.selection import (
    market_for,
    resolve_markets,
    resolve_symbols,
    select_perpetuals,
)
from helpers.sources.coinalyze.symbols import (
    EXCHANGE_CODES,
    STABLE_QUOTES,
    USD_QUOTES,
    Market,
    Venue,
    parse_symbol,
    to_coinalyze,
)
from helpers.sources.coinalyze.tables import (
    SOURCE,
    SOURCE_APPROX,
    TABLES,
    bars_frame,
    funding,
    liquidation_bars,
    market_map,
    ohlcv_closes,
    open_interest,
)
from helpers.sources.http import JsonClient

__all__ = [
    "API_KEY_ENV",
    "BASE_URL",
    "CALLS_PER_MINUTE",
    "CATALOG_FILE",
    "DEFAULT_MAX_AGE",
    "EXCHANGE_CODES",
    "INTERVALS",
    "INTRADAY_POINTS_KEPT",
    "MAX_SYMBOLS_PER_REQUEST",
    "POINTS_PER_REQUEST",
    "SOURCE",
    "SOURCE_APPROX",
    "STABLE_QUOTES",
    "TABLES",
    "USD_QUOTES",
    "CallBudget",
    "Catalog",
    "CatalogEntry",
    "Coinalyze",
    "JsonClient",
    "Market",
    "Venue",
    "bars_frame",
    "catalog_max_age",
    "catalog_path",
    "check_retention",
    "funding",
    "liquidation_bars",
    "load_catalog",
    "market_for",
    "market_map",
    "ohlcv_closes",
    "open_interest",
    "parse_catalog",
    "parse_symbol",
    "resolve_markets",
    "resolve_symbols",
    "select_perpetuals",
    "to_coinalyze",
]
