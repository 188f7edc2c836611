"""Each venue's documented "slow down" answers, as faults for the local venue servers
(``HttpVenue.fail(path, reply, ...)``): the status, JSON body and headers the venue sends
(sources in ``docs/venue-rules.md``, "Rate limits and bans"; ban ends and reset times are
invented, relative to now).

* Binance: HTTP 429 ``-1003`` "Too many requests" with ``Retry-After``; HTTP 418 ``-1003``
  "Way too many requests; IP banned until <ms>" with ``Retry-After``; ``-1008`` "Server is
  currently overloaded" (ccxt: ``OperationFailed`` on fapi, a plain ``ExchangeError`` here).
* OKX: HTTP 429 ``{"code":"50061","msg":"Sub-account rate limit reached"}`` (ccxt: a plain
  ``ExchangeError``).
* Bybit: HTTP 200 ``{"retCode":10006,"retMsg":"Too many visits!"}`` with
  ``X-Bapi-Limit-Reset-Timestamp`` (ms); ``retCode`` 10016 "System error. Please try again
  later." (ccxt: ``ExchangeError``).
* Gate: HTTP 429 ``{"label":"TOO_MANY_REQUESTS"}`` with ``X-Gate-RateLimit-Reset-Timestamp``.
* Bitfinex: ``{"error":"ERR_RATE_LIMIT"}`` (ccxt: ``ExchangeError``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One canned HTTP answer: status, JSON body (or text) and headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def text(self) -> str:
        return self.body if isinstance(self.body, str) else json.dumps(self.body)


def now_ms(plus_s: float = 0.0) -> int:
    return int((time.time() + plus_s) * 1000)


def binance_too_many(retry_after: str = "1") -> Reply:
    """HTTP 429, ``-1003`` TOO_MANY_REQUESTS, ``Retry-After`` seconds (or an HTTP date)."""
    msg = (
        "Too many requests; current limit is 2400 requests per minute. Please use the "
        "websocket for live updates to avoid polling the API."
    )
    return Reply(429, {"code": -1003, "msg": msg}, {"Retry-After": retry_after})


def binance_banned(seconds: float) -> Reply:
    """HTTP 418: the IP is banned for ``seconds``; the body names the end in ms."""
    until = now_ms(seconds)
    msg = (
        f"Way too many requests; IP banned until {until}. Please use the websocket for live "
        "updates to avoid bans."
    )
    return Reply(418, {"code": -1003, "msg": msg}, {"Retry-After": str(int(seconds))})


def binance_overloaded() -> Reply:
    msg = "Server is currently overloaded with other requests. Please try again in a few minutes."
    return Reply(503, {"code": -1008, "msg": msg})


def binance_bad_symbol() -> Reply:
    return Reply(400, {"code": -1121, "msg": "Invalid symbol."})


def okx_sub_account_limit() -> Reply:
    return Reply(429, {"code": "50061", "msg": "Sub-account rate limit reached", "data": []})


def okx_bad_parameter() -> Reply:
    return Reply(200, {"code": "51000", "msg": "Parameter bar error", "data": []})


def bybit_too_many_visits(reset_in_s: float) -> Reply:
    body = {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {},
            "time": now_ms()}  # fmt: skip
    return Reply(200, body, {"X-Bapi-Limit-Reset-Timestamp": str(now_ms(reset_in_s))})


def bybit_system_busy() -> Reply:
    body = {"retCode": 10016, "retMsg": "System error. Please try again later.", "result": {},
            "retExtInfo": {}, "time": now_ms()}  # fmt: skip
    return Reply(200, body)


def gate_too_many(reset_in_s: float) -> Reply:
    body = {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"}
    return Reply(429, body, {"X-Gate-RateLimit-Reset-Timestamp": str(now_ms(reset_in_s))})


def bitfinex_rate_limit() -> Reply:
    return Reply(429, {"error": "ERR_RATE_LIMIT"})
