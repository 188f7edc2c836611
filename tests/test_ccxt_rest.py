"""``python -m helpers fetch``: the real ccxt client against local Binance and Gate servers.

Covers paging to completion, resume after an interrupted run (no duplicates, no gaps),
429 / 418 / 5xx / timeouts retried with backoff, a clear error when retries run out, HTTP
200 junk (HTML, truncated JSON, rows without prices) rejected, missing bars recorded as
gaps, and Gate liquidation paging (its ``from``/``to`` in seconds, newest-first pages).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from servers.http_venues import HOUR_MS, BinanceUsdm, GateFutures

from helpers.cli.fetch import add_fetch_arguments, run_fetch
from helpers.errors import UserError
from helpers.sources import ccxt_rest
from helpers.sources.ccxt_rest import merge_ranges, subtract_ranges
from helpers.store import Store

T0 = 1704067200000  # 2024-01-01 00:00 UTC
DAY = 24 * HOUR_MS
FAST = {"timeout": 300, "enableRateLimit": False}


@pytest.fixture
def binance() -> Iterator[BinanceUsdm]:
    venue = BinanceUsdm(T0, T0 + 2 * DAY, page_cap=10)
    venue.venue.stall_seconds = 0.6
    with venue.venue:
        yield venue


def config_file(tmp_path: Path, exchanges: dict[str, Any]) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"exchanges": exchanges}))
    return path


def binance_config(tmp_path: Path, venue: BinanceUsdm, tables: list[str] | None = None) -> Path:
    entry: dict[str, Any] = {
        "symbols": ["BTC/USDT:USDT"],
        "ccxt": {**venue.ccxt_options(), **FAST},
    }
    if tables:
        entry["tables"] = tables
    return config_file(tmp_path, {"binanceusdm": entry})


def fetch(tmp_path: Path, config: Path, *extra: str, capsys: Any = None) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(tmp_path / "store"))
    parser.add_argument("-v", "--verbose", action="store_true")
    add_fetch_arguments(parser)
    args = parser.parse_args(
        ["--config", str(config), "--retries", "2", "--backoff", "0.01", *extra]
    )
    code = run_fetch(args)
    out = capsys.readouterr().out if capsys is not None else ""
    return code, out


def window(hours_from: int, hours_to: int) -> list[str]:
    start = pd.Timestamp(T0 + hours_from * HOUR_MS, unit="ms", tz="UTC").isoformat()
    end = pd.Timestamp(T0 + hours_to * HOUR_MS, unit="ms", tz="UTC").isoformat()
    return ["--start", start, "--end", end]


def ohlcv(tmp_path: Path) -> pd.DataFrame:
    return Store(tmp_path / "store").read("ohlcv")


def hourly(df: pd.DataFrame, hours: int) -> bool:
    expected = pd.date_range(pd.Timestamp(T0, unit="ms", tz="UTC"), periods=hours, freq="h")
    return list(df["ts"]) == list(expected)


# ---- paging ---------------------------------------------------------------------------------


def test_pages_every_table_to_completion(tmp_path: Path, binance: BinanceUsdm, capsys: Any) -> None:
    cfg = binance_config(tmp_path, binance)
    code, out = fetch(
        tmp_path, cfg, *window(0, 48), "--tables", "ohlcv,funding,open_interest", capsys=capsys
    )
    assert code == 0, out
    store = Store(tmp_path / "store")

    bars = store.read("ohlcv")
    assert hourly(bars, 48)  # 48 bars through pages of at most 10
    assert len(binance.venue.hits("/fapi/v1/klines")) >= 5
    first = bars.iloc[0]
    # bar i opens at 40000 + 10 i and closes at the next open; high = close + 5, low = open - 5
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        40000,
        40015,
        39995,
        40010,
    )
    assert set(bars["source"]) == {"ccxt:binanceusdm"} and set(bars["interval"]) == {"1h"}

    funding = store.read("funding")
    # every 8 h over 48 h: 6 rates, 0.0001 * (1 + k % 3)
    assert list(funding["rate"]) == pytest.approx([0.0001, 0.0002, 0.0003, 0.0001, 0.0002, 0.0003])

    oi = store.read("open_interest")
    assert len(oi) == 48
    # hour 3: (1000 + 3) BTC * 40,030 USD = 40,150,090 USD
    assert oi.iloc[3]["oi_usd"] == pytest.approx(1003 * 40030)

    assert "ohlcv          binanceusdm  BTC/USDT:USDT         48 new of      48 rows" in out
    assert "2024-01-01 00:00 .. 2024-01-02 23:00 UTC" in out


def test_rerun_fetches_only_what_is_new(tmp_path: Path, binance: BinanceUsdm, capsys: Any) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    assert fetch(tmp_path, cfg, *window(0, 24), capsys=capsys)[0] == 0
    n = len(binance.venue.hits("/fapi/v1/klines"))
    code, out = fetch(tmp_path, cfg, *window(0, 24), capsys=capsys)
    assert code == 0 and "already up to date" in out
    assert len(binance.venue.hits("/fapi/v1/klines")) == n  # no request at all

    assert fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)[0] == 0
    new = binance.venue.hits("/fapi/v1/klines")[n:]
    assert int(new[0]["startTime"]) == T0 + 24 * HOUR_MS  # starts where the last run ended
    assert hourly(ohlcv(tmp_path), 48)


def test_interrupted_run_resumes_without_gaps_or_duplicates(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    # two good pages (20 bars), then the venue fails for longer than the 3 attempts
    binance.venue.fail("/fapi/v1/klines", None, None, 500, 502, 503)
    code, out = fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)
    assert code == 1 and "FAILED ohlcv binanceusdm BTC/USDT:USDT" in out
    assert hourly(ohlcv(tmp_path), 20)
    state = json.loads((tmp_path / "store" / "_state" / "resume.json").read_text())
    assert state["covered"]["ohlcv|binanceusdm|BTC/USDT:USDT|1h"] == [[T0, T0 + 20 * HOUR_MS]]

    binance.venue.clear_faults()
    n = len(binance.venue.hits("/fapi/v1/klines"))
    assert fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)[0] == 0
    assert int(binance.venue.hits("/fapi/v1/klines")[n]["startTime"]) == T0 + 20 * HOUR_MS
    bars = ohlcv(tmp_path)
    assert hourly(bars, 48) and not bars["ts"].duplicated().any()


# ---- retries --------------------------------------------------------------------------------


def test_429_418_5xx_and_timeouts_are_retried(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    binance.venue.fail("/fapi/v1/klines", 429, None, 418, None, 503, None, "timeout")
    code, out = fetch(tmp_path, cfg, *window(0, 48), "--retries", "2", capsys=capsys)
    assert code == 0, out
    assert hourly(ohlcv(tmp_path), 48)
    # 5 pages (10, 10, 10, 10, 8 bars) + 4 failed attempts
    assert len(binance.venue.hits("/fapi/v1/klines")) == 5 + 4


def test_clear_error_when_retries_run_out(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    binance.venue.fail_always("/fapi/v1/klines", 429)
    code, out = fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)
    assert code == 1
    assert "gave up after 3 attempts" in out and "429 Too Many Requests" in out
    assert len(binance.venue.hits("/fapi/v1/klines")) == 3
    assert ohlcv(tmp_path).empty
    assert not (tmp_path / "store" / "_state" / "resume.json").exists()


def test_markets_failure_is_reported(tmp_path: Path, binance: BinanceUsdm, capsys: Any) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    binance.venue.fail_always("/fapi/v1/exchangeInfo", 503)
    code, out = fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)
    assert code == 1 and "FAILED binanceusdm markets" in out


# ---- junk -----------------------------------------------------------------------------------


@pytest.mark.parametrize("junk, message", [("html", "not JSON"), ("truncated", "not JSON")])
def test_http_200_junk_is_rejected(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any, junk: str, message: str
) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    binance.venue.fail_always("/fapi/v1/klines", junk)
    code, out = fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)
    assert code == 1 and message in out
    assert ohlcv(tmp_path).empty
    assert not Store(tmp_path / "store").quarantine_files("ohlcv")


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"code": 0, "msg": "ok"}, "JunkResponse"),
        ([[T0, None, "1", "1", "1", "1"]], "missing or non-positive price"),
        ([[None, "1", "1", "1", "1", "1"]], "has no timestamp"),
    ],
)
def test_wrong_shape_or_rows_without_prices_are_rejected(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any, payload: Any, message: str
) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    binance.venue.route("/fapi/v1/klines", lambda q: payload)
    code, out = fetch(tmp_path, cfg, *window(0, 48), capsys=capsys)
    assert code == 1 and message in out
    assert ohlcv(tmp_path).empty


# ---- gaps -----------------------------------------------------------------------------------


def test_missing_bars_are_recorded_as_gaps(tmp_path: Path, capsys: Any) -> None:
    venue = BinanceUsdm(
        T0, T0 + DAY, page_cap=10, missing_bars={T0 + 5 * HOUR_MS, T0 + 6 * HOUR_MS}
    )
    with venue.venue:
        code, out = fetch(
            tmp_path, binance_config(tmp_path, venue, ["ohlcv"]), *window(0, 24), capsys=capsys
        )
    assert code == 0 and "1 gap(s) recorded" in out
    assert len(ohlcv(tmp_path)) == 22  # 24 hours minus the two missing bars
    gaps = Store(tmp_path / "store").read("gaps")
    assert len(gaps) == 1
    assert gaps.iloc[0]["start"] == pd.Timestamp(T0 + 5 * HOUR_MS, unit="ms", tz="UTC")
    assert gaps.iloc[0]["end"] == pd.Timestamp(T0 + 7 * HOUR_MS, unit="ms", tz="UTC")


# ---- liquidations ---------------------------------------------------------------------------


def gate_events() -> dict[str, list[dict[str, Any]]]:
    """Linear: 24 events at t0 + 100 s * k (k = 0..24 but 8), size 10 + k contracts, long
    for even k and short for odd, plus a second event in k = 7's second (size -99): 25 in
    all. Inverse: 3 longs of 1,000, 2,000 and 3,000 contracts."""
    s0 = T0 // 1000
    sizes = [(k, 10 + k if k % 2 == 0 else -(10 + k)) for k in range(25) if k != 8] + [(7, -99)]
    linear = [
        {"time": s0 + 100 * k, "contract": "BTC_USDT", "size": size,
         "order_price": "60000", "fill_price": "60000", "left": 0}
        for k, size in sizes
    ]  # fmt: skip
    inverse = [
        {"time": s0 + 50 * k, "contract": "BTC_USD", "size": 1000 * (k + 1),
         "order_price": "50000", "fill_price": "50000", "left": 0}
        for k in range(3)
    ]  # fmt: skip
    return {"BTC_USDT": linear, "BTC_USD": inverse}


def test_gate_liquidations_are_paged_whatever_the_order(tmp_path: Path, capsys: Any) -> None:
    gate = GateFutures(liquidations=gate_events())
    with gate.venue:
        cfg = config_file(
            tmp_path,
            {
                "gate": {
                    "symbols": ["BTC/USDT:USDT", "BTC/USD:BTC"],
                    "tables": ["liquidations"],
                    "page_limit": {"liquidations": 4},
                    "ccxt": {**gate.ccxt_options(), **FAST},
                }
            },
        )
        code, out = fetch(tmp_path, cfg, *window(0, 2), capsys=capsys)
        assert code == 0, out
        hits = gate.venue.hits("/api/v4/futures/usdt/liq_orders")
        assert len(hits) > 7  # 25 events in pages of 4
        assert all(int(h["from"]) < 10**10 and int(h["to"]) < 10**10 for h in hits)  # seconds

        liq = Store(tmp_path / "store").read("liquidations")
        linear = liq[liq["symbol"] == "BTC/USDT:USDT"]
        assert len(linear) == 25 and not linear["event_id"].duplicated().any()
        first = linear.iloc[0]
        # k = 0: size +10 contracts = a long of 10 * 0.0001 = 0.001 BTC * 60,000 = 60 USD
        assert (first["side"], first["amount"], first["notional_usd"]) == ("long", 0.001, 60.0)
        inverse = liq[liq["symbol"] == "BTC/USD:BTC"]
        # k = 2: 3,000 contracts of 1 USD = 3,000 USD; 3000 / 50,000 = 0.06 BTC, a long
        assert list(inverse["notional_usd"]) == [1000.0, 2000.0, 3000.0]
        assert inverse.iloc[2]["amount"] == pytest.approx(0.06)
        assert set(liq["source"]) == {"ccxt:gate"}

        n = len(gate.venue.hits("/api/v4/futures/usdt/liq_orders"))
        assert fetch(tmp_path, cfg, *window(0, 2), capsys=capsys)[0] == 0
        assert len(gate.venue.hits("/api/v4/futures/usdt/liq_orders")) == n


def test_liquidations_skipped_where_ccxt_has_no_rest_history(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    cfg = binance_config(tmp_path, binance, ["liquidations"])
    code, out = fetch(tmp_path, cfg, *window(0, 2), capsys=capsys)
    assert code == 0 and "skipped liquidations binanceusdm" in out


# ---- symbols and arguments ------------------------------------------------------------------


def test_base_coin_resolves_to_the_usdt_perpetual(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    cfg = binance_config(tmp_path, binance, ["funding"])
    code, out = fetch(tmp_path, cfg, *window(0, 48), "--symbols", "btc", capsys=capsys)
    assert code == 0 and len(Store(tmp_path / "store").read("funding")) == 6


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--symbols", "DOGE/USDT:USDT"], "unknown symbol"),
        (["--tables", "trades"], "unknown"),
        (["--interval", "7m"], "--interval"),
        (["--start", "2024-01-02", "--end", "2024-01-01"], "--start must be before --end"),
    ],
)
def test_bad_arguments_are_user_errors(
    tmp_path: Path, binance: BinanceUsdm, extra: list[str], message: str
) -> None:
    cfg = binance_config(tmp_path, binance, ["ohlcv"])
    with pytest.raises(UserError, match=message):
        fetch(tmp_path, cfg, *window(0, 2), *extra)


def test_range_arithmetic() -> None:
    assert merge_ranges([[5, 8], [0, 3], [3, 4], [7, 10]]) == [[0, 4], [5, 10]]
    # [0, 20) minus [0, 4) and [5, 10): what is left is [4, 5) and [10, 20)
    assert subtract_ranges(0, 20, [[0, 4], [5, 10]]) == [(4, 5), (10, 20)]
    assert subtract_ranges(2, 3, [[0, 4]]) == []


def test_open_interest_in_usd_for_linear_and_inverse() -> None:
    linear = {"quote": "USDT", "inverse": False, "contractSize": 1}
    inverse = {"quote": "USD", "inverse": True, "contractSize": 100}
    t1 = pd.Timestamp(T0 + HOUR_MS, unit="ms", tz="UTC")
    opens = pd.Series([50000.0], index=[t1])
    rows = [
        {"timestamp": T0, "openInterestAmount": 2.0, "openInterestValue": 99000.0},
        {"timestamp": T0 + HOUR_MS, "openInterestAmount": 2.0, "openInterestValue": None},
        {"timestamp": T0 + 2 * HOUR_MS, "openInterestAmount": 2.0, "openInterestValue": None},
    ]
    oi = ccxt_rest.open_interest_frame(rows, "bybit", "BTC/USDT:USDT", linear, opens)
    # the venue's value; 2 BTC * the 50,000 open of the bar at t1 (estimate); no bar: NaN
    assert oi["oi_usd"].iloc[:2].tolist() == [99000.0, 100000.0]
    assert pd.isna(oi["oi_usd"].iloc[2])
    coinm = [{"timestamp": T0, "openInterestAmount": 30.0, "openInterestValue": 0.05}]
    # Binance COIN-M: 30 contracts * 100 USD = 3,000 USD (its value is in BTC, not used)
    oi = ccxt_rest.open_interest_frame(coinm, "binancecoinm", "BTC/USD:BTC", inverse)
    assert oi["oi_usd"].tolist() == [3000.0]
    bybit = [{"timestamp": T0, "openInterestAmount": None, "openInterestValue": 7000.0}]
    oi = ccxt_rest.open_interest_frame(bybit, "bybit", "BTC/USD:BTC", inverse)
    assert oi["oi_usd"].tolist() == [7000.0]


# ---- the retry helper on its own (plain-HTTP clients use it too) ----------------------------


def test_retry_predicate_and_backoff() -> None:
    import asyncio

    import ccxt

    from helpers.sources.retry import (
        RetriesExhausted,
        RetryPolicy,
        TransientHTTPError,
        acall_with_retry,
        call_with_retry,
        is_transient,
    )

    class StatusError(Exception):
        def __init__(self, status: int) -> None:
            self.status_code = status

    assert is_transient(TransientHTTPError(503, "u")) and is_transient(StatusError(418))
    assert is_transient(ccxt.RequestTimeout("t")) and is_transient(TimeoutError())
    assert not is_transient(StatusError(404)) and not is_transient(ccxt.BadSymbol("x"))
    assert not is_transient(ValueError("x"))

    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StatusError(429)
        return "ok"

    policy = RetryPolicy(attempts=3, base_delay=0.001)
    assert call_with_retry(flaky, policy=policy, what="flaky") == "ok" and len(calls) == 3

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad request")

    calls.clear()
    with pytest.raises(ValueError):  # not retryable: raised at once
        call_with_retry(broken, policy=policy)
    assert len(calls) == 1

    async def always_503() -> None:
        raise TransientHTTPError(503, "http://127.0.0.1/x")

    with pytest.raises(RetriesExhausted, match="vendor: gave up after 3 attempts.*HTTP 503"):
        asyncio.run(acall_with_retry(always_503, policy=policy, what="vendor"))
