"""HTTP for the vendor clients (Coinalyze, Tardis, CoinGecko): JSON GETs retried with
backoff, junk bodies rejected, secrets redacted from every log line and error."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from helpers.errors import UserError
from helpers.sources.retry import (
    JunkResponse,
    RateLimitBan,
    RetriesExhausted,
    RetryPolicy,
    TransientHTTPError,
    call_with_retry,
    is_retryable_status,
    retry_after_seconds,
)

log = logging.getLogger(__name__)


class JsonClient:
    """GETs retried with exponential backoff (:mod:`helpers.sources.retry`: 429, 418, 5xx,
    timeouts, dropped connections, and a 200 whose body is HTML or truncated), that never let
    a secret reach a log line or an error message.

    When the retries run out the failure becomes one :class:`UserError` line naming the
    service, the URL path and the last problem. A non-retryable status (401, 403, 404...)
    fails at once, and so does a ``Retry-After`` longer than ``max_wait`` seconds (the line
    says until when)."""

    def __init__(
        self,
        name: str,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        secrets: Iterable[str] = (),
        session: requests.Session | None = None,
        max_wait: float = RetryPolicy.max_wait,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.policy = RetryPolicy(
            attempts=retries + 1, base_delay=backoff, max_delay=max_backoff, max_wait=max_wait
        )
        self.secrets = tuple(s for s in secrets if s)
        self.session = session or requests.Session()

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def get_bytes(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[bytes], None] | None = None,
    ) -> bytes:
        """The body of a successful GET; ``check`` may raise :class:`JunkResponse` to have a
        malformed body retried."""
        path = urlsplit(url).path
        where = f"{self.name}: {path}"

        def attempt() -> bytes:
            log.debug("%s GET %s", self.name, self.redact(url))
            try:
                resp = self.session.get(
                    url, params=params, headers=dict(headers or {}), timeout=self.timeout
                )
                body = resp.content
            except requests.Timeout:
                raise TimeoutError(f"no answer within {self.timeout:g} s") from None
            except requests.RequestException as exc:
                raise ConnectionError(f"connection failed ({type(exc).__name__})") from None
            if is_retryable_status(resp.status_code):
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                raise TransientHTTPError(resp.status_code, path, retry_after=retry_after)
            if resp.status_code >= 400:
                hint = _hint(resp.status_code)
                raise UserError(f"{where} failed: HTTP {resp.status_code}{hint}")
            if _looks_like_html(resp.headers.get("Content-Type", ""), body):
                raise JunkResponse("HTTP 200 with an HTML page instead of data")
            if check is not None:
                check(body)
            return body

        try:
            return call_with_retry(attempt, policy=self.policy, what=where)
        except RetriesExhausted as exc:
            last = self.redact(f"{type(exc.last).__name__}: {exc.last}")
            raise UserError(f"{where} failed after {exc.attempts} attempts; {last}") from None
        except RateLimitBan as exc:
            raise UserError(self.redact(str(exc))) from None

    def get_json(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The parsed JSON body of a successful GET; an invalid or truncated body is retried."""
        parsed: list[Any] = []

        def check(body: bytes) -> None:
            try:
                parsed[:] = [json.loads(body)]
            except ValueError:
                raise JunkResponse(
                    f"HTTP 200 with invalid or truncated JSON ({len(body)} bytes)"
                ) from None

        self.get_bytes(url, params, headers, check)
        return parsed[0]


def _looks_like_html(content_type: str, body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return "text/html" in content_type.lower() or head.startswith((b"<!doctype", b"<html"))


def _hint(status: int) -> str:
    return {
        401: " (the API key was rejected or is missing)",
        403: " (forbidden: check the API key's plan)",
        404: " (not found)",
    }.get(status, "")
