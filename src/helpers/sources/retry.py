"""Retry transient network failures with exponential backoff, then fail with a clear error.

Transient means: HTTP 429 / 418 (rate limited or IP-banned for a while) and 5xx, timeouts,
dropped connections, a 200 whose body is not the JSON the venue promised (an HTML error
page from a CDN, a truncated body), and a venue's own "slow down" answer whatever class and
status it arrives with (``is_transient(exc, venue=...)``, the codes of
:data:`~helpers.sources.venue_rules.VENUES`). Anything else (a 400, a bad symbol) is raised
at once.

When the server says how long to wait (a ``Retry-After`` header, a reset time, the end of a
ban: see :mod:`helpers.sources.rate_limits`) the retry waits that long, never less than the
backoff; a wait longer than :attr:`RetryPolicy.max_wait` is not waited for:
:class:`RateLimitBan` is raised at once, saying until when.

Works for ccxt calls and plain HTTP clients alike: :func:`is_transient` recognises ccxt's
``NetworkError`` family (``RateLimitExceeded``, ``DDoSProtection``, ``ExchangeNotAvailable``,
``RequestTimeout``...), ``requests``/``aiohttp`` connection errors and timeouts, any exception
carrying an HTTP status (``.status``, ``.status_code`` or ``.response.status_code``), and
:class:`TransientHTTPError` / :class:`JunkResponse`, which vendor clients raise themselves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import tenacity

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({418, 429})
REFUSED_STATUSES = {451: "Unavailable For Legal Reasons"}
"""Answers that waiting cannot fix: 451 is a venue refusing this machine's location (Binance
and Bybit send it to restricted regions). ccxt raises it as ``ExchangeNotAvailable``, a
``NetworkError``, so without this rule it would be retried through every attempt."""


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
class ServerWait:
    """How long a server asked to be left alone, in seconds from the failed answer, and what
    said so (``"Retry-After header"``, ``"ban end in the answer"``...)."""

    seconds: float
    why: str = "Retry-After header"


class RateLimitBan(RuntimeError):
    """The server asked for a longer wait than the retry policy allows (an IP ban, a long
    ``Retry-After``): nothing is retried; the one-line message says until when."""

    def __init__(self, what: str, wait: ServerWait, max_wait: float) -> None:
        self.what = what
        self.wait = wait
        self.until = datetime.fromtimestamp(time.time() + wait.seconds, UTC)
        super().__init__(
            f"{what}: rate-limited until {self.until:%Y-%m-%d %H:%M:%S} UTC "
            f"({wait.why}, {_duration(wait.seconds)} away), longer than the {max_wait:g} s "
            "the retry policy waits (--max-wait); not retried"
        )


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total (first try included); the wait before retry ``n`` is
    ``base_delay * 2**(n-1)`` seconds, capped at ``max_delay``, or longer when the server
    asks for longer (:class:`ServerWait`), up to ``max_wait`` seconds: a server asking for
    more fails at once with :class:`RateLimitBan`. ``sleep`` is how a wait is spent
    (injectable, so tests can measure waits without spending them)."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_wait: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)


DEFAULT_POLICY = RetryPolicy()


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, if any."""
    for obj in (exc, getattr(exc, "response", None)):
        for attr in ("status", "status_code"):
            value = getattr(obj, attr, None)
            if isinstance(value, int):
                return value
    return None


def is_refused(exc: BaseException, status: int | None = None) -> bool:
    """Whether ``exc`` is an answer no retry can fix (:data:`REFUSED_STATUSES`), by the status
    passed, the one ``exc`` carries, or ccxt's message (``"<id> GET <url> 451 <reason> ..."``)."""
    if status is None:
        status = http_status(exc)
    if status is not None:
        return status in REFUSED_STATUSES
    text = str(exc).lower()
    return any(f"{code} {reason}".lower() in text for code, reason in REFUSED_STATUSES.items())


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` header (delta-seconds or an HTTP date);
    None when absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def is_retryable_status(status: int | None) -> bool:
    """429, 418 and every 5xx."""
    return status is not None and (status in RETRY_STATUSES or 500 <= status <= 599)


def is_transient(exc: BaseException, venue: str | None = None, status: int | None = None) -> bool:
    """Whether ``exc`` is worth retrying; see the module docstring. ``venue`` (a ccxt id) also
    counts that venue's own rate-limit and overload answers, whatever their class;
    ``status`` is the HTTP status of the answer that raised ``exc``, when known."""
    if isinstance(exc, RateLimitBan) or is_refused(exc, status):
        return False
    if venue is not None:
        from helpers.sources.rate_limits import is_rate_limit_answer

        if is_rate_limit_answer(venue, exc, status):
            return True
    if is_retryable_status(status):
        return True
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


WaitHint = Callable[[BaseException], ServerWait | None]
"""How long the server that raised an exception asked to wait, if it said."""


def retry_after_attr(exc: BaseException) -> ServerWait | None:
    """The ``retry_after`` seconds an exception carries (:class:`TransientHTTPError`)."""
    asked = getattr(exc, "retry_after", None)
    return ServerWait(float(asked)) if isinstance(asked, int | float) else None


class _ServerWaits:
    """Asks ``hint`` after each failed attempt how long the server wants; raises
    :class:`RateLimitBan` instead of retrying when that is longer than ``max_wait``."""

    def __init__(
        self, policy: RetryPolicy, retry_on: Callable[[BaseException], bool], hint: WaitHint
    ) -> None:
        self.policy = policy
        self.retry_on = retry_on
        self.hint = hint
        self.last: ServerWait | None = None

    def check(self, exc: Exception, what: str) -> None:
        self.last = self.hint(exc) if self.retry_on(exc) else None
        if self.last is not None and self.last.seconds > self.policy.max_wait:
            raise RateLimitBan(what, self.last, self.policy.max_wait) from exc

    def guard(self, fn: Callable[..., T], what: str) -> Callable[..., T]:
        def attempt(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                self.check(exc, what)
                raise

        return attempt

    def aguard(self, fn: Callable[..., Awaitable[T]], what: str) -> Callable[..., Awaitable[T]]:
        async def attempt(*args: Any, **kwargs: Any) -> T:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                self.check(exc, what)
                raise

        return attempt


def _wait(
    policy: RetryPolicy, waits: _ServerWaits | None = None
) -> Callable[[tenacity.RetryCallState], float]:
    """Exponential backoff, or as long as the server asked when that is longer (at most
    ``max_wait``: :class:`_ServerWaits` refuses longer waits before this is asked)."""
    backoff = tenacity.wait_exponential(multiplier=policy.base_delay, min=0, max=policy.max_delay)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = waits.last if waits is not None else None
        if asked is None and exc is not None:
            asked = retry_after_attr(exc)
        if asked is not None:
            return min(policy.max_wait, max(asked.seconds, backoff(state)))
        return backoff(state)

    return wait


def _tenacity_kwargs(
    policy: RetryPolicy,
    retry_on: Callable[[BaseException], bool],
    what: str,
    waits: _ServerWaits | None = None,
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
        "wait": _wait(policy, waits),
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
    wait_hint: WaitHint = retry_after_attr,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)``, retried per ``policy`` while ``retry_on(exc)`` holds; raises
    :class:`RetriesExhausted` when the attempts run out, the error itself when not retryable,
    :class:`RateLimitBan` when ``wait_hint`` says the server wants a wait longer than
    ``policy.max_wait``."""
    waits = _ServerWaits(policy, retry_on, wait_hint)
    retrying = tenacity.Retrying(
        sleep=policy.sleep, **_tenacity_kwargs(policy, retry_on, what, waits)
    )
    return retrying(waits.guard(fn, what), *args, **kwargs)


async def acall_with_retry(
    fn: Callable[..., Awaitable[T]],
    *args: Any,
    policy: RetryPolicy = DEFAULT_POLICY,
    retry_on: Callable[[BaseException], bool] = is_transient,
    what: str = "request",
    wait_hint: WaitHint = retry_after_attr,
    **kwargs: Any,
) -> T:
    """The coroutine version of :func:`call_with_retry` (waits are spent with
    ``asyncio.sleep``)."""
    waits = _ServerWaits(policy, retry_on, wait_hint)
    retrying = tenacity.AsyncRetrying(**_tenacity_kwargs(policy, retry_on, what, waits))
    return await retrying(waits.aguard(fn, what), *args, **kwargs)


def _duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``."""
    s = max(0, round(seconds))
    if s < 120:
        return f"{s} s"
    m = s // 60
    if m < 120:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


def _one_line(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split()) if exc is not None else ""
    return text[:300] + ("..." if len(text) > 300 else "")
