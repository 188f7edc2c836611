from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from helpers.sources.retry import (
    RetryPolicy,
    TransientHTTPError,
    _wait,
    call_with_retry,
    retry_after_seconds,
)


@dataclass
class _Outcome:
    exc: BaseException

    def exception(self) -> BaseException:
        return self.exc


@dataclass
class _State:
    attempt_number: int
    outcome: _Outcome


def test_retry_after_header_forms():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 30


def test_wait_honours_retry_after_never_shorter_than_backoff_and_past_its_cap_to_max_wait():
    wait = _wait(RetryPolicy(attempts=5, base_delay=1.0, max_delay=60.0, max_wait=300.0))
    # attempt 3: exponential backoff 1 * 2**2 = 4 s
    plain = _State(3, _Outcome(TransientHTTPError(503, "/x")))
    assert wait(plain) == 4.0
    assert wait(_State(3, _Outcome(TransientHTTPError(429, "/x", retry_after=20)))) == 20.0
    assert wait(_State(3, _Outcome(TransientHTTPError(429, "/x", retry_after=1)))) == 4.0
    # the server knows best past the 60 s backoff cap, up to max_wait (longer: RateLimitBan)
    assert wait(_State(3, _Outcome(TransientHTTPError(429, "/x", retry_after=200)))) == 200.0
    assert wait(_State(3, _Outcome(TransientHTTPError(429, "/x", retry_after=600)))) == 300.0


def test_rate_limited_call_succeeds_after_retrying():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientHTTPError(429, "/liquidation-history", retry_after=0)
        return "ok"

    assert call_with_retry(flaky, policy=RetryPolicy(attempts=3, base_delay=0.0)) == "ok"
    assert len(calls) == 3
    with pytest.raises(RuntimeError, match="gave up after 2 attempts"):
        calls.clear()
        call_with_retry(flaky, policy=RetryPolicy(attempts=2, base_delay=0.0))
