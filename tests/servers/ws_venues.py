"""Local venues speaking Binance USD-M, OKX and Bybit liquidation STREAMS (plus the REST market
lists ccxt loads first), so tests run the real ccxt.pro clients against 127.0.0.1.

Frame shapes follow the venues' stream docs and the samples in ccxt 4.5's parsers:

* Binance USD-M ``!forceOrder@arr``: ``{"e": "forceOrder", "E": ms, "o": {"s", "S" (ORDER
  side), "o", "f", "q", "p", "ap", "X", "l", "z", "T"}}``; subscribe ``{"method":
  "SUBSCRIBE", "params": [...], "id": n}`` is answered ``{"result": null, "id": n}``.
* OKX ``liquidation-orders``: ``{"arg": {"channel", "instType"}, "data": [{"instId",
  "instFamily", "instType", "uly", "details": [{"bkLoss", "bkPx", "ccy", "posSide", "side",
  "sz", "ts"}]}]}``; subscribe is acked ``{"event": "subscribe", "arg": ..., "connId"}``;
  text ``ping`` is answered ``pong``.
* Bybit ``allLiquidation.<symbol>``: ``{"topic", "type": "snapshot", "ts", "data": [{"T",
  "s", "S" (POSITION side: Buy = long liquidated), "v", "p"}]}``; subscribe and ``ping`` are
  answered ``{"success": true, "ret_msg": "", "op": ..., "conn_id", "req_id"}``.

A test pushes frames (:meth:`StreamVenue.push`), drops every connection
(:meth:`StreamVenue.drop`) or stays silent; frames listed in ``on_subscribe`` are sent to each
new subscriber. The numbers are invented.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from servers.http_venues import binance_symbol_info
from servers.vendors import AppThread

Frame = dict[str, Any]


class StreamVenue:
    """One venue: REST market list + a websocket endpoint on every other path."""

    name = "venue"

    def __init__(self, on_subscribe: list[Frame] | None = None) -> None:
        self.on_subscribe = list(on_subscribe or [])
        self.sockets: set[web.WebSocketResponse] = set()
        self.subscriptions: list[Any] = []
        self.connections = 0
        self.app = web.Application()
        self.app.router.add_route("GET", "/{tail:.*}", self._route)
        self.thread = AppThread(self.app)

    # ---- test controls ---------------------------------------------------------------------
    def __enter__(self) -> StreamVenue:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.thread.call(self._close_all(), 5)
        self.thread.stop()

    @property
    def http(self) -> str:
        return self.thread.base_url

    @property
    def ws(self) -> str:
        return self.thread.ws_url

    def push(self, *frames: Frame) -> None:
        """Send ``frames`` to every subscribed connection."""
        self.thread.call(self._send_all(list(frames)))

    def drop(self) -> None:
        """Close every connection abruptly (a dropped stream)."""
        self.thread.call(self._close_all())

    def wait_subscribed(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until ``n`` subscriptions have been made in total."""
        self.thread.call(self._wait(lambda: len(self.subscriptions) >= n, timeout), timeout + 1)

    def wait_connections(self, n: int, timeout: float = 10.0) -> None:
        """Block until ``n`` connections have been opened in total."""
        self.thread.call(self._wait(lambda: self.connections >= n, timeout), timeout + 1)

    def ccxt_options(self) -> dict[str, Any]:
        raise NotImplementedError

    # ---- venue specifics -------------------------------------------------------------------
    def rest(self, request: web.Request) -> Any:
        raise NotImplementedError

    def answer(self, msg: str) -> tuple[list[Any], bool]:
        """Replies to a client message and whether it was a subscription."""
        raise NotImplementedError

    # ---- plumbing --------------------------------------------------------------------------
    async def _route(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._socket(request)
        payload = self.rest(request)
        if payload is None:
            return web.json_response({"msg": "not found"}, status=404)
        return web.json_response(payload)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                replies, subscribed = self.answer(msg.data)
                if subscribed:
                    self.sockets.add(ws)
                for r in replies:
                    await ws.send_str(r if isinstance(r, str) else json.dumps(r))
                if subscribed:
                    for frame in self.on_subscribe:
                        await ws.send_str(json.dumps(frame))
        finally:
            self.sockets.discard(ws)
        return ws

    async def _send_all(self, frames: list[Frame]) -> None:
        for ws in list(self.sockets):
            for f in frames:
                await ws.send_str(json.dumps(f))

    async def _close_all(self) -> None:
        """Cut every subscribed connection without a close frame, as a network drop does."""
        for ws in list(self.sockets):
            self.sockets.discard(ws)
            transport = ws._writer.transport if ws._writer is not None else None
            if transport is not None:
                transport.close()
            else:
                await ws.close()

    @staticmethod
    async def _wait(cond: Callable[[], bool], timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            if loop.time() > deadline:
                raise TimeoutError("condition not met")
            await asyncio.sleep(0.02)


# ---- Binance USD-M -------------------------------------------------------------------------


def force_order(
    symbol: str, order_side: str, qty: str, avg_price: str, t_ms: int, price: str | None = None
) -> Frame:
    """A ``forceOrder`` frame: ``order_side`` SELL = a long position was liquidated."""
    return {
        "e": "forceOrder",
        "E": t_ms + 2,
        "o": {
            "s": symbol,
            "S": order_side,
            "o": "LIMIT",
            "f": "IOC",
            "q": qty,
            "p": price or avg_price,
            "ap": avg_price,
            "X": "FILLED",
            "l": qty,
            "z": qty,
            "T": t_ms,
        },
    }


class BinanceStream(StreamVenue):
    name = "binanceusdm"

    def ccxt_options(self) -> dict[str, Any]:
        return {
            "urls": {
                "api": {
                    "fapiPublic": f"{self.http}/fapi/v1",
                    "fapiPublicV2": f"{self.http}/fapi/v2",
                    "fapiPublicV3": f"{self.http}/fapi/v3",
                    "ws": {"linear": f"{self.ws}/ws"},
                }
            },
            "options": {"fetchMarkets": {"types": ["linear"]}},
        }

    def rest(self, request: web.Request) -> Any:
        if request.path != "/fapi/v1/exchangeInfo":
            return None
        return {
            "timezone": "UTC",
            "serverTime": 1722470400000,
            "futuresType": "U_MARGINED",
            "rateLimits": [],
            "exchangeFilters": [],
            "assets": [],
            "symbols": [
                binance_symbol_info("BTCUSDT", "BTC"),
                binance_symbol_info("ETHUSDT", "ETH"),
            ],
        }

    def answer(self, msg: str) -> tuple[list[Any], bool]:
        data = json.loads(msg)
        if data.get("method") == "SUBSCRIBE":
            self.subscriptions.append(data["params"])
            return [{"result": None, "id": data["id"]}], True
        return [], False


# ---- OKX -----------------------------------------------------------------------------------


def okx_instrument(inst_id: str, ct_val: str, settle: str, ct_type: str) -> dict[str, Any]:
    """One ``GET /api/v5/public/instruments?instType=SWAP`` entry."""
    base, quote, _ = inst_id.split("-")
    return {
        "instType": "SWAP",
        "instId": inst_id,
        "uly": f"{base}-{quote}",
        "instFamily": f"{base}-{quote}",
        "baseCcy": "",
        "quoteCcy": "",
        "settleCcy": settle,
        "ctValCcy": base if ct_type == "linear" else "USD",
        "ctVal": ct_val,
        "ctMult": "1",
        "ctType": ct_type,
        "alias": "",
        "category": "1",
        "expTime": "",
        "listTime": "1606468572000",
        "lever": "100",
        "lotSz": "1",
        "minSz": "1",
        "tickSz": "0.1",
        "maxLmtSz": "100000000",
        "maxMktSz": "100000",
        "optType": "",
        "state": "live",
        "stk": "",
    }


def okx_liquidation(
    inst_id: str, pos_side: str, order_side: str, sz: str, bk_px: str, t_ms: int
) -> Frame:
    """A ``liquidation-orders`` frame with one detail."""
    base, quote, _ = inst_id.split("-")
    return {
        "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
        "data": [
            {
                "details": [
                    {
                        "bkLoss": "0",
                        "bkPx": bk_px,
                        "ccy": "",
                        "posSide": pos_side,
                        "side": order_side,
                        "sz": sz,
                        "ts": str(t_ms),
                    }
                ],
                "instFamily": f"{base}-{quote}",
                "instId": inst_id,
                "instType": "SWAP",
                "uly": f"{base}-{quote}",
            }
        ],
    }


class OkxStream(StreamVenue):
    name = "okx"

    def ccxt_options(self) -> dict[str, Any]:
        return {
            "urls": {
                "api": {"rest": self.http, "ws": f"{self.ws}/ws/v5"},
            },
            "options": {"fetchMarkets": {"types": ["swap"]}},
        }

    def rest(self, request: web.Request) -> Any:
        if request.path != "/api/v5/public/instruments":
            return None
        data = []
        if request.query.get("instType") == "SWAP":
            data = [
                okx_instrument("BTC-USDT-SWAP", "0.01", "USDT", "linear"),
                okx_instrument("BTC-USD-SWAP", "100", "BTC", "inverse"),
            ]
        return {"code": "0", "msg": "", "data": data}

    def answer(self, msg: str) -> tuple[list[Any], bool]:
        if msg == "ping":
            return ["pong"], False
        data = json.loads(msg)
        if data.get("op") == "subscribe":
            self.subscriptions.append(data["args"])
            acks = [{"event": "subscribe", "arg": a, "connId": "a4d3ae55"} for a in data["args"]]
            return acks, True
        return [], False


# ---- Bybit ---------------------------------------------------------------------------------


def bybit_instrument(symbol: str, base: str) -> dict[str, Any]:
    """One ``GET /v5/market/instruments-info?category=linear`` entry."""
    return {
        "symbol": symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": "USDT",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": "0.001",
            "qtyStep": "0.001",
            "postOnlyMaxOrderQty": "1190.000",
            "maxMktOrderQty": "500.000",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": "USDT",
        "copyTrading": "both",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
    }


def bybit_liquidation(symbol: str, position_side: str, size: str, price: str, t_ms: int) -> Frame:
    """An ``allLiquidation`` frame: ``position_side`` Buy = a long position was liquidated."""
    return {
        "topic": f"allLiquidation.{symbol}",
        "type": "snapshot",
        "ts": t_ms + 5,
        "data": [{"T": t_ms, "s": symbol, "S": position_side, "v": size, "p": price}],
    }


class BybitStream(StreamVenue):
    name = "bybit"

    def ccxt_options(self) -> dict[str, Any]:
        return {
            "urls": {
                "api": {
                    "public": self.http,
                    "ws": {"public": {"linear": f"{self.ws}/v5/public/linear"}},
                }
            },
            "options": {"fetchMarkets": {"types": ["linear"]}},
        }

    def rest(self, request: web.Request) -> Any:
        if request.path != "/v5/market/instruments-info":
            return None
        rows = []
        if request.query.get("category") == "linear":
            rows = [bybit_instrument("BTCUSDT", "BTC"), bybit_instrument("ETHUSDT", "ETH")]
        return {
            "retCode": 0,
            "retMsg": "OK",
            "result": {
                "category": request.query.get("category"),
                "list": rows,
                "nextPageCursor": "",
            },
            "retExtInfo": {},
            "time": 1722470400000,
        }

    def answer(self, msg: str) -> tuple[list[Any], bool]:
        data = json.loads(msg)
        op = data.get("op")
        reply = {
            "success": True,
            "ret_msg": "",
            "conn_id": "c1",
            "req_id": data.get("req_id"),
            "op": op,
        }
        if op == "ping":
            return [{**reply, "ret_msg": "pong"}], False
        if op == "subscribe":
            self.subscriptions.append(data["args"])
            return [reply], True
        return [], False
