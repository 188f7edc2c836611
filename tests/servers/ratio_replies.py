"""Long/short ratio history as each venue publishes it, for the local venue servers.

Plugged into :class:`~servers.http_venues.BinanceUsdm`,
:class:`~servers.http_venues_more.OkxSwap` and :class:`~servers.http_venues_more.BybitDerivatives`
(one ``plug_*`` call each), and served by :class:`BitgetMix` here (Bitget has no other
server). Shapes follow the venues' API docs (``docs/venue-rules.md``, "Long/short ratio") and
what ccxt 4.5.90 requests and parses (``fetch_long_short_ratio_history`` /
``parse_long_short_ratio`` in ``binance.py``, ``bybit.py``, ``okx.py``, ``bitget.py``):

* Binance ``GET /futures/data/globalLongShortAccountRatio``: a bare list of
  ``{symbol, longShortRatio, longAccount, shortAccount, timestamp}`` with numbers as TEXT,
  ``timestamp`` an integer (COIN-M docs) or text (USD-M docs: ``stamps_as_text``);
  ``startTime``/``endTime`` inclusive, the OLDEST ``limit`` rows of the window (at most 500,
  default 30); only the last ``history_days`` are kept (older windows: ``[]``).
* Bybit ``GET /v5/market/account-ratio``: ``result.list`` of ``{symbol, buyRatio,
  sellRatio, timestamp}`` (all text) NEWEST first, ``startTime``/``endTime`` inclusive,
  ``limit`` 1..500 (default 50), ``nextPageCursor``; ``period`` in Bybit's names (``1h``,
  ``5min``...).
* OKX ``GET /api/v5/rubik/stat/contracts/long-short-account-ratio-contract``: ``data`` of
  ``[ts, ratio]`` text pairs NEWEST first; ``begin``/``end`` EXCLUSIVE; at most 100 rows
  (error 51000 above); ``period`` ``1H``.
* Bitget ``GET /api/v2/mix/market/account-long-short``: ``data`` of ``{longAccountRatio,
  shortAccountRatio, longShortAccountRatio, ts}`` (text), no time parameters at all: the
  venue's LATEST ``latest_rows`` rows, oldest first.

The series (invented): at hour ``i`` since ``first_ms`` the ratio is ``1.5 + 0.01 i``
(Binance), ``2.0 - 0.01 i`` (Bybit), ``1.2 + 0.02 i`` (OKX), ``0.8 + 0.01 i`` (Bitget); the
long share is ``r / (1 + r)`` rounded to 4 places, as venues print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from servers.http_venues import HOUR_MS, HttpVenue, Query

Row = dict[str, Any]
BINANCE_PATH = "/futures/data/globalLongShortAccountRatio"
BYBIT_PATH = "/v5/market/account-ratio"
OKX_PATH = "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract"
BITGET_PATH = "/api/v2/mix/market/account-long-short"


def ratio(venue: str, first_ms: int, t_ms: int) -> float:
    """The invented ratio of ``venue`` at ``t_ms`` (see the module docstring)."""
    i = (t_ms - first_ms) // HOUR_MS
    start, step = {
        "binance": (1.5, 0.01),
        "bybit": (2.0, -0.01),
        "okx": (1.2, 0.02),
        "bitget": (0.8, 0.01),
    }[venue]
    return round(start + step * i, 4)


def long_share(r: float) -> float:
    return round(r / (1 + r), 4)


def _text(x: float) -> str:
    return f"{x:.4f}"


def _int(q: Query, key: str, default: int) -> int:
    value = q.get(key)
    return int(value) if value not in (None, "") else default


def hours(first_ms: int, last_ms: int) -> list[int]:
    return list(range(first_ms, last_ms, HOUR_MS))


# ---- Binance --------------------------------------------------------------------------------


@dataclass
class BinanceRatio:
    first_ms: int
    last_ms: int
    page_cap: int
    stamps_as_text: bool = False
    history_days: int | None = None
    now_ms: int | None = None

    def __call__(self, q: Query) -> list[Row]:
        if q.get("period") != "1h":
            return []
        lo, hi = _int(q, "startTime", 0), _int(q, "endTime", 2**62)
        limit = min(_int(q, "limit", 30), 500, self.page_cap)
        times = hours(self.first_ms, self.last_ms)
        if self.history_days is not None and self.now_ms is not None:
            times = [t for t in times if t >= self.now_ms - self.history_days * 24 * HOUR_MS]
        out = []
        for t in [t for t in times if lo <= t <= hi][:limit]:
            r = ratio("binance", self.first_ms, t)
            out.append(
                {
                    "symbol": q.get("symbol", ""),
                    "longShortRatio": _text(r),
                    "longAccount": _text(long_share(r)),
                    "shortAccount": _text(1 - long_share(r)),
                    "timestamp": str(t) if self.stamps_as_text else t,
                }
            )
        return out


def plug_binance(server: Any, **variant: Any) -> BinanceRatio:
    """Serve Binance's ratio on ``server`` (a :class:`~servers.http_venues.BinanceUsdm`)."""
    handler = BinanceRatio(server.first_ms, server.last_ms, server.page_cap, **variant)
    server.venue.route(BINANCE_PATH, handler)
    return handler


# ---- Bybit ----------------------------------------------------------------------------------


def plug_bybit(server: Any) -> None:
    """Serve Bybit's ratio on ``server`` (a :class:`~servers.http_venues_more.BybitDerivatives`)."""

    def account_ratio(q: Query) -> Row:
        n = _int(q, "limit", 50)
        if not 1 <= n <= 500:
            return server.error("params error: limit must be in [1, 500]")
        if q.get("symbol") != "BTCUSDT" or q.get("period") != "1h":
            return server.ok(q.get("category", ""), [], nextPageCursor="")
        lo, hi = _int(q, "startTime", 0), _int(q, "endTime", 2**62)
        inside = [t for t in hours(server.first_ms, server.last_ms) if lo <= t <= hi]
        page = inside[::-1][: min(n, server.page_cap)]
        rows = []
        for t in page:
            share = long_share(ratio("bybit", server.first_ms, t))
            rows.append(
                {
                    "symbol": "BTCUSDT",
                    "buyRatio": _text(share),
                    "sellRatio": _text(1 - share),
                    "timestamp": str(t),
                }
            )
        more = len(inside) > len(page)
        return server.ok(q["category"], rows, nextPageCursor="next" if more else "")

    server.venue.route(BYBIT_PATH, account_ratio)


# ---- OKX ------------------------------------------------------------------------------------


def plug_okx(server: Any) -> None:
    """Serve OKX's ratio on ``server`` (a :class:`~servers.http_venues_more.OkxSwap`)."""

    def contract_ratio(q: Query) -> Row:
        n = _int(q, "limit", 100)
        if n > 100:
            return server.error("limit")
        if q.get("instId") != "BTC-USDT-SWAP" or q.get("period") != "1H":
            return server.ok([])
        lo, hi = _int(q, "begin", -1) + 1, _int(q, "end", 2**62) - 1
        inside = [t for t in hours(server.first_ms, server.last_ms) if lo <= t <= hi]
        page = inside[::-1][: min(n, server.page_cap)]
        return server.ok([[str(t), _text(ratio("okx", server.first_ms, t))] for t in page])

    server.venue.route(OKX_PATH, contract_ratio)


# ---- Bitget ---------------------------------------------------------------------------------


def bitget_contract(symbol: str, base: str, quote: str = "USDT") -> Row:
    """One ``GET /api/v2/mix/market/contracts?productType=USDT-FUTURES`` entry."""
    return {
        "symbol": symbol,
        "baseCoin": base,
        "quoteCoin": quote,
        "buyLimitPriceRatio": "0.01",
        "sellLimitPriceRatio": "0.01",
        "feeRateUpRatio": "0.005",
        "makerFeeRate": "0.0002",
        "takerFeeRate": "0.0006",
        "openCostUpRatio": "0.01",
        "supportMarginCoins": [quote],
        "minTradeNum": "0.001",
        "priceEndStep": "1",
        "volumePlace": "3",
        "pricePlace": "1",
        "sizeMultiplier": "0.001",
        "symbolType": "perpetual",
        "minTradeUSDT": "5",
        "maxSymbolOrderNum": "200",
        "maxProductOrderNum": "400",
        "maxPositionNum": "150",
        "symbolStatus": "normal",
        "offTime": "-1",
        "limitOpenTime": "-1",
        "deliveryTime": "",
        "deliveryStartTime": "",
        "launchTime": "",
        "fundInterval": "8",
        "minLever": "1",
        "maxLever": "125",
        "posLimit": "0.05",
        "maintainTime": "",
    }


@dataclass
class BitgetMix:
    """Bitget USDT-M futures (BTCUSDT only) serving its account long/short ratio: the latest
    ``latest_rows`` hourly rows up to ``last_ms``, whatever is asked."""

    first_ms: int
    last_ms: int
    latest_rows: int = 30
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        v = self.venue
        v.route("/api/v2/mix/market/contracts", self.contracts)
        v.route("/api/v2/spot/public/coins", lambda q: self.ok([]))
        v.route(BITGET_PATH, self.account_long_short)

    def ccxt_options(self) -> dict[str, Any]:
        base = self.venue.base_url
        keys = ("spot", "mix", "user", "p2p", "broker", "margin", "common", "tax", "convert",
                "copy", "earn", "uta")  # fmt: skip
        return {
            "urls": {"api": {k: base for k in keys}},
            "options": {"fetchMarkets": {"types": ["swap"]}},
            "has": {"fetchCurrencies": False},
        }

    def ok(self, data: Any) -> Row:
        return {"code": "00000", "msg": "success", "requestTime": self.last_ms, "data": data}

    def contracts(self, q: Query) -> Row:
        usdt = q.get("productType") == "USDT-FUTURES"
        return self.ok([bitget_contract("BTCUSDT", "BTC")] if usdt else [])

    def account_long_short(self, q: Query) -> Row:
        if q.get("symbol") != "BTCUSDT" or q.get("period", "5m") != "1h":
            return self.ok([])
        rows = []
        for t in hours(self.first_ms, self.last_ms)[-self.latest_rows :]:
            r = ratio("bitget", self.first_ms, t)
            rows.append(
                {
                    "longAccountRatio": _text(long_share(r)),
                    "shortAccountRatio": _text(1 - long_share(r)),
                    "longShortAccountRatio": _text(r),
                    "ts": str(t),
                }
            )
        return self.ok(rows)
