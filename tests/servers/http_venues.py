"""Local HTTP servers speaking Binance USD-M and Gate futures REST formats, for ccxt tests.

The payload shapes follow the venues' API docs and the sample responses in ccxt 4.5's
parsers (``binance.py`` fetch_markets/parse_ohlcv/parse_funding_rate_history/
parse_open_interest, ``gate.py`` parse_contract_market/parse_liquidation); the numbers are
invented. Each server records the requests it answered and can inject faults: an HTTP
status (429, 418, 5xx), a stall longer than the client's timeout, an HTML page or truncated
JSON with HTTP 200, or a venue's own answer (a :class:`~servers.rate_limit_replies.Reply`:
status, JSON body and headers).

Point ccxt at a server through the sources config::

    exchanges:
      binanceusdm:
        ccxt: {urls: {api: {fapiPublic: <base>/fapi/v1, fapiData: <base>/futures/data}}}
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from servers.rate_limit_replies import Reply

HOUR_MS = 3_600_000
Query = dict[str, str]
Handler = Callable[[Query], Any]

HTML_PAGE = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>"


@dataclass
class Request:
    method: str
    path: str
    query: Query


@dataclass
class HttpVenue:
    """A threaded HTTP server with JSON routes, a request log and a fault queue per path."""

    routes: dict[str, Handler] = field(default_factory=dict)
    faults: dict[str, deque[Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    stall_seconds: float = 1.0
    _server: ThreadingHTTPServer | None = None

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def fail(self, path: str, *faults: Any) -> None:
        """Answer the next requests to ``path`` with ``faults`` in order: an int status,
        ``"timeout"`` (stall), ``"html"`` or ``"truncated"`` (HTTP 200 junk), a
        :class:`Reply`, or ``None`` (the normal answer)."""
        self.faults.setdefault(path, deque()).extend(faults)

    def fail_always(self, path: str, fault: Any) -> None:
        self.faults[path] = _Forever(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def hits(self, path: str) -> list[Query]:
        return [r.query for r in self.requests if r.path == path]

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> HttpVenue:
        venue = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                venue._answer(self)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> HttpVenue:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.requests.append(Request(h.command, parts.path, query))
        queue = self.faults.get(parts.path)
        fault = queue.popleft() if queue else None
        try:
            if fault == "timeout":
                time.sleep(self.stall_seconds)
                self._send(h, 200, "application/json", "[]")
            elif fault == "html":
                self._send(h, 200, "text/html", HTML_PAGE)
            elif fault == "truncated":
                body = json.dumps(self._payload(parts.path, query))
                self._send(h, 200, "application/json", body[: max(1, len(body) // 2)])
            elif isinstance(fault, Reply):
                self._send(h, fault.status, fault.content_type, fault.text(), fault.headers)
            elif isinstance(fault, int):
                error = {"msg": f"injected HTTP {fault}"}
                if fault in (418, 429):
                    error = {"code": -1003, "msg": "Too many requests; injected"}
                body = json.dumps(error)
                self._send(h, fault, "application/json", body)
            elif parts.path in self.routes:
                self._send(h, 200, "application/json", json.dumps(self._payload(parts.path, query)))
            else:
                self._send(h, 404, "application/json", json.dumps({"msg": "not found"}))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _payload(self, path: str, query: Query) -> Any:
        return self.routes[path](query) if path in self.routes else {}

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        ctype: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode()
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


class _Forever(deque):
    """A fault queue that never empties."""

    def __init__(self, fault: Any) -> None:
        super().__init__([fault])
        self.fault = fault

    def popleft(self) -> Any:
        return self.fault


# ---- Binance USD-M -------------------------------------------------------------------------


def binance_symbol_info(symbol: str, base: str, quote: str = "USDT") -> dict[str, Any]:
    """One entry of ``GET /fapi/v1/exchangeInfo`` ``symbols``."""
    return {
        "symbol": symbol,
        "pair": symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": quote,
        "marginAsset": quote,
        "pricePrecision": 2,
        "quantityPrecision": 3,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "triggerProtect": "0.0500",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.10",
                "maxPrice": "4529764",
                "tickSize": "0.10",
            },
            {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000", "minQty": "0.001"},
            {
                "filterType": "MARKET_LOT_SIZE",
                "stepSize": "0.001",
                "maxQty": "120",
                "minQty": "0.001",
            },
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


@dataclass
class BinanceUsdm:
    """Binance USD-M futures market data for one symbol over ``[first_ms, last_ms)``.

    Hourly bars open at ``price(i) = 40000 + 10 * i`` (i = hours since ``first_ms``), close at
    the next bar's open; ``missing_bars`` are left out (a venue outage). Funding every 8 h at
    ``0.0001 * (1 + k % 3)``; hourly open interest ``1000 + i`` BTC valued at the bar open.
    Each response returns at most ``page_cap`` rows (forcing the client to page).

    ``exchangeInfo`` lists the USDC-margined ``BTCUSDC`` first, then ``symbol_id``, as
    Binance USD-M lists both: a base coin (``BTC``) must still resolve to the USDT perpetual.
    Every listed market serves the same series."""

    first_ms: int
    last_ms: int
    symbol_id: str = "BTCUSDT"
    page_cap: int = 10
    also_listed: tuple[tuple[str, str, str], ...] = (("BTCUSDC", "BTC", "USDC"),)
    missing_bars: set[int] = field(default_factory=set)
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        v = self.venue
        v.route("/fapi/v1/exchangeInfo", self.exchange_info)
        v.route("/fapi/v1/klines", self.klines)
        v.route("/fapi/v1/fundingRate", self.funding)
        v.route("/futures/data/openInterestHist", self.open_interest)

    def ccxt_options(self) -> dict[str, Any]:
        base = self.venue.base_url
        return {
            "urls": {
                "api": {
                    "fapiPublic": f"{base}/fapi/v1",
                    "fapiPublicV2": f"{base}/fapi/v2",
                    "fapiPublicV3": f"{base}/fapi/v3",
                    "fapiData": f"{base}/futures/data",
                }
            },
            "options": {"fetchMarkets": {"types": ["linear"]}},
        }

    def price(self, t_ms: int) -> float:
        return 40000.0 + 10.0 * (t_ms - self.first_ms) / HOUR_MS

    def bar_times(self) -> list[int]:
        return [
            t for t in range(self.first_ms, self.last_ms, HOUR_MS) if t not in self.missing_bars
        ]

    def exchange_info(self, q: Query) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": self.last_ms,
            "futuresType": "U_MARGINED",
            "rateLimits": [],
            "exchangeFilters": [],
            "assets": [],
            "symbols": [
                *(binance_symbol_info(*m) for m in self.also_listed if m[0] != self.symbol_id),
                binance_symbol_info(self.symbol_id, "BTC"),
            ],
        }

    def _window(self, q: Query, times: list[int]) -> list[int]:
        start = int(q.get("startTime", self.first_ms))
        end = int(q.get("endTime", self.last_ms))
        limit = min(int(q.get("limit", 500)), self.page_cap)
        return [t for t in times if start <= t <= end][:limit]

    def klines(self, q: Query) -> list[list[Any]]:
        out = []
        for t in self._window(q, self.bar_times()):
            o, c = self.price(t), self.price(t + HOUR_MS)
            out.append(
                [
                    t,
                    f"{o:.1f}",
                    f"{c + 5:.1f}",
                    f"{o - 5:.1f}",
                    f"{c:.1f}",
                    "12.500",
                    t + HOUR_MS - 1,
                    "500000.0",
                    100,
                    "6.0",
                    "240000.0",
                    "0",
                ]
            )
        return out

    def funding_times(self) -> list[int]:
        return list(range(self.first_ms, self.last_ms, 8 * HOUR_MS))

    def funding_rate(self, t_ms: int) -> float:
        k = (t_ms - self.first_ms) // (8 * HOUR_MS)
        return 0.0001 * (1 + k % 3)

    def funding(self, q: Query) -> list[dict[str, Any]]:
        return [
            {
                "symbol": q.get("symbol", self.symbol_id),
                "fundingTime": t,
                "fundingRate": f"{self.funding_rate(t):.8f}",
                "markPrice": f"{self.price(t):.2f}",
            }
            for t in self._window(q, self.funding_times())
        ]

    def oi_amount(self, t_ms: int) -> float:
        return 1000.0 + (t_ms - self.first_ms) / HOUR_MS

    def open_interest(self, q: Query) -> list[dict[str, Any]]:
        times = list(range(self.first_ms, self.last_ms, HOUR_MS))
        return [
            {
                "symbol": q.get("symbol", self.symbol_id),
                "sumOpenInterest": f"{self.oi_amount(t):.3f}",
                "sumOpenInterestValue": f"{self.oi_amount(t) * self.price(t):.2f}",
                "CMCCirculatingSupply": "0",
                "timestamp": t,
            }
            for t in self._window(q, times)
        ]


# ---- Gate futures --------------------------------------------------------------------------


def gate_contract(name: str, multiplier: str, mark: str) -> dict[str, Any]:
    """One entry of ``GET /futures/{settle}/contracts``."""
    return {
        "name": name,
        "type": "direct" if name.endswith("USDT") else "inverse",
        "quanto_multiplier": multiplier,
        "mark_type": "index",
        "mark_price": mark,
        "last_price": mark,
        "order_price_round": "0.1",
        "mark_price_round": "0.1",
        "order_price_deviate": "0.5",
        "leverage_min": "1",
        "leverage_max": "100",
        "maintenance_rate": "0.005",
        "order_size_min": 1,
        "order_size_max": 1000000,
        "funding_interval": 28800,
        "in_delisting": False,
        "status": "trading",
    }


@dataclass
class GateFutures:
    """Gate futures: BTC_USDT (linear, 0.0001 BTC a contract) and BTC_USD (inverse, settled
    in BTC, 1 USD a contract). ``liquidations[contract]`` holds raw ``liq_orders`` rows
    (``time`` in SECONDS, ``size`` = liquidated position in contracts, positive = long);
    responses are newest first, filtered by ``from``/``to`` (seconds, inclusive) and cut
    at ``min(limit, page_cap)`` rows."""

    liquidations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_cap: int = 1000
    venue: HttpVenue = field(default_factory=HttpVenue)

    def __post_init__(self) -> None:
        v = self.venue
        for path in (
            "/api/v4/spot/currencies",
            "/api/v4/margin/currency_pairs",
            "/api/v4/spot/currency_pairs",
            "/api/v4/delivery/usdt/contracts",
            "/api/v4/options/underlyings",
        ):
            v.route(path, lambda q: [])
        v.route(
            "/api/v4/futures/usdt/contracts",
            lambda q: [gate_contract("BTC_USDT", "0.0001", "60000")],
        )
        v.route("/api/v4/futures/btc/contracts", lambda q: [gate_contract("BTC_USD", "0", "60000")])
        v.route("/api/v4/futures/usdt/liq_orders", lambda q: self.liq_orders("usdt", q))
        v.route("/api/v4/futures/btc/liq_orders", lambda q: self.liq_orders("btc", q))

    def ccxt_options(self) -> dict[str, Any]:
        base = f"{self.venue.base_url}/api/v4"
        keys = (
            "wallet",
            "futures",
            "margin",
            "delivery",
            "spot",
            "options",
            "sub_accounts",
            "earn",
        )
        return {
            "urls": {"api": {"public": {k: base for k in keys}}},
            "options": {"fetchMarkets": {"types": ["swap"]}},
        }

    def liq_orders(self, settle: str, q: Query) -> list[dict[str, Any]]:
        rows = self.liquidations.get(q.get("contract", ""), [])
        lo = int(q.get("from", 0))
        hi = int(q.get("to", 2**40))
        limit = min(int(q.get("limit", 100)), self.page_cap)
        inside = [r for r in rows if lo <= r["time"] <= hi]
        return sorted(inside, key=lambda r: r["time"], reverse=True)[:limit]
