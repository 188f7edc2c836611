"""Local venues speaking Binance USD-M and COIN-M, OKX and Bybit liquidation STREAMS (plus the
REST market lists ccxt loads first), so tests run the real ccxt.pro clients against 127.0.0.1.

Frame shapes follow the venues' stream docs and the samples in ccxt 4.5's parsers:

* Binance USD-M ``!forceOrder@arr``: ``{"e": "forceOrder", "E": ms, "o": {"s", "S" (ORDER
  side), "o", "f", "q", "p", "ap", "X", "l", "z", "T"}}``; subscribe ``{"method":
  "SUBSCRIBE", "params": [...], "id": n}`` is answered ``{"result": null, "id": n}``.
* Binance COIN-M ``!forceOrder@arr``: the same frame plus ``o.ps`` (the pair), quantities in
  contracts (``contractSize`` USD each in ``/dapi/v1/exchangeInfo``).
* OKX ``liquidation-orders``: ``{"arg": {"channel", "instType"}, "data": [{"instId",
  "instFamily", "instType", "uly", "details": [{"bkLoss", "bkPx", "ccy", "posSide", "side",
  "sz", "ts"}]}]}``; subscribe is acked ``{"event": "subscribe", "arg": ..., "connId"}``;
  text ``ping`` is answered ``pong``.
* Bybit ``allLiquidation.<symbol>``: ``{"topic", "type": "snapshot", "ts", "data": [{"T",
  "s", "S" (POSITION side: Buy = long liquidated), "v", "p"}]}``; subscribe and ``ping`` are
  answered ``{"success": true, "ret_msg": "", "op": ..., "conn_id", "req_id"}``.

A test pushes frames (:meth:`StreamVenue.push`), drops every connection
(:meth:`StreamVenue.drop`), sends a broken frame, refuses reconnections or stays silent (the
faults are in :mod:`servers.ws_base`); frames listed in ``on_subscribe`` are sent to each new
subscriber. The numbers are invented.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from servers.http_venues import binance_symbol_info
from servers.ws_base import Frame, StreamVenue

__all__ = [
    "BinanceCoinmStream",
    "BinanceStream",
    "BybitStream",
    "Frame",
    "OkxStream",
    "StreamVenue",
    "bybit_liquidation",
    "coinm_force_order",
    "force_order",
    "okx_liquidation",
]

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


# ---- Binance COIN-M ------------------------------------------------------------------------


def coinm_symbol_info(pair: str, base: str, contract_usd: int) -> dict[str, Any]:
    """One ``GET /dapi/v1/exchangeInfo`` entry: the ``<pair>_PERP`` perpetual, margined in
    ``base``, ``contract_usd`` USD per contract (``contractSize``)."""
    info = binance_symbol_info(f"{pair}_PERP", base, quote="USD")
    info.pop("status")
    info.update(
        pair=pair,
        marginAsset=base,
        contractStatus="TRADING",
        contractSize=contract_usd,
        quantityPrecision=0,
        equalQtyPrecision=4,
    )
    return info


def coinm_force_order(
    symbol: str, order_side: str, contracts: str, avg_price: str, t_ms: int
) -> Frame:
    """A COIN-M ``forceOrder`` frame: ``q``/``l``/``z`` in CONTRACTS, ``ps`` the pair."""
    frame = force_order(symbol, order_side, contracts, avg_price, t_ms)
    frame["o"]["ps"] = symbol.split("_")[0]
    return frame


class BinanceCoinmStream(BinanceStream):
    """Binance COIN-M: ``!forceOrder@arr`` on the dstream host (ccxt's ``ws.inverse``), markets
    from ``/dapi/v1/exchangeInfo`` (BTC 100 USD a contract, ETH 10)."""

    name = "binancecoinm"

    def ccxt_options(self) -> dict[str, Any]:
        return {
            "urls": {
                "api": {
                    "dapiPublic": f"{self.http}/dapi/v1",
                    "dapiData": f"{self.http}/futures/data",
                    "ws": {"inverse": f"{self.ws}/ws"},
                }
            },
            "options": {"fetchMarkets": {"types": ["inverse"]}},
        }

    def rest(self, request: web.Request) -> Any:
        if request.path != "/dapi/v1/exchangeInfo":
            return None
        return {
            "timezone": "UTC",
            "serverTime": 1722470400000,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [
                coinm_symbol_info("BTCUSD", "BTC", 100),
                coinm_symbol_info("ETHUSD", "ETH", 10),
            ],
        }


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
