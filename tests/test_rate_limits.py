"""Rate limits and bans: a venue's own "slow down" answer is retried whatever ccxt class and
HTTP status it arrives with, the wait the answer asks for is honoured (``Retry-After``, a
reset header, a ban's end in the body), and a ban longer than the policy's ``max_wait``
fails at once in one line saying until when; anything else is still not retried.

End-to-end tests run the real ccxt client against the local venue servers, which answer
with each venue's documented rate-limit reply (``servers/rate_limit_replies.py``); waits are
measured through the retry policy's ``sleep`` hook instead of being spent.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import ccxt
import pandas as pd
import pytest
import yaml
from servers import rate_limit_replies as replies
from servers.http_venues import HOUR_MS, BinanceUsdm, GateFutures
from servers.http_venues_more import BitfinexDerivatives, BybitDerivatives, OkxSwap
from servers.vendors import CoinalyzeServer

from helpers.cli import main
from helpers.config import load_config
from helpers.errors import UserError
from helpers.sources import ccxt_rest
from helpers.sources import coinalyze as cz
from helpers.sources.rate_limits import server_wait
from helpers.sources.retry import (
    RateLimitBan,
    RetryPolicy,
    ServerWait,
    call_with_retry,
    is_transient,
)
from helpers.sources.venue_rules import VENUES
from helpers.store import Store

T0 = 1704067200000  # 2024-01-01 00:00 UTC
FAST = {"timeout": 2000, "enableRateLimit": False}
LINEAR = "BTC/USDT:USDT"


# ---- the table: every listed code counts, whatever class it arrives as -----------------------


def listed_codes() -> list[tuple[str, str]]:
    return [(venue, code) for venue, q in VENUES.items() for code in q.rate_limits.codes]


@pytest.mark.parametrize(("venue", "code"), listed_codes())
def test_every_listed_code_is_transient_whatever_class_it_arrives_as(venue: str, code: str) -> None:
    # ccxt puts the venue's body in the message: "<id> <body>"
    for body in ({"code": code, "msg": "x"}, ["error", code, "x"], {"error": [code]}):
        exc = ccxt.ExchangeError(f"{venue} {json.dumps(body)}")
        assert is_transient(exc, venue=venue), body
    assert not is_transient(ccxt.ExchangeError(f'{venue} {{"code": "{code}"}}'))  # no venue


@pytest.mark.parametrize(
    ("venue", "text"),
    [
        (
            "bybit",
            "bybit GET https://api.bybit.com/v5/market/kline 403 Forbidden access too frequent",
        ),
        ("kraken", 'kraken {"error":["EService: Throttled: 1700000000"]}'),
    ],
)
def test_listed_messages_are_transient_anywhere_in_the_text(venue: str, text: str) -> None:
    assert is_transient(ccxt.ExchangeError(text), venue=venue)


@pytest.mark.parametrize(
    ("venue", "text"),
    [
        # a listed code as part of another value is not that code
        ("okx", 'okx {"code":"51000","msg":"Parameter after error: 50011 rows","data":[]}'),
        ("bybit", 'bybit {"retCode":10001,"retMsg":"params error","time":1700010006123}'),
        ("binanceusdm", 'binanceusdm {"code":-1121,"msg":"Invalid symbol -1003."}'),
        # another venue's code
        ("okx", 'okx {"code":"10006","msg":"whatever"}'),
    ],
)
def test_other_errors_are_not_rate_limit_answers(venue: str, text: str) -> None:
    assert not is_transient(ccxt.BadRequest(text), venue=venue)
    assert not is_transient(ccxt.BadRequest(text), venue=venue, status=400)
    assert is_transient(ccxt.BadRequest(text), venue=venue, status=503)  # a 5xx is, any class


# ---- how long the answer asks to wait ---------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("venue", "exc", "headers", "status", "seconds", "why"),
    [
        ("binanceusdm", ccxt.DDoSProtection("x"), {"retry-after": "7"}, 429, 7.0, "Retry-After"),
        (
            "binanceusdm",
            ccxt.DDoSProtection(
                'binanceusdm 418 {"code":-1003,"msg":"Way too many requests; IP banned until '
                f'{int((NOW + 3600) * 1000)}. Please use the websocket"}}'
            ),
            {},
            418,
            3600.0,
            "ban end",
        ),
        ("bitmex", ccxt.RateLimitExceeded("x"), {"X-RateLimit-Reset": str(int(NOW + 42))}, 429,
         42.0, "x-ratelimit-reset"),
        ("gate", ccxt.RateLimitExceeded("x"),
         {"X-Gate-RateLimit-Reset-Timestamp": str(int((NOW + 5) * 1000))}, 429, 5.0, "x-gate"),
        ("bybit", ccxt.RateLimitExceeded("bybit 403 Forbidden access too frequent"), {}, 403,
         600.0, "HTTP 403"),
        ("kraken",
         ccxt.ExchangeError(f'kraken {{"error":["EService: Throttled: {int(NOW + 9)}"]}}'),
         {}, 200, 9.0, "ban end"),
    ],
)  # fmt: skip
def test_server_wait_reads_each_venues_answer(
    venue: str, exc: Exception, headers: dict, status: int, seconds: float, why: str
) -> None:
    wait = server_wait(venue, exc, headers, status, now=NOW)
    assert wait is not None and wait.seconds == pytest.approx(seconds) and why in wait.why


def test_reset_headers_are_read_only_on_a_rate_limit_answer() -> None:
    headers = {"X-Bapi-Limit-Reset-Timestamp": str(int((NOW + 30) * 1000))}
    bad_symbol = ccxt.BadSymbol('bybit {"retCode":10001,"retMsg":"params error"}')
    assert server_wait("bybit", bad_symbol, headers, 200, now=NOW) is None
    limited = ccxt.ExchangeError('bybit {"retCode":10006,"retMsg":"Too many visits!"}')
    assert server_wait("bybit", limited, headers, 200, now=NOW).seconds == pytest.approx(30)


def test_a_wait_longer_than_max_wait_fails_at_once_saying_until_when() -> None:
    calls: list[int] = []

    def banned() -> None:
        calls.append(1)
        raise ccxt.DDoSProtection("binanceusdm 418 I'm a teapot")

    policy = RetryPolicy(attempts=5, base_delay=0.0, max_wait=60.0, sleep=lambda s: None)
    with pytest.raises(RateLimitBan) as err:
        call_with_retry(
            banned, policy=policy, what="binanceusdm fetchOHLCV",
            wait_hint=lambda exc: ServerWait(7200.0, "Retry-After header"),
        )  # fmt: skip
    assert len(calls) == 1
    msg = str(err.value)
    until = datetime.now(UTC) + timedelta(seconds=7200)
    assert "\n" not in msg and msg.startswith("binanceusdm fetchOHLCV: rate-limited until ")
    assert f"{until:%Y-%m-%d %H:}" in msg and "2 h 0 min away" in msg and "60 s" in msg


# ---- end to end: the real ccxt client against the local venue servers -------------------------


@pytest.fixture
def binance() -> Iterator[BinanceUsdm]:
    venue = BinanceUsdm(T0, T0 + 24 * HOUR_MS, page_cap=10)
    with venue.venue:
        yield venue


def entry(server: Any, tables: list[str], symbols: list[str] | None = None) -> dict[str, Any]:
    return {
        "symbols": symbols or [LINEAR],
        "tables": tables,
        "ccxt": {**server.ccxt_options(), **FAST},
    }


def write_config(tmp_path: Path, exchanges: dict[str, Any]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"exchanges": exchanges}))
    return path


def cli_fetch(
    tmp_path: Path, exchanges: dict[str, Any], hours: int, capsys: Any, *extra: str
) -> tuple[int, str]:
    """``python -m helpers fetch`` over ``[T0, T0 + hours)`` with 3 attempts, 0.01 s backoff."""
    config = write_config(tmp_path, exchanges)
    code = main(
        ["fetch", "--data-dir", str(tmp_path / "store"), "--config", str(config),
         "--start", pd.Timestamp(T0, unit="ms", tz="UTC").isoformat(),
         "--end", pd.Timestamp(T0 + hours * HOUR_MS, unit="ms", tz="UTC").isoformat(),
         "--retries", "2", "--backoff", "0.01", *extra]
    )  # fmt: skip
    return code, capsys.readouterr().out


def fetch_recording_waits(
    tmp_path: Path, exchanges: dict[str, Any], hours: int, max_wait: float = 60.0
) -> tuple[ccxt_rest.Summary, list[float]]:
    """:func:`ccxt_rest.fetch_window` with a policy whose waits are recorded, not spent."""
    waits: list[float] = []
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_wait=max_wait, sleep=waits.append)
    summary = ccxt_rest.fetch_window(
        Store(tmp_path / "store"),
        load_config(write_config(tmp_path, exchanges)),
        pd.Timestamp(T0, unit="ms", tz="UTC"),
        pd.Timestamp(T0 + hours * HOUR_MS, unit="ms", tz="UTC"),
        policy=policy,
    )
    return summary, waits


def bar_hours(tmp_path: Path) -> list[int]:
    bars = Store(tmp_path / "store").read("ohlcv")
    return sorted((int(t.value // 1_000_000) - T0) // HOUR_MS for t in bars["ts"])


@pytest.mark.parametrize(
    ("venue", "server_type", "path", "reply"),
    [
        # ccxt raises OperationFailed on fapi (ExchangeError here): not retried before
        ("binanceusdm", BinanceUsdm, "/fapi/v1/klines", replies.binance_overloaded),
        # a plain ExchangeError although HTTP 429
        ("okx", OkxSwap, "/api/v5/market/history-candles", replies.okx_sub_account_limit),
        # a plain ExchangeError with HTTP 200
        ("bybit", BybitDerivatives, "/v5/market/kline", replies.bybit_system_busy),
        # Bitfinex's dict answer is a plain ExchangeError before ccxt looks at the 429
        ("bitfinex", BitfinexDerivatives, "/v2/candles/trade:1h:tBTCF0:USTF0/hist",
         replies.bitfinex_rate_limit),
    ],
)  # fmt: skip
def test_a_venue_rate_limit_answer_of_any_class_is_retried_and_the_fetch_succeeds(
    tmp_path: Path, capsys: Any, venue: str, server_type: type, path: str, reply: Any
) -> None:
    server = server_type(T0, T0 + 24 * HOUR_MS)
    with server.venue:
        server.venue.fail(path, reply(), reply())
        code, out = cli_fetch(tmp_path, {venue: entry(server, ["ohlcv"])}, 12, capsys)
        assert code == 0, out
        assert not server.venue.faults[path]  # both rate-limit answers were met, then retried
    assert bar_hours(tmp_path) == list(range(12))


@pytest.mark.parametrize(
    ("reply", "at_least", "at_most"),
    [
        (lambda: replies.binance_too_many("1"), 1.0, 1.0),
        # an HTTP date 2 s ahead (whole seconds: 1 to 2 s from now)
        (lambda: replies.binance_too_many(
            format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)), 0.9, 2.1),
        # a 3 s ban that fits under max_wait is waited out
        (lambda: replies.binance_banned(3), 2.5, 3.1),
    ],
)  # fmt: skip
def test_retry_after_and_a_short_ban_are_waited_for(
    tmp_path: Path, binance: BinanceUsdm, reply: Any, at_least: float, at_most: float
) -> None:
    binance.venue.fail("/fapi/v1/klines", reply())
    summary, waits = fetch_recording_waits(tmp_path, {"binanceusdm": entry(binance, ["ohlcv"])}, 12)
    assert not summary.failures
    assert len(waits) == 1 and at_least <= waits[0] <= at_most  # not the 0.01 s backoff
    assert bar_hours(tmp_path) == list(range(12))


def test_reset_headers_are_waited_for(tmp_path: Path) -> None:
    gate = GateFutures(liquidations={"BTC_USDT": []})
    bybit = BybitDerivatives(T0, T0 + 24 * HOUR_MS)
    gate_reply, bybit_reply = replies.gate_too_many(20.0), replies.bybit_too_many_visits(30.0)
    resets = sorted(
        int(reply.headers[name]) / 1000
        for reply, name in [
            (gate_reply, "X-Gate-RateLimit-Reset-Timestamp"),
            (bybit_reply, "X-Bapi-Limit-Reset-Timestamp"),
        ]
    )
    ends: list[float] = []
    with gate.venue, bybit.venue:
        gate.venue.fail("/api/v4/futures/usdt/liq_orders", gate_reply)
        bybit.venue.fail("/v5/market/kline", bybit_reply)
        policy = RetryPolicy(
            attempts=3, base_delay=0.01, max_wait=60.0, sleep=lambda s: ends.append(time.time() + s)
        )
        summary = ccxt_rest.fetch_window(
            Store(tmp_path / "store"),
            load_config(write_config(tmp_path, {"gate": entry(gate, ["liquidations"]),
                                                "bybit": entry(bybit, ["ohlcv"])})),
            pd.Timestamp(T0, unit="ms", tz="UTC"),
            pd.Timestamp(T0 + HOUR_MS, unit="ms", tz="UTC"),
            policy=policy,
        )  # fmt: skip
    assert not summary.failures
    # each wait (recorded, not spent) ends at the reset time its header names, 20 s and 30 s
    # after the answer was built, however long the fetch took to reach the failing request
    assert len(ends) == 2
    for end, reset in zip(sorted(ends), resets, strict=True):
        assert reset - 0.05 <= end <= reset + 0.5, (end, reset)


def test_a_ban_longer_than_max_wait_fails_in_one_line_and_the_venue_is_not_asked_again(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    ban = replies.binance_banned(7200)
    binance.venue.fail_always("/fapi/v1/klines", ban)
    code, out = cli_fetch(
        tmp_path, {"binanceusdm": entry(binance, ["ohlcv", "funding"])}, 12, capsys
    )
    assert code == 1
    assert len(binance.venue.hits("/fapi/v1/klines")) == 1  # no retry into a ban
    assert not binance.venue.hits("/fapi/v1/fundingRate")  # nor another table
    [failed] = [line for line in out.splitlines() if "FAILED ohlcv binanceusdm" in line]
    until_ms = int(re.search(r"banned until (\d+)", ban.body["msg"]).group(1))
    until = datetime.fromtimestamp(until_ms / 1000, UTC)
    shown = re.search(r"rate-limited until (\S+ \S+) UTC", failed).group(1)
    assert abs(datetime.fromisoformat(shown).replace(tzinfo=UTC) - until) < timedelta(seconds=5)
    assert "binanceusdm fetchOHLCV" in failed and "longer than the 300 s" in failed  # --max-wait
    assert f"FAILED funding binanceusdm {LINEAR}: not requested: binanceusdm is rate-limited" in out
    assert Store(tmp_path / "store").read("ohlcv").empty


def test_max_wait_is_the_cli_option(tmp_path: Path, binance: BinanceUsdm, capsys: Any) -> None:
    binance.venue.fail("/fapi/v1/klines", replies.binance_banned(5))
    code, out = cli_fetch(
        tmp_path, {"binanceusdm": entry(binance, ["ohlcv"])}, 12, capsys, "--max-wait", "2"
    )
    assert code == 1 and "longer than the 2 s the retry policy waits" in out
    assert len(binance.venue.hits("/fapi/v1/klines")) == 1


def test_only_rate_limit_answers_are_retried(tmp_path: Path, capsys: Any) -> None:
    okx = OkxSwap(T0, T0 + 24 * HOUR_MS)
    path = "/api/v5/market/history-candles"
    with okx.venue:
        # first the venue's rate limit (retried), then a plain bad-request error (not)
        okx.venue.fail(path, replies.okx_sub_account_limit(), replies.okx_bad_parameter())
        code, out = cli_fetch(tmp_path, {"okx": entry(okx, ["ohlcv"])}, 12, capsys)
        assert code == 1 and len(okx.venue.hits(path)) == 2
    assert f"FAILED ohlcv okx {LINEAR}: BadRequest:" in out and "51000" in out


def test_coinalyze_retry_after_beyond_max_wait_is_one_clear_line() -> None:
    with CoinalyzeServer("key-0123", {}) as server:
        server.fail("/v1/liquidation-history", (429, {"Retry-After": "7200"}))
        http = cz.JsonClient("coinalyze", retries=0, backoff=0.01)  # max_wait 300 s
        client = cz.Coinalyze("key-0123", base_url=f"{server.base_url}/v1", http=http)
        start = pd.Timestamp("2024-08-05T00:00:00Z")
        t0 = time.monotonic()
        with pytest.raises(UserError) as err:
            cz.liquidation_bars(client, ["BTCUSDT_PERP.A"], "1h", start, start + pd.Timedelta("3h"))
    msg = str(err.value)
    assert time.monotonic() - t0 < 5 and "\n" not in msg
    assert msg.startswith("coinalyze: /v1/liquidation-history: rate-limited until ")
    assert "Retry-After header, 2 h 0 min away" in msg and "key-0123" not in msg


def test_a_geo_block_451_is_not_retried(tmp_path: Path, binance: BinanceUsdm, capsys: Any) -> None:
    # ccxt raises 451 as ExchangeNotAvailable, a NetworkError: waiting never lifts a region block
    restricted = replies.Reply(
        451, {"code": 0, "msg": "Service unavailable from a restricted location"}
    )
    binance.venue.fail_always("/fapi/v1/klines", restricted)
    code, out = cli_fetch(tmp_path, {"binanceusdm": entry(binance, ["ohlcv"])}, 12, capsys)
    assert code == 1
    assert len(binance.venue.hits("/fapi/v1/klines")) == 1
    assert "FAILED ohlcv binanceusdm" in out and "451" in out
    assert not is_transient(
        ccxt.ExchangeNotAvailable("binance GET https://x 451 Unavailable For Legal Reasons {}")
    )
    assert is_transient(ccxt.ExchangeNotAvailable("binance GET https://x 503 Service Unavailable"))
