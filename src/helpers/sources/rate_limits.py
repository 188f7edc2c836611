"""A venue's "slow down" answers and how long it asked to wait, from the ``rate_limits`` rules
of :data:`~helpers.sources.venue_rules.VENUES` (sources in ``docs/venue-rules.md``, "Rate
limits and bans").

A venue's rate-limit or overload answer can reach the client as any ccxt class (Binance's
``-1008`` as ``OperationFailed``, OKX's ``50061`` and Bitfinex's ``ERR_RATE_LIMIT`` as a plain
``ExchangeError``) and with any HTTP status (200, 400, 429, 503): it is recognised by its code
in the error body, so a retry can wait instead of failing the table.

How long to wait is read from the failed answer: a ``Retry-After`` header (seconds or an HTTP
date), a venue's reset header (an epoch time in seconds or milliseconds, e.g. BitMEX
``x-ratelimit-reset``), the end of a ban written in the body (Binance ``IP banned until
1700000000000``) or the shortest ban a venue documents for a status (Bybit's 403). Waits are
seconds from now.

For ccxt, the fetcher calls :func:`forget_last_response` before each request and
:func:`exchange_retry` gives the retry predicate and wait hint that read the last answer's
status (recorded by :func:`~helpers.sources.ccxt_rest.checks.install_response_check`) and
headers (ccxt's ``last_response_headers``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from helpers.sources.retry import ServerWait, is_transient, retry_after_seconds
from helpers.sources.venue_rules import RateLimitRules, quirks

RATE_LIMIT_STATUSES = frozenset({418, 429})
LAST_STATUS_ATTR = "liqnb_last_status"
"""The attribute of a ccxt exchange holding the HTTP status of its last answer."""


@lru_cache(maxsize=256)
def _json_value(code: str) -> re.Pattern[str]:
    """``code`` as a whole JSON value: after ``:``, ``[`` or ``,``, quoted or not, before
    ``,``, ``]`` or ``}`` (``"code":-1003,``; ``"label":"TOO_MANY_REQUESTS"}``)."""
    return re.compile(r'[:\[,]\s*"?' + re.escape(code) + r'"?\s*[,\]}]')


def carries_code(rules: RateLimitRules, text: str) -> bool:
    """Whether ``text`` (an error message holding the venue's answer) carries one of the
    venue's rate-limit codes as a JSON value or one of its messages anywhere."""
    if any(_json_value(code).search(text) for code in rules.codes):
        return True
    lowered = text.lower()
    return any(m.lower() in lowered for m in rules.messages)


def is_rate_limit_answer(venue: str, exc: BaseException, status: int | None = None) -> bool:
    """Whether ``exc`` is ``venue``'s (ccxt id) answer that it is rate-limiting or
    overloaded: ccxt's ``RateLimitExceeded``, ``DDoSProtection``, ``OnMaintenance`` and
    ``ExchangeNotAvailable``, HTTP 418 / 429, or one of the venue's codes in the message,
    whatever its class and status."""
    import ccxt

    limited = ccxt.RateLimitExceeded | ccxt.DDoSProtection | ccxt.ExchangeNotAvailable
    if isinstance(exc, limited) or status in RATE_LIMIT_STATUSES:
        return True
    return carries_code(quirks(venue).rate_limits, str(exc))


def epoch_seconds(text: str | None) -> float | None:
    """An epoch time in seconds from ``text`` holding seconds or milliseconds (a value above
    10**11 is read as milliseconds); None when absent or not a number."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if value <= 0:
        return None
    return value / 1000.0 if value > 1e11 else value


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """The value of header ``name`` (any case) in ``headers``."""
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def server_wait(
    venue: str,
    exc: BaseException,
    headers: Mapping[str, Any] | None = None,
    status: int | None = None,
    now: float | None = None,
) -> ServerWait | None:
    """The longest wait the failed answer asks for: its ``Retry-After``, and on a rate-limit
    answer the venue's reset headers, the ban end in its text, and the shortest ban the venue
    documents for its status; None when it names none."""
    now = time.time() if now is None else now
    waits: list[ServerWait] = []
    asked = retry_after_seconds(header(headers, "Retry-After"))
    if asked is None and isinstance(getattr(exc, "retry_after", None), int | float):
        asked = float(exc.retry_after)  # type: ignore[attr-defined]
    if asked is not None:
        waits.append(ServerWait(asked, "Retry-After header"))
    if is_rate_limit_answer(venue, exc, status):
        waits += _venue_waits(quirks(venue).rate_limits, str(exc), headers, status, now)
    return max(waits, key=lambda w: w.seconds) if waits else None


def _venue_waits(
    rules: RateLimitRules,
    text: str,
    headers: Mapping[str, Any] | None,
    status: int | None,
    now: float,
) -> list[ServerWait]:
    waits = []
    for name in rules.reset_headers:
        at = epoch_seconds(header(headers, name))
        if at is not None:
            waits.append(ServerWait(max(0.0, at - now), f"{name} header"))
    found = re.search(rules.ban_until, text) if rules.ban_until else None
    at = epoch_seconds(found.group(1)) if found else None
    if at is not None:
        waits.append(ServerWait(max(0.0, at - now), "ban end in the answer"))
    if status is not None and status in rules.ban_seconds:
        waits.append(ServerWait(rules.ban_seconds[status], f"HTTP {status}: the venue's ban"))
    return waits


def forget_last_response(exchange: Any) -> None:
    """Clear what ``exchange`` keeps of its last answer (status, headers, JSON), so an error
    without an answer (a timeout) is not read with an older answer's headers."""
    setattr(exchange, LAST_STATUS_ATTR, None)
    exchange.last_response_headers = {}
    exchange.last_json_response = None


def last_status(exchange: Any) -> int | None:
    status = getattr(exchange, LAST_STATUS_ATTR, None)
    return status if isinstance(status, int) else None


def exchange_retry(
    exchange: Any,
) -> tuple[Callable[[BaseException], bool], Callable[[BaseException], ServerWait | None]]:
    """The retry predicate and wait hint of ``exchange``'s requests (ccxt instance): its
    venue's rate-limit codes count as transient, waits are read from its last answer."""
    venue = str(exchange.id)

    def retry_on(exc: BaseException) -> bool:
        return is_transient(exc, venue=venue, status=last_status(exchange))

    def wait_hint(exc: BaseException) -> ServerWait | None:
        headers = getattr(exchange, "last_response_headers", None)
        return server_wait(venue, exc, headers, last_status(exchange))

    return retry_on, wait_hint
