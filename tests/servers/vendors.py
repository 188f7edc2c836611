"""Local aiohttp servers speaking Coinalyze, Tardis.dev and CoinGecko formats, for tests of the
real vendor clients.

Shapes follow each vendor's API documentation (Coinalyze ``/v1`` history endpoints:
``[{"symbol", "history": [{"t", ...}]}]`` with ``t`` in seconds and ``from``/``to``
inclusive; Tardis ``datasets.tardis.dev/v1/<exchange>/liquidations/<Y>/<M>/<D>/<SYM>.csv.gz``
gzipped CSV; CoinGecko ``/api/v3/coins/markets`` and ``/api/v3/coins/{id}/market_chart/range``);
the numbers are invented. Every server logs each request (path, query, headers) and can
inject faults per path: an HTTP status, ``(status, headers)`` (e.g. ``(429, {"Retry-After":
"1"})``), ``"timeout"`` (a stall longer than the client's timeout), ``"html"`` (an HTML page
with HTTP 200) or ``"truncated"`` (half the body with HTTP 200).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from servers.coinalyze_catalog import EXCHANGES, FUTURE_MARKETS

HTML_PAGE = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>"


class AppThread:
    """An aiohttp application served on 127.0.0.1 (an ephemeral port) from its own thread and
    event loop, so synchronous clients and ``asyncio.run`` callers can both reach it."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> AppThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def call(self, coro: Awaitable[Any], timeout: float = 10) -> Any:
        """Run ``coro`` on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._runner is not None:
            self.call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def __enter__(self) -> AppThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class Hit:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class VendorServer:
    """Routes by path prefix, a request log and a fault queue per path prefix."""

    stall_seconds = 1.0

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.faults: dict[str, deque[Any]] = {}
        self.app = web.Application()
        self.app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self.routes: dict[str, Route] = {}
        self.thread = AppThread(self.app)

    def fail(self, prefix: str, *faults: Any) -> None:
        """Answer the next requests under ``prefix`` with ``faults`` in order."""
        self.faults.setdefault(prefix, deque()).extend(faults)

    def calls(self, prefix: str) -> list[Hit]:
        return [h for h in self.hits if h.path.startswith(prefix)]

    @property
    def base_url(self) -> str:
        return self.thread.base_url

    def __enter__(self) -> VendorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.thread.stop()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(Hit(request.path, dict(request.query), dict(request.headers)))
        fault = None
        for prefix, queue in self.faults.items():
            if request.path.startswith(prefix) and queue:
                fault = queue.popleft()
                break
        if fault == "timeout":
            await asyncio.sleep(self.stall_seconds)
        elif fault == "html":
            return web.Response(status=200, text=HTML_PAGE, content_type="text/html")
        elif isinstance(fault, int):
            return web.json_response({"error": f"injected HTTP {fault}"}, status=fault)
        elif isinstance(fault, tuple):
            status, headers = fault
            return web.json_response(
                {"error": f"injected HTTP {status}"}, status=status, headers=headers
            )
        for prefix, route in self.routes.items():
            if request.path.startswith(prefix):
                resp = await route(request)
                if fault == "truncated" and isinstance(resp, web.Response) and resp.body:
                    body = bytes(resp.body)  # type: ignore[arg-type]
                    return web.Response(
                        status=200, body=body[: len(body) // 2], content_type=resp.content_type
                    )
                return resp
        return web.json_response({"error": "not found"}, status=404)


# ---- Coinalyze -----------------------------------------------------------------------------

COINALYZE_INTERVALS = {
    "1min": 60,
    "5min": 300,
    "15min": 900,
    "1hour": 3600,
    "4hour": 14400,
    "daily": 86400,
}


@dataclass
class CoinalyzeSeries:
    """One symbol's hourly history: liquidations in BASE units, close prices, open interest
    in BASE units and funding in PERCENT, each keyed by bar open time (UNIX seconds)."""

    long_base: dict[int, float] = field(default_factory=dict)
    short_base: dict[int, float] = field(default_factory=dict)
    close: dict[int, float] = field(default_factory=dict)
    oi_base: dict[int, float] = field(default_factory=dict)
    funding_pct: dict[int, float] = field(default_factory=dict)


class CoinalyzeServer(VendorServer):
    """``/v1/future-markets`` and ``/v1/exchanges`` (the catalog, by default
    :mod:`servers.coinalyze_catalog`), ``/v1/liquidation-history``,
    ``/v1/open-interest-history``, ``/v1/funding-rate-history`` and ``/v1/ohlcv-history``.
    Requires the ``api_key`` header (401 otherwise), at most 20 symbols (400 otherwise);
    ``convert_to_usd=true`` multiplies base units by the bar's close. Liquidation bars with
    nothing liquidated are left out, as Coinalyze does."""

    def __init__(
        self,
        api_key: str,
        series: dict[str, CoinalyzeSeries],
        markets: list[dict[str, Any]] | None = None,
        exchanges: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.series = series
        self.markets = FUTURE_MARKETS if markets is None else markets
        self.exchanges = EXCHANGES if exchanges is None else exchanges
        self.routes["/v1/future-markets"] = self._catalog
        self.routes["/v1/exchanges"] = self._catalog
        self.routes["/v1/"] = self._history

    async def _catalog(self, request: web.Request) -> web.Response:
        if request.headers.get("api_key") != self.api_key:
            return web.json_response({"message": "Unauthorized"}, status=401)
        body = self.markets if request.path.endswith("future-markets") else self.exchanges
        return web.json_response(body)

    async def _history(self, request: web.Request) -> web.Response:
        if request.headers.get("api_key") != self.api_key:
            return web.json_response({"message": "Unauthorized"}, status=401)
        q = request.query
        symbols = [s for s in q.get("symbols", "").split(",") if s]
        if not symbols or len(symbols) > 20:
            return web.json_response({"message": "1 to 20 symbols"}, status=400)
        if q.get("interval") not in COINALYZE_INTERVALS or "from" not in q or "to" not in q:
            return web.json_response({"message": "interval, from and to required"}, status=400)
        lo, hi = int(q["from"]), int(q["to"])
        usd = q.get("convert_to_usd") == "true"
        endpoint = request.path.removeprefix("/v1/")
        out = []
        for sym in symbols:
            s = self.series.get(sym)
            if s is None:
                continue
            history = self._entries(endpoint, s, usd)
            out.append({"symbol": sym, "history": [e for e in history if lo <= e["t"] <= hi]})
        return web.json_response(out)

    @staticmethod
    def _entries(endpoint: str, s: CoinalyzeSeries, usd: bool) -> list[dict[str, Any]]:
        def k(t: int) -> float:
            return s.close[t] if usd else 1.0

        if endpoint == "liquidation-history":
            times = sorted(set(s.long_base) | set(s.short_base))
            return [
                {"t": t, "l": s.long_base.get(t, 0.0) * k(t), "s": s.short_base.get(t, 0.0) * k(t)}
                for t in times
            ]
        if endpoint == "ohlcv-history":
            return [
                {"t": t, "o": c, "h": c, "l": c, "c": c, "v": 1.0, "bv": 0.5, "tx": 1, "btx": 1}
                for t, c in sorted(s.close.items())
            ]
        if endpoint == "open-interest-history":
            return [
                {"t": t, "o": v * k(t), "h": v * k(t), "l": v * k(t), "c": v * k(t)}
                for t, v in sorted(s.oi_base.items())
            ]
        if endpoint == "funding-rate-history":
            return [
                {"t": t, "o": v, "h": v, "l": v, "c": v} for t, v in sorted(s.funding_pct.items())
            ]
        raise web.HTTPNotFound()


# ---- Tardis --------------------------------------------------------------------------------

TARDIS_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"


class TardisServer(VendorServer):
    """``/v1/<exchange>/liquidations/<YYYY>/<MM>/<DD>/<SYMBOL>.csv.gz`` from ``files``
    (``(exchange, symbol, "YYYY-MM-DD")`` -> CSV text), gzipped. The first day of a month is
    served without a key; any other day needs ``Authorization: Bearer <api_key>`` (401)."""

    def __init__(self, api_key: str, files: dict[tuple[str, str, str], str]) -> None:
        super().__init__()
        self.api_key = api_key
        self.files = files
        self.routes["/v1/"] = self._file

    async def _file(self, request: web.Request) -> web.Response:
        parts = request.path.split("/")
        if len(parts) != 8 or parts[3] != "liquidations" or not parts[7].endswith(".csv.gz"):
            return web.json_response({"code": 404, "message": "unknown dataset"}, status=404)
        _, _, exchange, _, y, m, d, name = parts
        if d != "01" and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"code": 401, "message": "API key required"}, status=401)
        text = self.files.get((exchange, name.removesuffix(".csv.gz"), f"{y}-{m}-{d}"))
        if text is None:
            return web.json_response({"code": 404, "message": "no such file"}, status=404)
        return web.Response(
            body=gzip.compress(text.encode()), content_type="application/octet-stream"
        )


# ---- CoinGecko -----------------------------------------------------------------------------


ChartPoint = tuple[int, float, float]
"""(UNIX milliseconds, price USD, market cap USD) of one ``market_chart`` point."""


class CoinGeckoServer(VendorServer):
    """``/api/v3/coins/markets`` paging ``rows`` (already in market-cap order; ``ids=``
    filters them) and ``/api/v3/coins/{id}/market_chart/range`` serving ``charts[id]``
    as CoinGecko does: ``{"prices", "market_caps", "total_volumes"}``, each a list of
    ``[ms, value]`` with ``from <= ms / 1000 <= to`` (UNIX seconds). An unknown id is a 404
    with CoinGecko's ``{"error": "coin not found"}``."""

    def __init__(
        self, rows: list[dict[str, Any]], charts: dict[str, list[ChartPoint]] | None = None
    ) -> None:
        super().__init__()
        self.rows = rows
        self.charts = charts or {}
        self.routes["/api/v3/coins/markets"] = self._markets
        self.routes["/api/v3/coins/"] = self._chart

    async def _markets(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("order") != "market_cap_desc" or "vs_currency" not in q:
            return web.json_response({"error": "bad parameters"}, status=400)
        rows = self.rows
        if "ids" in q:
            wanted = set(q["ids"].split(","))
            rows = [r for r in rows if r["id"] in wanted]
        per_page, page = int(q.get("per_page", 100)), int(q.get("page", 1))
        chunk = rows[(page - 1) * per_page : page * per_page]
        return web.Response(text=json.dumps(chunk), content_type="application/json")

    async def _chart(self, request: web.Request) -> web.Response:
        parts = request.path.split("/")  # "", api, v3, coins, <id>, market_chart, range
        if len(parts) != 7 or parts[5:] != ["market_chart", "range"]:
            return web.json_response({"error": "not found"}, status=404)
        q = request.query
        if q.get("vs_currency") != "usd" or "from" not in q or "to" not in q:
            return web.json_response({"error": "vs_currency, from and to required"}, status=400)
        points = self.charts.get(parts[4])
        if points is None:
            return web.json_response({"error": "coin not found"}, status=404)
        lo, hi = float(q["from"]) * 1000, float(q["to"]) * 1000
        kept = [p for p in points if lo <= p[0] <= hi]
        body = {
            "prices": [[t, price] for t, price, _ in kept],
            "market_caps": [[t, cap] for t, _, cap in kept],
            "total_volumes": [[t, cap / 20] for t, _, cap in kept],
        }
        return web.Response(text=json.dumps(body), content_type="application/json")
