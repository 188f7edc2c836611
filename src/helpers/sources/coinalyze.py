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

This module also holds :class:`JsonClient`, the HTTP client the vendor clients share
(Coinalyze, Tardis, CoinGecko).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers import schema
from helpers.errors import UserError
from helpers.sources.http import JsonClient
from helpers.timegrid import INTERVAL_SECONDS

log = logging.getLogger(__name__)

SOURCE = "coinalyze"
SOURCE_APPROX = "coinalyze (approx USD = base x close)"
"""``source`` of bars converted from base units with the bar's close price."""

BASE_URL = "https://api.coinalyze.net/v1"
API_KEY_ENV = "COINALYZE_API_KEY"
MAX_SYMBOLS_PER_REQUEST = 20
CALLS_PER_MINUTE = 40
INTRADAY_POINTS_KEPT = 1500
"""Coinalyze keeps ~1,500-2,000 intraday points; the lower figure is the safe horizon."""
POINTS_PER_REQUEST = 1000

INTERVALS: dict[str, str] = {
    "1m": "1min",
    "5m": "5min",
    "15m": "15min",
    "1h": "1hour",
    "4h": "4hour",
    "1d": "daily",
}
"""Canonical interval -> Coinalyze interval name."""


# ---- symbols ------------------------------------------------------------------------------


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


# ---- rate limit ---------------------------------------------------------------------------


class CallBudget:
    """A sliding one-minute window of API calls: :meth:`spend` blocks until ``n`` more calls
    fit under ``per_minute``. ``clock``/``sleep`` are injectable so the window is testable."""

    def __init__(
        self,
        per_minute: int = CALLS_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self._spent: deque[float] = deque()

    def spend(self, n: int) -> float:
        """Record ``n`` calls, first waiting as long as needed; returns seconds waited."""
        if not 1 <= n <= self.per_minute:
            raise ValueError(f"cannot spend {n} calls with a budget of {self.per_minute}")
        waited = 0.0
        while True:
            now = self.clock()
            while self._spent and self._spent[0] <= now - 60.0:
                self._spent.popleft()
            if len(self._spent) + n <= self.per_minute:
                self._spent.extend([now] * n)
                return waited
            wait = self._spent[len(self._spent) + n - self.per_minute - 1] + 60.0 - now
            wait = max(wait, 0.01)
            self.sleep(wait)
            waited += wait


# ---- client -------------------------------------------------------------------------------


class Coinalyze:
    """A Coinalyze API client: history endpoints, batched and rate-limited."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = BASE_URL,
        budget: CallBudget | None = None,
        http: JsonClient | None = None,
    ) -> None:
        if not api_key:
            raise UserError(
                f"Coinalyze needs an API key: set the {API_KEY_ENV} environment variable "
                "(free at coinalyze.net)"
            )
        self.base_url = base_url.rstrip("/")
        self.budget = budget or CallBudget()
        self.http = http or JsonClient("coinalyze")
        if api_key not in self.http.secrets:
            self.http.secrets = (*self.http.secrets, api_key)
        self._headers = {"api_key": api_key}

    def history(
        self,
        endpoint: str,
        symbols: Sequence[str],
        interval: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        **params: str,
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(symbol, history entries) for every symbol, ``start <= t < end`` (UTC), fetched in
        windows of at most :data:`POINTS_PER_REQUEST` bars and batches of 20 symbols."""
        step = INTERVAL_SECONDS[interval]
        lo, hi = _epoch_s(start), _epoch_s(end)
        window = POINTS_PER_REQUEST * step
        for batch in _batches(list(symbols), MAX_SYMBOLS_PER_REQUEST):
            for w_lo in range(lo, hi, window):
                w_hi = min(w_lo + window, hi) - 1
                self.budget.spend(len(batch))
                query = {
                    "symbols": ",".join(batch),
                    "interval": INTERVALS[interval],
                    "from": str(w_lo),
                    "to": str(w_hi),
                    **params,
                }
                body = self.http.get_json(
                    f"{self.base_url}/{endpoint}", params=query, headers=self._headers
                )
                for sym, entries in _parse_history(body, endpoint):
                    yield sym, [e for e in entries if lo <= e["t"] < hi]


def _parse_history(body: Any, endpoint: str) -> list[tuple[str, list[dict[str, Any]]]]:
    if not isinstance(body, list):
        raise UserError(f"coinalyze {endpoint}: expected a JSON list, got {type(body).__name__}")
    out = []
    for item in body:
        if not isinstance(item, dict) or "symbol" not in item:
            raise UserError(f"coinalyze {endpoint}: an entry has no 'symbol'")
        entries = item.get("history") or []
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("t"), int | float) for e in entries
        ):
            raise UserError(f"coinalyze {endpoint}: malformed history for {item['symbol']}")
        out.append((str(item["symbol"]), entries))
    return out


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _epoch_s(t: pd.Timestamp) -> int:
    return int(pd.Timestamp(t).timestamp())


def check_retention(interval: str, start: pd.Timestamp, now: pd.Timestamp | None = None) -> bool:
    """False (and a warning) when an intraday request starts before the ~1,500 most recent
    bars Coinalyze keeps: older bars will not come back and stay missing."""
    if interval == "1d":
        return True
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    horizon = now - pd.Timedelta(seconds=INTRADAY_POINTS_KEPT * INTERVAL_SECONDS[interval])
    if start < horizon:
        log.warning(
            "coinalyze keeps only the last ~%d %s bars (since about %s); earlier bars will be "
            "missing",
            INTRADAY_POINTS_KEPT,
            interval,
            horizon.strftime("%Y-%m-%d %H:%M UTC"),
        )
        return False
    return True


# ---- to canonical tables ------------------------------------------------------------------


def liquidation_bars(
    client: Coinalyze,
    symbols: Sequence[str],
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    usd: bool = True,
) -> pd.DataFrame:
    """``liquidation_bars`` of the Coinalyze ``symbols``: USD from ``convert_to_usd=true``;
    with ``usd=False`` base units times the bar's close (approximate, :data:`SOURCE_APPROX`).
    Bars Coinalyze does not return stay missing (no row)."""
    markets = {s: parse_symbol(s) for s in symbols}
    params = {"convert_to_usd": "true" if usd else "false"}
    rows = []
    for sym, entries in client.history(
        "liquidation-history", list(markets), interval, start, end, **params
    ):
        for e in entries:
            rows.append({"coinalyze": sym, "t": e["t"], "long": e.get("l"), "short": e.get("s")})
    df = pd.DataFrame(rows, columns=["coinalyze", "t", "long", "short"])
    source = SOURCE
    if not usd and len(df):
        closes = ohlcv_closes(client, list(markets), interval, start, end)
        df = df.merge(closes, on=["coinalyze", "t"], how="left")
        df["long"] = pd.to_numeric(df["long"]) * df["close"]
        df["short"] = pd.to_numeric(df["short"]) * df["close"]
        no_close = df["close"].isna()
        if no_close.any():
            log.warning("coinalyze: %d bars without a close price dropped", int(no_close.sum()))
            df = df[~no_close]
        source = SOURCE_APPROX
    return bars_frame(df, markets, interval, source)


def bars_frame(
    df: pd.DataFrame, markets: dict[str, Market], interval: str, source: str
) -> pd.DataFrame:
    """Canonical ``liquidation_bars`` from columns ``coinalyze``, ``t`` (bar open, UNIX s),
    ``long``/``short`` (US dollars); counts are unknown (NA)."""
    if df.empty:
        return schema.empty("liquidation_bars")
    m = df["coinalyze"].map(markets)
    out = pd.DataFrame(
        {
            "ts": pd.to_datetime(df["t"].astype("int64"), unit="s", utc=True),
            "interval": interval,
            "exchange": [x.exchange for x in m],
            "symbol": [x.symbol for x in m],
            "base": [x.base for x in m],
            "long_usd": pd.to_numeric(df["long"], errors="coerce").astype("float64"),
            "short_usd": pd.to_numeric(df["short"], errors="coerce").astype("float64"),
            "long_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "short_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "source": source,
        }
    )
    return out.reset_index(drop=True)


def ohlcv_closes(
    client: Coinalyze,
    symbols: Sequence[str],
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Columns ``coinalyze``, ``t``, ``close`` (quote currency) from ``/ohlcv-history``."""
    rows = [
        {"coinalyze": sym, "t": e["t"], "close": e.get("c")}
        for sym, entries in client.history("ohlcv-history", symbols, interval, start, end)
        for e in entries
    ]
    out = pd.DataFrame(rows, columns=["coinalyze", "t", "close"])
    out["close"] = pd.to_numeric(out["close"], errors="coerce")
    return out


def open_interest(
    client: Coinalyze,
    symbols: Sequence[str],
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """``open_interest`` in US dollars (``convert_to_usd=true``): the bar's open at ``ts``."""
    markets = {s: parse_symbol(s) for s in symbols}
    rows = [
        {"ts": e["t"], "coinalyze": sym, "oi_usd": e.get("o")}
        for sym, entries in client.history(
            "open-interest-history", list(markets), interval, start, end, convert_to_usd="true"
        )
        for e in entries
    ]
    return _point_frame(rows, markets, "open_interest", "oi_usd", scale=1.0)


def funding(
    client: Coinalyze,
    symbols: Sequence[str],
    interval: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """``funding`` as a fraction per funding period: Coinalyze's percent / 100, the bar's open
    at ``ts`` (a sample of the current rate, not necessarily a settlement)."""
    markets = {s: parse_symbol(s) for s in symbols}
    rows = [
        {"ts": e["t"], "coinalyze": sym, "rate": e.get("o")}
        for sym, entries in client.history(
            "funding-rate-history", list(markets), interval, start, end
        )
        for e in entries
    ]
    return _point_frame(rows, markets, "funding", "rate", scale=0.01)


def _point_frame(
    rows: list[dict[str, Any]], markets: dict[str, Market], table: str, col: str, scale: float
) -> pd.DataFrame:
    if not rows:
        return schema.empty(table)
    df = pd.DataFrame(rows)
    m = df["coinalyze"].map(markets)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(df["ts"].astype("int64"), unit="s", utc=True),
            "exchange": [x.exchange for x in m],
            "symbol": [x.symbol for x in m],
            col: pd.to_numeric(df[col], errors="coerce").astype("float64") * scale,
            "source": SOURCE,
        }
    )


# ---- command ------------------------------------------------------------------------------

TABLES = ("liquidation_bars", "open_interest", "funding")


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
