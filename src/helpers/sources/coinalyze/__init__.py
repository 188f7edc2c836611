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

Coinalyze symbols map to ccxt ids and unified symbols with :data:`EXCHANGE_CODES`:
``{BASE}{QUOTE}_PERP.{code}`` is a perpetual (Bybit's perpetuals have no ``_PERP``);
a USD quote is an inverse (coin-margined) contract settled in the base coin, a stablecoin
quote is linear.

| code | venue | linear (USDT/USDC) ccxt id | inverse (USD) ccxt id |
|---|---|---|---|
| ``A`` | Binance | ``binanceusdm`` | ``binancecoinm`` |
| ``6`` | Bybit | ``bybit`` | ``bybit`` |
| ``3`` | OKX | ``okx`` | ``okx`` |
| ``0`` | BitMEX | ``bitmex`` | ``bitmex`` |
| ``2`` | Deribit | ``deribit`` | ``deribit`` |
| ``4`` | Huobi / HTX | ``htx`` | ``htx`` |
| ``Y`` | Gate.io | ``gate`` | ``gate`` |
| ``K`` | Kraken | ``krakenfutures`` | ``krakenfutures`` |
| ``7`` | Phemex | ``phemex`` | ``phemex`` |
| ``F`` | Bitfinex | ``bitfinex`` | -- |
| ``H`` | Hyperliquid | ``hyperliquid`` (USD -> USDC) | -- |

For example ``BTCUSDT_PERP.A`` -> (``binanceusdm``, ``BTC/USDT:USDT``), ``BTCUSD_PERP.A`` ->
(``binancecoinm``, ``BTC/USD:BTC``), ``ETHUSDT.6`` -> (``bybit``, ``ETH/USDT:USDT``).
Two points rest on third-party descriptions of the API rather than a recorded response and
are worth checking against a live key: Bybit perpetuals without ``_PERP``, and funding in
percent.

The package: :mod:`~helpers.sources.coinalyze.symbols` (the table above),
:mod:`~helpers.sources.coinalyze.client` (requests, call budget, retention horizon) and
:mod:`~helpers.sources.coinalyze.tables` (the canonical tables). Requests go through
:class:`~helpers.sources.http.JsonClient`, the HTTP client the vendor clients share
(Coinalyze, Tardis, CoinGecko).
"""

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
from helpers.sources.coinalyze.symbols import (
    EXCHANGE_CODES,
    STABLE_QUOTES,
    Market,
    Venue,
    parse_symbol,
    resolve_symbols,
    to_coinalyze,
)
from helpers.sources.coinalyze.tables import (
    SOURCE,
    SOURCE_APPROX,
    TABLES,
    bars_frame,
    funding,
    liquidation_bars,
    ohlcv_closes,
    open_interest,
)
from helpers.sources.http import JsonClient

__all__ = [
    "API_KEY_ENV",
    "BASE_URL",
    "CALLS_PER_MINUTE",
    "EXCHANGE_CODES",
    "INTERVALS",
    "INTRADAY_POINTS_KEPT",
    "MAX_SYMBOLS_PER_REQUEST",
    "POINTS_PER_REQUEST",
    "SOURCE",
    "SOURCE_APPROX",
    "STABLE_QUOTES",
    "TABLES",
    "CallBudget",
    "Coinalyze",
    "JsonClient",
    "Market",
    "Venue",
    "bars_frame",
    "check_retention",
    "funding",
    "liquidation_bars",
    "ohlcv_closes",
    "open_interest",
    "parse_symbol",
    "resolve_symbols",
    "to_coinalyze",
]
