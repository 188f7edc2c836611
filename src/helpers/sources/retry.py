"""Retry transient network failures with exponential backoff, then fail with a clear error.

Transient means: HTTP 429 / 418 (rate limited or IP-banned for a while) and 5xx, timeouts,
dropped connections, and a 200 whose body is not the JSON the venue promised (an HTML error
page from a CDN, a truncated body). Anything else (a 400, a bad symbol) is raised at once.

Works for ccxt calls and plain HTTP clients alike: :func:`is_transient` recognises ccxt's
``NetworkError`` family (``RateLimitExceeded``, ``DDoSProtection``, ``ExchangeNotAvailable``,
``RequestTimeout``...), ``requests``/``aiohttp`` connection errors and timeouts, any exception
carrying an HTTP status (``.status``, ``.status_code`` or ``.response.status_code``), and
:class:`TransientHTTPError` / :class:`JunkResponse`, which vendor clients raise themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tenacity

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({418, 429})


class TransientHTTPError(Exception):
    """An HTTP response worth retrying (429, 418, 5xx); raised by plain-HTTP clients."""

    def __init__(
        self, status: int, url: str, detail: str = "", retry_after: float | None = None
    ) -> None:
        self.status = status
        self.url = url
        self.retry_after = retry_after
        super().__init__(f"HTTP {status} from {url}" + (f": {detail}" if detail else ""))


class JunkResponse(Exception):
    """A response that is not the data promised: an HTML page or truncated JSON with HTTP 200,
    a payload of the wrong shape, rows without timestamps or prices. Never stored."""


class RetriesExhausted(RuntimeError):
    """Raised when a transient failure persisted through every attempt."""

    def __init__(self, what: str, attempts: int, last: BaseException) -> None:
        self.what = what
        self.attempts = attempts
        self.last = last
        super().__init__(
            f"{what}: gave up after {attempts} attempts; last error: "
            f"{type(last).__name__}: {_one_line(last)}"
        )


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total (first try included); the wait before retry ``n`` is
    ``base_delay * 2**(n-1)`` seconds, capped at ``max_delay``."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0


DEFAULT_POLICY = RetryPolicy()


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, if any."""
    for obj in (exc, getattr(exc, "response", None)):
        for attr in ("status", "status_code"):
            value = getattr(obj, attr, None)
            if isinstance(value, int):
                return value
    return None


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` header (delta-seconds or an HTTP date);
    None when absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def is_retryable_status(status: int | None) -> bool:
    """429, 418 and every 5xx."""
    return status is not None and (status in RETRY_STATUSES or 500 <= status <= 599)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying; see the module docstring."""
    if isinstance(exc, TransientHTTPError | JunkResponse | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, asyncio.TimeoutError):
        return True
    try:
        import ccxt

        if isinstance(exc, ccxt.NetworkError | ccxt.BadResponse):
            return True
        if isinstance(exc, ccxt.BaseError):
            return False
    except ImportError:  # pragma: no cover - ccxt is a dependency
        pass
    try:
        import requests

        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import aiohttp

        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return is_retryable_status(http_status(exc))


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    """Exponential backoff, or the server's ``Retry-After`` when it asked for longer (capped
    at ``max_delay``)."""
    backoff = tenacity.wait_exponential(multiplier=policy.base_delay, min=0, max=policy.max_delay)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if isinstance(asked, int | float):
            return min(policy.max_delay, max(float(asked), backoff(state)))
        return backoff(state)

    return wait


def _tenacity_kwargs(
    policy: RetryPolicy, retry_on: Callable[[BaseException], bool], what: str
) -> dict[str, Any]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: attempt %d failed (%s: %s); retrying in %.2fs",
            what,
            state.attempt_number,
            type(exc).__name__,
            _one_line(exc),
            state.next_action.sleep if state.next_action else 0.0,
        )

    def give_up(state: tenacity.RetryCallState) -> Any:
        exc = state.outcome.exception() if state.outcome else None
        assert exc is not None
        raise RetriesExhausted(what, state.attempt_number, exc) from exc

    return {
        "stop": tenacity.stop_after_attempt(max(1, policy.attempts)),
        "wait": _wait(policy),
        "retry": tenacity.retry_if_exception(retry_on),
        "before_sleep": before_sleep,
        "retry_error_callback": give_up,
        "reraise": False,
    }


def call_with_retry(
    fn: Callable[..., T],
    *args: Any,
    policy: RetryPolicy = DEFAULT_POLICY,
    retry_on: Callable[[BaseException], bool] = is_transient,
    what: str = "request",
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)``, retried per ``policy`` while ``retry_on(exc)`` holds; raises
    :class:`RetriesExhausted` when the attempts run out, the error itself when not retryable."""
    retrying = tenacity.Retrying(**_tenacity_kwargs(policy, retry_on, what))
    return retrying(fn, *args, **kwargs)


async def acall_with_retry(
    fn: Callable[..., Awaitable[T]],
    *args: Any,
    policy: RetryPolicy = DEFAULT_POLICY,
    retry_on: Callable[[BaseException], bool] = is_transient,
    what: str = "request",
    **kwargs: Any,
) -> T:
    """The coroutine version of :func:`call_with_retry`."""
    retrying = tenacity.AsyncRetrying(**_tenacity_kwargs(policy, retry_on, what))
    return await retrying(fn, *args, **kwargs)


def _one_line(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split()) if exc is not None else ""
    return text[:300] + ("..." if len(text) > 300 else "")
