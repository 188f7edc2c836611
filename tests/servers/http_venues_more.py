"""Local HTTP servers speaking OKX, Bybit, Hyperliquid, HTX and Bitfinex REST formats.

The shapes follow what ccxt 4.5.90 requests and parses (``okx.py`` fetch_markets_by_type /
fetch_ohlcv / fetch_funding_rate_history / fetch_open_interest_history, ``bybit.py``
fetch_future_markets / fetch_ohlcv / fetch_funding_rate_history /
fetch_derivatives_open_interest_history, ``hyperliquid.py`` fetch_swap_markets /
fetch_ohlcv / fetch_funding_rate_history, ``htx.py`` fetch_markets_by_type_and_sub_type /
fetch_liquidations, ``bitfinex.py`` fetch_markets / fetch_ohlcv /
fetch_funding_rate_history / fetch_open_interest_history / fetch_liquidations) and the
venues' API docs; the numbers are invented. What each server does with a time window is
what the venue documents:

* OKX: ``before``/``after`` (``begin``/``end`` on rubik statistics) are EXCLUSIVE bounds,
  rows come newest first and a window holding more than ``limit`` rows returns its NEWEST
  ones; ``before`` alone returns the latest rows whatever it says. Maxima: 300 candles,
  100 funding records, 100 statistics rows (error 51000 above them).
* Bybit: ``start``/``end`` (``startTime``/``endTime``) inclusive, lists newest first, the
  newest ``limit`` rows of the window. Maxima: 1000 klines, 200 funding records, 200
  open-interest rows (retCode 10001 above them).
* Hyperliquid: ``POST /info`` with a JSON body; ``candleSnapshot`` and ``fundingHistory``
  return the OLDEST rows from ``startTime`` on (inclusive ``endTime``), at most 5000
  candles / 500 funding records a response.
* HTX: liquidation queries span at most 2 hours (``end_time - start_time``, error 1067
  beyond), rows newest first; linear v5 takes ``limit`` (at most 100), coin-margined v3
  has no ``limit`` and returns a fixed page.
* Bitfinex: ``start``/``end`` inclusive; ``sort=1`` oldest first, otherwise newest first;
  ``liquidations/hist`` lists every market's liquidations (there is no symbol filter),
  each position twice (the trigger and the market execution, same ``MTS``).

Error bodies and the exact behaviour for an out-of-range argument are this module's
stand-ins (each venue documents the limit, not always the reply). ``page_cap`` lowers
every venue's page size so that tests page with few rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from servers.http_venues import HOUR_MS, HttpVenue, Query

Row = dict[str, Any]


# ---- shared ---------------------------------------------------------------------------------


class JsonPostVenue(HttpVenue):
    """An :class:`HttpVenue` that also reads a JSON request body: its fields are merged
    into the query the route handler gets and the request log records."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        self._local.body = json.loads(raw) if raw else {}
        super()._answer(h)

    def _payload(self, path: str, query: Query) -> Any:
        query.update(getattr(self._local, "body", {}))
        return super()._payload(path, query)


@dataclass(frozen=True)
class Tape:
    """Hourly bars of one instrument over ``[first_ms, last_ms)``: the bar opening at
    ``t`` opens at ``open0 + step * i`` (i = hours since ``first_ms``), closes at the next
    bar's open, high = close + 5, low = open - 5."""

    first_ms: int
    last_ms: int
    open0: float
    step: float = 10.0

    def open(self, t_ms: int) -> float:
        return self.open0 + self.step * (t_ms - self.first_ms) / HOUR_MS

    def close(self, t_ms: int) -> float:
        return self.open(t_ms + HOUR_MS)

    def high(self, t_ms: int) -> float:
        return self.close(t_ms) + 5.0

    def low(self, t_ms: int) -> float:
        return self.open(t_ms) - 5.0

    def hours(self) -> list[int]:
        return list(range(self.first_ms, self.last_ms, HOUR_MS))

    def every(self, hours: int, offset_ms: int = 0) -> list[int]:
        return list(range(self.first_ms + offset_ms, self.last_ms, hours * HOUR_MS))


def in_window(times: Iterable[int], lo: float, hi: float) -> list[int]:
    """``times`` with ``lo <= t <= hi``, ascending."""
    return sorted(t for t in times if lo <= t <= hi)


def newest(times: Iterable[int], lo: float, hi: float, n: int) -> list[int]:
    """The newest ``n`` of ``times`` within ``[lo, hi]``, newest first."""
    return in_window(times, lo, hi)[::-1][:n]


def oldest(times: Iterable[int], lo: float, hi: float, n: int) -> list[int]:
    """The oldest ``n`` of ``times`` within ``[lo, hi]``, oldest first."""
    return in_window(times, lo, hi)[:n]


def _num(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".")


def _int(q: Query, key: str, default: float) -> float:
    value = q.get(key)
    return int(value) if value not in (None, "") else default


# ---- OKX ------------------------------------------------------------------------------------


def okx_instrument(inst_id: str, ct_val: str, ct_val_ccy: str) -> Row:
    """One ``GET /api/v5/public/instruments?instType=SWAP`` entry."""
    base, quote, _ = inst_id.split("-")
    settle = base if quote == "USD" else quote
    return {
        "alias": "",
        "baseCcy": "",
        "category": "1",
        "ctMult": "1",
        "ctType": "inverse" if quote == "USD" else "linear",
        "ctVal": ct_val,
        "ctValCcy": ct_val_ccy,
        "expTime": "",
        "instFamily": f"{base}-{quote}",
        "instId": inst_id,
        "instType": "SWAP",
        "lever": "100",
        "listTime": "1611916828000",
        "lotSz": "1",
        "maxLmtSz": "100000000",
        "maxMktSz": "10000",
        "minSz": "1",
        "optType": "",
        "quoteCcy": "",
        "settleCcy": settle,
        "state": "live",
        "stk": "",
        "tickSz": "0.1",
        "uly": f"{base}-{quote}",
    }


OKX_INSTRUMENTS = [
    okx_instrument("BTC-USD-SWAP", "100", "USD"),
    okx_instrument("ETH-USD-SWAP", "10", "USD"),
    okx_instrument("BTC-USDC-SWAP", "0.0001", "BTC"),
    okx_instrument("BTC-USDT-SWAP", "0.01", "BTC"),
    okx_instrument("ETH-USDT-SWAP", "0.1", "ETH"),
]
"""Inverse swaps listed first, then USDC- and USDT-margined ones side by side, so that a base
coin resolved to the first BTC swap listed would not be the USDT perpetual."""
OKX_MAX = {"candles": 300, "funding": 100, "rubik": 100}


@dataclass
class OkxSwap:
    """OKX perpetual swaps over ``[first_ms, last_ms)``.

    BTC-USDT-SWAP (linear, 0.01 BTC a contract) opens at ``42000 + 10 i``, BTC-USD-SWAP
    (inverse, 100 USD a contract) at ``41900 + 10 i``; BTC-USDC-SWAP (0.0001 BTC a contract)
    serves funding only, ``realizedRate`` 0.00003. Candles: ``vol`` 1,000 contracts,
    ``volCcy`` the base volume (10 BTC linear). Funding every 8 h: ``realizedRate``
    ``0.0001 * (1 + k % 3)`` linear and ``-0.00005 * (k + 1)`` inverse, ``fundingRate``
    (the predicted rate) 0.00002 above it. Hourly open interest: linear ``200000 + 100 i``
    contracts, inverse ``30000 + 10 i`` contracts, ``oiUsd`` their USD value at the open."""

    first_ms: int
    last_ms: int
    page_cap: int = 10
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        self.tapes = {
            "BTC-USDT-SWAP": Tape(self.first_ms, self.last_ms, 42000.0),
            "BTC-USD-SWAP": Tape(self.first_ms, self.last_ms, 41900.0),
        }
        v = self.venue
        self.funding_only = {"BTC-USDC-SWAP": Tape(self.first_ms, self.last_ms, 42050.0)}
        v.route("/api/v5/public/instruments", self.instruments)
        v.route("/api/v5/market/candles", self.candles)
        v.route("/api/v5/market/history-candles", self.candles)
        v.route("/api/v5/public/funding-rate-history", self.funding)
        v.route("/api/v5/rubik/stat/contracts/open-interest-history", self.open_interest)

    def ccxt_options(self) -> dict[str, Any]:
        return {
            "urls": {"api": {"rest": self.venue.base_url}},
            "options": {"fetchMarkets": {"types": ["swap"]}},
        }

    @staticmethod
    def ok(data: Any) -> Row:
        return {"code": "0", "msg": "", "data": data}

    @staticmethod
    def error(param: str) -> Row:
        return {"code": "51000", "msg": f"Parameter {param} error", "data": []}

    def _limit(self, q: Query, maximum: int) -> int | None:
        n = int(q.get("limit", 100))
        return None if n > maximum else min(n, self.page_cap)

    def _newest(self, q: Query, times: list[int], lo_key: str, hi_key: str, n: int) -> list[int]:
        """OKX bounds are exclusive; ``lo_key`` alone gives the latest rows."""
        lo = _int(q, lo_key, -1) + 1
        hi = _int(q, hi_key, 2**62) - 1
        if hi_key not in q and lo_key in q:
            return newest(times, -1, 2**62, n)
        return newest(times, lo, hi, n)

    def instruments(self, q: Query) -> Row:
        return self.ok(OKX_INSTRUMENTS if q.get("instType") == "SWAP" else [])

    def candles(self, q: Query) -> Row:
        n = self._limit(q, OKX_MAX["candles"])
        if n is None:
            return self.error("limit")
        inst = q["instId"]
        tape = self.tapes.get(inst)
        if tape is None or q.get("bar") != "1H":
            return self.ok([])
        ct_val = 0.01 if inst == "BTC-USDT-SWAP" else None
        out = []
        for t in self._newest(q, tape.hours(), "before", "after", n):
            o, c = tape.open(t), tape.close(t)
            base = 1000 * ct_val if ct_val else 1000 * 100 / c
            out.append(
                [str(t), _num(o), _num(tape.high(t)), _num(tape.low(t)), _num(c), "1000",
                 _num(base), _num(base * c), "1"]
            )  # fmt: skip
        return self.ok(out)

    def realized_rate(self, inst: str, t_ms: int) -> float:
        k = (t_ms - self.first_ms) // (8 * HOUR_MS)
        if inst == "BTC-USDC-SWAP":
            return 0.00003
        return 0.0001 * (1 + k % 3) if inst == "BTC-USDT-SWAP" else -0.00005 * (k + 1)

    def funding(self, q: Query) -> Row:
        n = self._limit(q, OKX_MAX["funding"])
        if n is None:
            return self.error("limit")
        inst = q["instId"]
        tape = self.tapes.get(inst) or self.funding_only.get(inst)
        times = tape.every(8) if tape else []
        return self.ok(
            [
                {
                    "formulaType": "withRate",
                    "fundingRate": _num(self.realized_rate(inst, t) + 0.00002),
                    "fundingTime": str(t),
                    "instId": inst,
                    "instType": "SWAP",
                    "method": "current_period",
                    "realizedRate": _num(self.realized_rate(inst, t)),
                }
                for t in self._newest(q, times, "before", "after", n)
            ]
        )

    def oi_contracts(self, inst: str, t_ms: int) -> float:
        i = (t_ms - self.first_ms) // HOUR_MS
        return 200000.0 + 100 * i if inst == "BTC-USDT-SWAP" else 30000.0 + 10 * i

    def oi_usd(self, inst: str, t_ms: int) -> float:
        contracts = self.oi_contracts(inst, t_ms)
        if inst == "BTC-USDT-SWAP":
            return contracts * 0.01 * self.tapes[inst].open(t_ms)
        return contracts * 100

    def open_interest(self, q: Query) -> Row:
        n = self._limit(q, OKX_MAX["rubik"])
        if n is None:
            return self.error("limit")
        inst = q["instId"]
        tape = self.tapes.get(inst)
        if tape is None or q.get("period") != "1H":
            return self.ok([])
        out = []
        for t in self._newest(q, tape.hours(), "begin", "end", n):
            contracts, usd = self.oi_contracts(inst, t), self.oi_usd(inst, t)
            out.append([str(t), _num(contracts), _num(usd / tape.open(t)), _num(usd)])
        return self.ok(out)


# ---- Bybit ----------------------------------------------------------------------------------


def bybit_instrument(symbol: str, category: str, quote: str | None = None) -> Row:
    """One ``GET /v5/market/instruments-info`` ``result.list`` entry; ``quote`` of a linear
    one (and its settle coin): USDT unless given (``BTCPERP`` is USDC)."""
    linear = category == "linear"
    base = symbol[:3]
    quote = quote or ("USDT" if linear else "USD")
    return {
        "symbol": symbol,
        "contractType": "LinearPerpetual" if linear else "InversePerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": quote,
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.50", "maxPrice": "1999999.00", "tickSize": "0.50"},
        "lotSizeFilter": (
            {
                "maxOrderQty": "190.000",
                "minOrderQty": "0.001",
                "qtyStep": "0.001",
                "postOnlyMaxOrderQty": "1000.000",
                "minNotionalValue": "5",
            }
            if linear
            else {"maxOrderQty": "1000000", "minOrderQty": "1", "qtyStep": "1"}
        ),  # fmt: skip
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": quote if linear else base,
        "copyTrading": "both",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
    }


BYBIT_MAX = {"kline": 1000, "funding": 200, "open_interest": 200}


@dataclass
class BybitDerivatives:
    """Bybit V5 over ``[first_ms, last_ms)``: BTCUSDT (linear) opens at ``43000 + 10 i``,
    BTCUSD (inverse, 1 USD a contract) at ``42900 + 10 i``. Klines: linear ``volume`` 12.5
    BTC, inverse ``turnover`` 2.5 BTC (ccxt's base volume for each). Funding every 8 h at
    ``0.0001 * (1 + k % 3)`` (inverse: negated). Hourly open interest: linear
    ``5000 + i`` BTC (Bybit gives base units), inverse ``300,000,000 + 1000 i`` USD.
    ``missing_bars`` (open times) are left out of the klines (a venue outage).

    Linear markets list the USDC perpetual BTCPERP before BTCUSDT (Bybit lists both; it
    serves funding only, at 0.00003), so a base coin resolved to the first BTC perpetual
    listed would not be the USDT one."""

    first_ms: int
    last_ms: int
    page_cap: int = 10
    missing_bars: set[int] = field(default_factory=set)
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        self.tapes = {
            "BTCUSDT": Tape(self.first_ms, self.last_ms, 43000.0),
            "BTCUSD": Tape(self.first_ms, self.last_ms, 42900.0),
        }
        v = self.venue
        v.route("/v5/market/instruments-info", self.instruments)
        v.route("/v5/market/kline", self.kline)
        v.route("/v5/market/funding/history", self.funding)
        v.route("/v5/market/open-interest", self.open_interest)

    def ccxt_options(self) -> dict[str, Any]:
        base = self.venue.base_url
        return {
            "urls": {"api": {k: base for k in ("spot", "futures", "v2", "public", "private")}},
            "options": {"fetchMarkets": {"types": ["linear", "inverse"]}},
        }

    def ok(self, category: str, rows: list[Any], **extra: Any) -> Row:
        return {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"category": category, "list": rows, **extra},
            "retExtInfo": {},
            "time": self.last_ms,
        }

    @staticmethod
    def error(message: str) -> Row:
        return {"retCode": 10001, "retMsg": message, "result": {}, "retExtInfo": {}, "time": 0}

    def _window(self, q: Query, times: list[int], lo: str, hi: str, what: str) -> list[int] | Row:
        n = int(q.get("limit", 200))
        if not 1 <= n <= BYBIT_MAX[what]:
            return self.error(f"params error: limit must be in [1, {BYBIT_MAX[what]}]")
        return newest(times, _int(q, lo, 0), _int(q, hi, 2**62), min(n, self.page_cap))

    def instruments(self, q: Query) -> Row:
        category = q.get("category", "")
        if q.get("status") == "PreLaunch":
            return self.ok(category, [], nextPageCursor="")
        symbols = {"linear": ["BTCPERP", "BTCUSDT", "ETHUSDT"], "inverse": ["BTCUSD", "ETHUSD"]}
        rows = [
            bybit_instrument(s, category, "USDC" if s.endswith("PERP") else None)
            for s in symbols.get(category, [])
        ]
        return self.ok(category, rows, nextPageCursor="")

    def kline(self, q: Query) -> Row:
        tape = self.tapes.get(q["symbol"])
        hours = [t for t in tape.hours() if t not in self.missing_bars] if tape else []
        times = self._window(q, hours, "start", "end", "kline")
        if isinstance(times, dict):
            return times
        linear = q["category"] == "linear"
        out = []
        for t in times if tape and q.get("interval") == "60" else []:
            o, c = tape.open(t), tape.close(t)
            volume, turnover = (12.5, 12.5 * o) if linear else (2.5 * o, 2.5)
            out.append(
                [str(t), _num(o), _num(tape.high(t)), _num(tape.low(t)), _num(c),
                 _num(volume), _num(turnover)]
            )  # fmt: skip
        return self.ok(q["category"], out, symbol=q["symbol"])

    def rate(self, symbol: str, t_ms: int) -> float:
        k = (t_ms - self.first_ms) // (8 * HOUR_MS)
        r = 0.0001 * (1 + k % 3)
        if symbol == "BTCPERP":
            return 0.00003
        return r if symbol == "BTCUSDT" else -r

    def funding(self, q: Query) -> Row:
        tape = self.tapes.get(q["symbol"])
        if q["symbol"] == "BTCPERP":
            tape = Tape(self.first_ms, self.last_ms, 43050.0)
        if "startTime" in q and "endTime" not in q:
            return self.error("params error: endTime is required with startTime")
        times = self._window(q, tape.every(8) if tape else [], "startTime", "endTime", "funding")
        if isinstance(times, dict):
            return times
        rows = [
            {
                "symbol": q["symbol"],
                "fundingRate": _num(self.rate(q["symbol"], t)),
                "fundingRateTimestamp": str(t),
            }
            for t in times
        ]
        return self.ok(q["category"], rows)

    def oi(self, symbol: str, t_ms: int) -> float:
        i = (t_ms - self.first_ms) // HOUR_MS
        return 5000.0 + i if symbol == "BTCUSDT" else 300_000_000.0 + 1000 * i

    def open_interest(self, q: Query) -> Row:
        tape = self.tapes.get(q["symbol"])
        hours = tape.hours() if tape and q.get("intervalTime") == "1h" else []
        times = self._window(q, hours, "startTime", "endTime", "open_interest")
        if isinstance(times, dict):
            return times
        rows = [
            {"openInterest": f"{self.oi(q['symbol'], t):.8f}", "timestamp": str(t)} for t in times
        ]
        return self.ok(q["category"], rows, symbol=q["symbol"], nextPageCursor="")


# ---- Hyperliquid ----------------------------------------------------------------------------

HYPERLIQUID_MAX = {"candleSnapshot": 5000, "fundingHistory": 500}
FUNDING_OFFSET_MS = 31
"""Hyperliquid stamps hourly funding a few milliseconds after the hour."""


@dataclass
class Hyperliquid:
    """Hyperliquid perpetuals (BTC, ETH; USDC-settled, 1 coin a contract) over
    ``[first_ms, last_ms)``: BTC opens at ``42500 + 10 i``, volume 7.5 BTC a bar; funding
    every hour at ``t + 31 ms``, ``0.0000125 * (1 + j % 4)`` (j = hours since
    ``first_ms``). Responses hold at most ``min(page_cap, venue maximum)`` rows."""

    first_ms: int
    last_ms: int
    page_cap: int = 10
    venue: HttpVenue = field(default_factory=JsonPostVenue)

    def __post_init__(self) -> None:
        self.tapes = {"BTC": Tape(self.first_ms, self.last_ms, 42500.0)}
        self.venue.route("/info", self.info)

    def ccxt_options(self) -> dict[str, Any]:
        base = self.venue.base_url
        return {
            "urls": {"api": {"public": base, "private": base}},
            "options": {"fetchMarkets": {"types": ["swap"]}},
        }

    def info(self, q: Query) -> Any:
        handlers: dict[str, Callable[[Query], Any]] = {
            "spotMeta": self.spot_meta,
            "metaAndAssetCtxs": self.meta_and_asset_ctxs,
            "candleSnapshot": self.candle_snapshot,
            "fundingHistory": self.funding_history,
        }
        handler = handlers.get(str(q.get("type")))
        return handler(q) if handler else {"status": "err", "response": "unknown type"}

    @staticmethod
    def spot_meta(q: Query) -> Row:
        usdc = {
            "name": "USDC",
            "szDecimals": 8,
            "weiDecimals": 8,
            "index": 0,
            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
            "isCanonical": True,
            "evmContract": None,
            "fullName": None,
        }
        return {"universe": [], "tokens": [usdc]}

    def meta_and_asset_ctxs(self, q: Query) -> list[Any]:
        universe = [
            {"szDecimals": 5, "name": "BTC", "maxLeverage": 40, "marginTableId": 56},
            {"szDecimals": 4, "name": "ETH", "maxLeverage": 25, "marginTableId": 55},
        ]
        ctx = {
            "funding": "0.0000125",
            "openInterest": "10764.48",
            "prevDayPx": "42000.0",
            "dayNtlVlm": "9450588.2273",
            "premium": "0.00055561",
            "oraclePx": "42500.0",
            "markPx": "42510.0",
            "midPx": "42505.0",
            "impactPxs": ["42504.0", "42506.0"],
            "dayBaseVlm": "222.2",
        }
        return [{"universe": universe}, [ctx, {**ctx, "markPx": "2300.0"}]]

    def _cap(self, kind: str) -> int:
        return min(self.page_cap, HYPERLIQUID_MAX[kind])

    def candle_snapshot(self, q: Query) -> list[Row]:
        req = q.get("req", {})
        tape = self.tapes.get(req.get("coin"))
        if tape is None or req.get("interval") != "1h":
            return []
        times = oldest(tape.hours(), req["startTime"], req["endTime"], self._cap("candleSnapshot"))
        return [
            {
                "t": t,
                "T": t + HOUR_MS - 1,
                "s": req["coin"],
                "i": "1h",
                "o": _num(tape.open(t)),
                "c": _num(tape.close(t)),
                "h": _num(tape.high(t)),
                "l": _num(tape.low(t)),
                "v": "7.5",
                "n": 120,
            }
            for t in times
        ]

    def funding_rate(self, t_ms: int) -> float:
        return 0.0000125 * (1 + ((t_ms - self.first_ms) // HOUR_MS) % 4)

    def funding_history(self, q: Query) -> list[Row]:
        tape = self.tapes.get(q.get("coin"))
        if tape is None:
            return []
        times = tape.every(1, FUNDING_OFFSET_MS)
        hi = q.get("endTime", 2**62)
        return [
            {
                "coin": q["coin"],
                "fundingRate": _num(self.funding_rate(t)),
                "premium": "0.0001",
                "time": t,
            }
            for t in oldest(times, q["startTime"], hi, self._cap("fundingHistory"))
        ]


# ---- HTX ------------------------------------------------------------------------------------

HTX_MAX_WINDOW_MS = 2 * HOUR_MS
HTX_MAX_LIMIT = 100


def htx_contract(code: str, size: float, linear: bool, delivery: str | None = None) -> Row:
    """One ``swap_contract_info`` / ``contract_contract_info`` entry (linear entries carry
    ``business_type``; an inverse future carries ``delivery_date``)."""
    row: Row = {
        "symbol": code.split("-")[0][:3],
        "contract_code": code,
        "contract_size": size,
        "price_tick": 0.1,
        "create_date": "20200325",
        "contract_status": 1,
        "settlement_date": "1704096000000",
    }
    if linear:
        row.update(
            business_type="swap",
            pair=code,
            contract_type="swap",
            trade_partition="USDT",
            support_margin_mode="all",
        )
    if delivery:
        row.update(contract_type="quarter", delivery_date=delivery, delivery_time="1711699200000")
    return row


@dataclass
class HtxLiquidations:
    """HTX contracts and their public liquidation orders.

    Markets: linear BTC-USDT (0.001 BTC a contract), ETH-USDT (0.01); coin-margined swaps
    BTC-USD (100 USD a contract), ETH-USD (10 USD); one coin-margined future (ccxt loads the
    inverse futures list with the swaps and refuses an empty one).
    ``linear[code]`` holds v5 rows (``liquidation_time`` ms, ``position_side``, ``side``,
    ``volume`` contracts, ``bankrupt_price``, ``id``); ``inverse[code]`` holds v3 rows
    (``created_at`` ms, ``direction``, ``volume`` contracts, ``price``, ``query_id``). A
    query spanning more than 2 hours, or v5 ``limit`` above 100, is refused (code 1067).
    v3 pages hold ``page_cap`` rows (it takes no ``limit``)."""

    linear: dict[str, list[Row]] = field(default_factory=dict)
    inverse: dict[str, list[Row]] = field(default_factory=dict)
    page_cap: int = 100
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        v = self.venue
        v.route("/v2/reference/currencies", lambda q: {"code": 200, "data": []})
        v.route(
            "/linear-swap-api/v1/swap_contract_info",
            lambda q: self.ok(
                [htx_contract("BTC-USDT", 0.001, True), htx_contract("ETH-USDT", 0.01, True)]
            ),
        )
        v.route(
            "/swap-api/v1/swap_contract_info",
            lambda q: self.ok(
                [htx_contract("BTC-USD", 100, False), htx_contract("ETH-USD", 10, False)]
            ),
        )
        v.route(
            "/api/v1/contract_contract_info",
            lambda q: self.ok([htx_contract("BTC240329", 100, False, "20240329")]),
        )
        v.route("/v5/market/liquidation_orders", self.linear_orders)
        v.route("/swap-api/v3/swap_liquidation_orders", self.inverse_orders)

    def ccxt_options(self) -> dict[str, Any]:
        base = self.venue.base_url
        keys = ("status", "contract", "spot", "public", "private", "v2Public", "v2Private")
        return {
            "urls": {"api": {k: base for k in keys}},
            "options": {"fetchMarkets": {"types": {"spot": False}}},
        }

    @staticmethod
    def ok(data: list[Row]) -> Row:
        return {"status": "ok", "data": data, "ts": 1704067200000}

    @staticmethod
    def error(field_name: str) -> Row:
        return {
            "code": 1067,
            "message": f"The {field_name} field is invalid. Please re-enter.",
            "data": None,
            "ts": 1704067200000,
        }

    def _window(self, q: Query) -> tuple[int, int] | None:
        hi = int(q["end_time"])
        lo = int(q.get("start_time", hi - HTX_MAX_WINDOW_MS))
        return (lo, hi) if 0 <= hi - lo <= HTX_MAX_WINDOW_MS else None

    def linear_orders(self, q: Query) -> Row:
        window = self._window(q)
        if window is None:
            return self.error("start_time")
        limit = int(q.get("limit", HTX_MAX_LIMIT))
        if not 1 <= limit <= HTX_MAX_LIMIT:
            return self.error("limit")
        rows = self.linear.get(q.get("contract_code", ""), [])
        by_time = {int(r["liquidation_time"]): r for r in rows}
        times = newest(by_time, *window, min(limit, self.page_cap))
        return {"code": 200, "message": "Success", "data": [by_time[t] for t in times], "ts": 0}

    def inverse_orders(self, q: Query) -> Row:
        window = self._window(q)
        if window is None:
            return self.error("start_time")
        rows = self.inverse.get(q.get("contract", ""), [])
        by_time = {int(r["created_at"]): r for r in rows}
        times = newest(by_time, *window, self.page_cap)
        return {"code": 200, "msg": "", "data": [by_time[t] for t in times], "ts": 0}


# ---- Bitfinex -------------------------------------------------------------------------------

BITFINEX_PAIRS_CONFIG = (
    "pub:info:pair,pub:info:pair:futures,pub:list:pair:securities,pub:list:pair:margin"
)
BITFINEX_CURRENCIES_CONFIG = (
    "pub:list:currency,pub:map:currency:sym,pub:map:currency:label,pub:map:currency:unit,"
    "pub:map:currency:undl,pub:map:currency:pool,pub:map:currency:explorer,"
    "pub:map:currency:tx:fee,pub:map:tx:method,pub:info:tx:status,pub:list:currency:margin"
)
BITFINEX_STATUS_DEFAULT_LIMIT = 100
BITFINEX_STATUS_MAX_LIMIT = 5000
BITFINEX_SNAPSHOT_OFFSET_MS = 15_000
"""Derivatives status snapshots are not on the hour: these come 15 s after it."""


def bitfinex_status_row(
    mts: int, mark: float, current_funding: float, open_interest: float
) -> list[Any]:
    """One ``GET /v2/status/deriv/{key}/hist`` row (23 fields, ``MTS`` first, no key)."""
    return [
        mts, None, mark + 1.5, mark - 2.0, None, 37671589.78, None, mts + 8 * HOUR_MS,
        0.00001, 12, None, current_funding, None, None, mark, None, None, open_interest,
        None, None, None, 0.0005, 0.0025,
    ]  # fmt: skip


@dataclass
class BitfinexDerivatives:
    """Bitfinex perpetuals ``tBTCF0:USTF0`` and ``tETHF0:USTF0`` (ccxt ``BTC/USDT:USDT``,
    1 coin a contract) over ``[first_ms, last_ms)``.

    Candles ``[MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]``: BTC opens at ``41000 + 10 i``, volume
    3.5. Derivatives status snapshots every hour at ``t + 15 s``: ``CURRENT_FUNDING``
    ``0.00001 * (1 + j % 5)``, ``OPEN_INTEREST`` ``800 + j`` BTC, mark = the bar's open.
    ``liquidations`` holds raw ``liquidations/hist`` entries of every market."""

    first_ms: int
    last_ms: int
    liquidations: list[list[Any]] = field(default_factory=list)
    page_cap: int = 10
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        self.tapes = {"tBTCF0:USTF0": Tape(self.first_ms, self.last_ms, 41000.0)}
        v = self.venue
        v.route(f"/v2/conf/{BITFINEX_PAIRS_CONFIG}", self.pairs)
        v.route(f"/v2/conf/{BITFINEX_CURRENCIES_CONFIG}", self.currencies)
        for key in ("tBTCF0:USTF0", "tETHF0:USTF0"):
            v.route(f"/v2/candles/trade:1h:{key}/hist", lambda q, k=key: self.candles(k, q))
            v.route(f"/v2/status/deriv/{key}/hist", lambda q, k=key: self.status(k, q))
        v.route("/v2/liquidations/hist", self.liquidations_hist)

    def ccxt_options(self) -> dict[str, Any]:
        base = self.venue.base_url
        return {"urls": {"api": {"v1": base, "public": base, "private": base}}}

    @staticmethod
    def pairs(q: Query) -> list[Any]:
        info = [None, None, None, "0.0002", "100.0", None, None, None, 0.01, 0.005]
        futures = [
            ["BTCF0:USTF0", info],
            ["ETHF0:USTF0", [*info[:3], "0.002", "1000.0", *info[5:]]],
        ]
        return [[], futures, [], []]

    @staticmethod
    def currencies(q: Query) -> list[Any]:
        undl = [["USTF0", "UST"], ["BTCF0", "BTC"], ["ETHF0", "ETH"]]
        return [["BTC", "ETH", "UST", "USTF0", "BTCF0", "ETHF0"], [["UST", "USDt"]], [], [],
                undl, [], [], [], [], [], []]  # fmt: skip

    def _page(
        self, q: Query, times: list[int], default_limit: int, maximum: int
    ) -> tuple[list[int], list[Any] | None]:
        """(the times of the page, None) or ([], the venue's error reply)."""
        limit = int(q.get("limit", default_limit))
        if not 1 <= limit <= maximum:
            return [], ["error", 10020, "limit: invalid"]
        lo, hi = _int(q, "start", 0), _int(q, "end", 2**62)
        pick = oldest if q.get("sort") == "1" else newest
        return pick(times, lo, hi, min(limit, self.page_cap)), None

    def candles(self, key: str, q: Query) -> list[Any]:
        tape = self.tapes.get(key)
        times, error = self._page(q, tape.hours() if tape else [], 100, 10000)
        if error or tape is None:
            return error or []
        return [[t, tape.open(t), tape.close(t), tape.high(t), tape.low(t), 3.5] for t in times]

    def snapshot_times(self, key: str) -> list[int]:
        tape = self.tapes.get(key)
        return tape.every(1, BITFINEX_SNAPSHOT_OFFSET_MS) if tape else []

    def current_funding(self, t_ms: int) -> float:
        return 0.00001 * (1 + ((t_ms - self.first_ms) // HOUR_MS) % 5)

    def open_interest(self, t_ms: int) -> float:
        return 800.0 + (t_ms - self.first_ms) // HOUR_MS

    def status(self, key: str, q: Query) -> list[Any]:
        times, error = self._page(
            q, self.snapshot_times(key), BITFINEX_STATUS_DEFAULT_LIMIT, BITFINEX_STATUS_MAX_LIMIT
        )
        if error:
            return error
        tape = self.tapes[key]
        return [
            bitfinex_status_row(
                t, tape.open(t - t % HOUR_MS), self.current_funding(t), self.open_interest(t)
            )
            for t in times
        ]

    def liquidations_hist(self, q: Query) -> Any:
        by_index = dict(enumerate(self.liquidations))
        order = sorted(by_index, key=lambda i: (by_index[i][2], i))
        lo, hi = _int(q, "start", 0), _int(q, "end", 2**62)
        inside = [i for i in order if lo <= by_index[i][2] <= hi]
        if q.get("sort") != "1":
            inside.reverse()
        limit = int(q.get("limit", 100))
        if not 1 <= limit <= 500:
            return ["error", 10020, "limit: invalid"]
        return [[by_index[i]] for i in inside[: min(limit, self.page_cap)]]


def bitfinex_liquidation(
    pos_id: int, mts: int, key: str, amount: float, base_price: float, liq_price: float,
    is_match: int,
) -> list[Any]:  # fmt: skip
    """One ``liquidations/hist`` entry: ``["pos", POS_ID, MTS, _, SYMBOL, AMOUNT,
    BASE_PRICE, _, IS_MATCH, IS_MARKET_SOLD, _, LIQUIDATION_PRICE]`` (AMOUNT: the
    position, positive = long)."""
    return [
        "pos", pos_id, mts, None, key, amount, base_price, None, is_match, is_match, None,
        liq_price,
    ]  # fmt: skip
