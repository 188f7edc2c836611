"""``python -m helpers fetch`` over ragged ranges: starts and ends off the hour, to the
millisecond, about 2.37 times the venue's window, and ``--end`` left to default to now.

Every other fetch test asks for whole hours, so a pager that dropped the last partial
window of a range, or an end bound off by a millisecond or a second, would pass them. Here
events sit at the start, inside the final partial window, exactly 1 ms before the end and
at the end. Every event of ``[start, end)`` must be stored once, nothing at or after the
end or before the start, and the resume state must cover exactly ``[start, end)`` (a rerun
asks for nothing). The venues page three ways:

* time windows: Gate (liquidation queries of at most 1 h, times in seconds) and HTX (at
  most 2 h), each range cut into 1 h / 2 h windows, the last one partial;
* cursors: OKX's exclusive ``before``/``after`` bounds, newest rows first;
* row limits: Binance (oldest first), Bybit (newest first), Hyperliquid (oldest first, a
  JSON body) and Bitfinex's liquidation feed (every market in one feed), a range of about
  2.37 pages.

Bars (OHLCV, open interest) are stored once closed: the bar open at a ragged end runs past
it and is fetched by the next run, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from servers.http_venues import HOUR_MS, BinanceUsdm, GateFutures
from servers.http_venues_more import (
    FUNDING_OFFSET_MS,
    BitfinexDerivatives,
    BybitDerivatives,
    HtxLiquidations,
    Hyperliquid,
    OkxSwap,
    bitfinex_liquidation,
)

from helpers.cli import main
from helpers.store import Store

T0 = 1704067200000  # 2024-01-01 00:00 UTC
MINUTE, SECOND = 60_000, 1000
DAY = 24 * HOUR_MS
FAST = {"timeout": 2000, "enableRateLimit": False}
LINEAR = "BTC/USDT:USDT"


def at(h: int = 0, m: int = 0, s: int = 0, ms: int = 0) -> int:
    """Epoch ms ``h:m:s.ms`` after :data:`T0`."""
    return T0 + h * HOUR_MS + m * MINUTE + s * SECOND + ms


def iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def fetch(
    tmp_path: Path, exchanges: dict[str, Any], start: int, end: int | None, capsys: Any
) -> tuple[int, str]:
    """``python -m helpers fetch`` over ``[start, end)`` ms (``end`` None: the default, now)."""
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump({"exchanges": exchanges}))
    argv = ["fetch", "--data-dir", str(tmp_path / "store"), "--config", str(config),
            "--start", iso(start), "--retries", "1", "--backoff", "0.01"]  # fmt: skip
    if end is not None:
        argv += ["--end", iso(end)]
    code = main(argv)
    return code, capsys.readouterr().out


def entry(server: Any, tables: list[str], symbols: Sequence[str] = (LINEAR,), **extra: Any):
    return {
        "symbols": list(symbols),
        "tables": tables,
        "ccxt": {**server.ccxt_options(), **FAST},
        **extra,
    }


def covered(tmp_path: Path) -> dict[str, list[list[int]]]:
    path = tmp_path / "store" / "_state" / "resume.json"
    return json.loads(path.read_text())["covered"]


def stamps(tmp_path: Path, table: str, symbol: str = LINEAR) -> list[int]:
    df = Store(tmp_path / "store").read(table, symbols=[symbol])
    return [int(t.value // 1_000_000) for t in df["ts"]]


def inside(times: Iterable[int], start: int, end: int) -> list[int]:
    return sorted(t for t in times if start <= t < end)


def assert_rerun_asks_nothing(tmp_path, exchanges, start, end, venue, paths, capsys) -> None:
    before = {p: len(venue.hits(p)) for p in paths}
    code, out = fetch(tmp_path, exchanges, start, end, capsys)
    assert code == 0 and "already up to date" in out, out
    assert {p: len(venue.hits(p)) for p in paths} == before


# ---- time windows: Gate, 1 h a query, times in seconds --------------------------------------

GATE_START = at(3, 17, 42, 123)
"""2.37 windows of 1 h before an end at 05:39:54(.001): windows 03:17:42.123-04:17:42.123,
-05:17:42.123, and the partial one to the end."""


def gate_rows(seconds: Iterable[int]) -> list[dict[str, Any]]:
    return [
        {"time": s, "contract": "BTC_USDT", "size": 1 + k if k % 2 == 0 else -(1 + k),
         "order_price": "60000", "fill_price": "60000", "left": 0}
        for k, s in enumerate(seconds)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "end",
    [at(5, 39, 54, 1), at(5, 39, 54)],
    ids=["event-1ms-before-end", "event-at-end"],
)
def test_gate_ragged_range_in_hour_windows(tmp_path: Path, capsys: Any, end: int) -> None:
    """Gate stamps liquidations in whole seconds: with the end at 05:39:54.001 the event of
    second 05:39:54 is 1 ms before it (stored); with the end at 05:39:54 it is at the end
    (not stored)."""
    sec = [
        GATE_START // SECOND,  # 03:17:42.000, 123 ms before the start: not stored
        GATE_START // SECOND + 1,  # the first whole second inside
        at(4, 0) // SECOND,
        at(5, 17, 42) // SECOND,  # 05:17:42.000: the second window's last second
        *[at(5, 17, 43) // SECOND + 60 * k for k in range(14)],  # the partial window
        at(5, 39, 53) // SECOND,
        at(5, 39, 54) // SECOND,  # 1 ms before / at the end
        at(5, 39, 55) // SECOND,  # after the end
    ]
    gate = GateFutures(liquidations={"BTC_USDT": gate_rows(sec)})
    with gate.venue:
        exchanges = {"gate": entry(gate, ["liquidations"], page_limit={"liquidations": 4})}
        code, out = fetch(tmp_path, exchanges, GATE_START, end, capsys)
        assert code == 0, out
        hits = gate.venue.hits("/api/v4/futures/usdt/liq_orders")
        assert_rerun_asks_nothing(
            tmp_path, exchanges, GATE_START, end, gate.venue,
            ["/api/v4/futures/usdt/liq_orders"], capsys,
        )  # fmt: skip
    expected = inside((s * SECOND for s in sec), GATE_START, end)
    assert stamps(tmp_path, "liquidations") == expected
    assert (at(5, 39, 54) in expected) == (end > at(5, 39, 54))
    # Gate: "interval between from and to cannot exceed 3600" seconds
    assert all(int(q["to"]) - int(q["from"]) <= 3600 for q in hits)
    assert max(int(q["to"]) for q in hits) == (end - 1) // SECOND
    assert covered(tmp_path) == {"liquidations|gate|BTC/USDT:USDT": [[GATE_START, end]]}


# ---- time windows: HTX, 2 h a query, milliseconds -------------------------------------------

HTX_START = at(1, 7, 13, 457)
HTX_END = HTX_START + int(2.37 * 2 * HOUR_MS) + 29  # 05:51:37.486: 2.37 windows of 2 h


def htx_rows(times: Iterable[int]) -> list[dict[str, Any]]:
    return [
        {"id": str(500 + k), "contract_code": "BTC-USDT", "liquidation_time": str(t),
         "side": "sell", "position_side": "long", "volume": str(10 + k),
         "amount": str(10 + k), "bankrupt_price": "42000",
         "trade_turnover": f"{(10 + k) * 0.001 * 42000:.4f}"}
        for k, t in enumerate(times)
    ]  # fmt: skip


def test_htx_ragged_range_in_two_hour_windows(tmp_path: Path, capsys: Any) -> None:
    last_window = HTX_START + 4 * HOUR_MS
    times = [
        HTX_START - 1,
        HTX_START,
        HTX_START + 2 * HOUR_MS - 1,
        HTX_START + 2 * HOUR_MS,
        last_window - 1,
        *[last_window + 7 * MINUTE * k for k in range(11)],  # the partial third window
        HTX_END - 1,
        HTX_END,
        HTX_END + 1,
    ]
    server = HtxLiquidations({"BTC-USDT": htx_rows(times)}, {}, page_cap=4)
    with server.venue:
        exchanges = {"htx": entry(server, ["liquidations"], page_limit={"liquidations": 4})}
        code, out = fetch(tmp_path, exchanges, HTX_START, HTX_END, capsys)
        assert code == 0, out
        hits = server.venue.hits("/v5/market/liquidation_orders")
        assert_rerun_asks_nothing(
            tmp_path, exchanges, HTX_START, HTX_END, server.venue,
            ["/v5/market/liquidation_orders"], capsys,
        )  # fmt: skip
    assert stamps(tmp_path, "liquidations") == inside(times, HTX_START, HTX_END)
    assert max(int(q["end_time"]) for q in hits) == HTX_END - 1
    assert covered(tmp_path) == {"liquidations|htx|BTC/USDT:USDT": [[HTX_START, HTX_END]]}


# ---- row limits: Bitfinex's feed of every market, oldest first ------------------------------


def test_bitfinex_ragged_range_of_the_global_feed(tmp_path: Path, capsys: Any) -> None:
    start, end = at(2, 13, 9, 871), at(4, 41, 17, 3)
    btc = [start - 1, start, *[start + 11 * MINUTE * k + 17 for k in range(1, 13)], end - 1,
           end, end + 1]  # fmt: skip
    rows = []
    for p, t in enumerate(btc):
        for match in (0, 1):
            rows.append(bitfinex_liquidation(100 + p, t, "tBTCF0:USTF0", 0.5, 43000, 42000, match))
        rows.append(bitfinex_liquidation(900 + p, t + 3, "tETHF0:USTF0", -2.0, 2300, 2310, 0))
    server = BitfinexDerivatives(T0, T0 + DAY, rows, page_cap=5)
    with server.venue:
        exchanges = {"bitfinex": entry(server, ["liquidations"], page_limit={"liquidations": 5})}
        code, out = fetch(tmp_path, exchanges, start, end, capsys)
        assert code == 0, out
        assert_rerun_asks_nothing(
            tmp_path, exchanges, start, end, server.venue, ["/v2/liquidations/hist"], capsys
        )
    assert stamps(tmp_path, "liquidations") == inside(btc, start, end)
    assert covered(tmp_path) == {"liquidations|bitfinex|BTC/USDT:USDT": [[start, end]]}


# ---- row limits: Binance, oldest first ------------------------------------------------------

BINANCE_START = at(7, 12, 36, 789)
"""Funding every 8 h: the first stored is 08:00; pages of 3 records (24 h) over about 2.37
pages to an end 1 ms after (or at) the funding of hour 64."""


@pytest.mark.parametrize("end", [at(64, ms=1), at(64)], ids=["1ms-after", "at-end"])
def test_binance_ragged_funding_and_bars(tmp_path: Path, capsys: Any, end: int) -> None:
    venue = BinanceUsdm(T0, T0 + 5 * DAY, page_cap=10)
    limits = {"funding": 3, "ohlcv": 10, "open_interest": 10}
    tables = ["ohlcv", "funding", "open_interest"]
    with venue.venue:
        exchanges = {"binanceusdm": entry(venue, tables, page_limit=limits)}
        code, out = fetch(tmp_path, exchanges, BINANCE_START, end, capsys)
        assert code == 0, out
        funding = inside(venue.funding_times(), BINANCE_START, end)
        assert funding[0] == at(8) and (funding[-1] == at(64)) == (end > at(64))
        assert stamps(tmp_path, "funding") == funding
        # bars: 08:00 (the first open at or after the start) to 63:00; the bar open at
        # 64:00 runs past the end and is not stored yet
        bars = list(range(at(8), at(64), HOUR_MS))
        assert stamps(tmp_path, "ohlcv") == bars
        assert stamps(tmp_path, "open_interest") == bars
        assert covered(tmp_path) == {
            "funding|binanceusdm|BTC/USDT:USDT": [[BINANCE_START, end]],
            "ohlcv|binanceusdm|BTC/USDT:USDT|1h": [[BINANCE_START, at(64)]],
            "open_interest|binanceusdm|BTC/USDT:USDT|1h": [[BINANCE_START, at(64)]],
        }
        # the next run, to 65:30, gets the bar of 64:00 once and the funding of 64:00
        # once (or for the first time)
        code, out = fetch(tmp_path, exchanges, BINANCE_START, at(65, 30), capsys)
        assert code == 0, out
    assert stamps(tmp_path, "ohlcv") == [*bars, at(64)]
    assert stamps(tmp_path, "funding") == [*funding[: len(funding) - (end > at(64))], at(64)]


def test_binance_end_defaults_to_now(tmp_path: Path, capsys: Any) -> None:
    """No ``--end``: the range ends now, minutes and seconds in; the server (like a venue)
    also serves the bar still open and stamps past now that no query should reach."""
    hour = pd.Timestamp.now(tz="UTC").floor("h")
    first = int(hour.value // 1_000_000) - 3 * DAY
    venue = BinanceUsdm(first, int(hour.value // 1_000_000) + 3 * HOUR_MS, page_cap=10)
    start = int((pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=23.7)).value // 1_000_000)
    with venue.venue:
        exchanges = {"binanceusdm": entry(venue, ["ohlcv", "funding"])}
        before = int(pd.Timestamp.now(tz="UTC").value // 1_000_000)
        code, out = fetch(tmp_path, exchanges, start, None, capsys)
        after = int(pd.Timestamp.now(tz="UTC").value // 1_000_000)
    assert code == 0, out
    first_bar = -(-start // HOUR_MS) * HOUR_MS
    options = {tuple(range(first_bar, now - now % HOUR_MS, HOUR_MS)) for now in (before, after)}
    assert tuple(stamps(tmp_path, "ohlcv")) in options  # never the bar still open
    funding = {tuple(inside(venue.funding_times(), start, now)) for now in (before, after)}
    assert tuple(stamps(tmp_path, "funding")) in funding
    ((begin, end),) = covered(tmp_path)["funding|binanceusdm|BTC/USDT:USDT"]
    assert begin == start and before <= end <= after


# ---- cursors: OKX, exclusive bounds, newest first -------------------------------------------


@pytest.mark.parametrize("end", [at(112, ms=1), at(112)], ids=["1ms-after", "at-end"])
def test_okx_ragged_funding_and_bars(tmp_path: Path, capsys: Any, end: int) -> None:
    """OKX pages of 5 rows: funding windows of 40 h, a range of 2.37 of them from 17:12:00.999
    to 1 ms after (or at) the funding of hour 112."""
    start = at(17, 12, 0, 999)
    okx = OkxSwap(T0, T0 + 6 * DAY, page_cap=5)
    with okx.venue:
        exchanges = {"okx": entry(okx, ["funding", "ohlcv"])}
        code, out = fetch(tmp_path, exchanges, start, end, capsys)
        assert code == 0, out
        funding = inside(okx.tapes["BTC-USDT-SWAP"].every(8), start, end)
        assert funding[0] == at(24) and (funding[-1] == at(112)) == (end > at(112))
        assert stamps(tmp_path, "funding") == funding
        first_bar = -(-start // HOUR_MS) * HOUR_MS
        assert stamps(tmp_path, "ohlcv") == list(range(first_bar, at(112), HOUR_MS))
        assert_rerun_asks_nothing(
            tmp_path, exchanges, start, end, okx.venue,
            ["/api/v5/public/funding-rate-history", "/api/v5/market/history-candles",
             "/api/v5/market/candles"], capsys,
        )  # fmt: skip
    assert covered(tmp_path)["funding|okx|BTC/USDT:USDT"] == [[start, end]]


# ---- row limits: Bybit newest first, Hyperliquid oldest first -------------------------------


@pytest.mark.parametrize("end", [at(56, ms=1), at(56)], ids=["1ms-after", "at-end"])
def test_bybit_ragged_funding_and_bars(tmp_path: Path, capsys: Any, end: int) -> None:
    """Bybit pages of 2 rows: funding windows of 16 h, a range of 2.37 of them from
    18:04:48.077 to 1 ms after (or at) the funding of hour 56."""
    start = at(18, 4, 48, 77)
    bybit = BybitDerivatives(T0, T0 + 4 * DAY, page_cap=2)
    with bybit.venue:
        exchanges = {"bybit": entry(bybit, ["funding", "ohlcv"])}
        code, out = fetch(tmp_path, exchanges, start, end, capsys)
        assert code == 0, out
    funding = inside(bybit.tapes["BTCUSDT"].every(8), start, end)
    assert funding[0] == at(24) and (funding[-1] == at(56)) == (end > at(56))
    assert stamps(tmp_path, "funding") == funding
    assert stamps(tmp_path, "ohlcv") == list(range(at(19), at(56), HOUR_MS))
    assert covered(tmp_path)["funding|bybit|BTC/USDT:USDT"] == [[start, end]]


@pytest.mark.parametrize(
    "end",
    [at(23, ms=FUNDING_OFFSET_MS + 1), at(23, ms=FUNDING_OFFSET_MS)],
    ids=["1ms-after", "at-end"],
)
def test_hyperliquid_ragged_funding(tmp_path: Path, capsys: Any, end: int) -> None:
    """Hourly funding stamped 31 ms past the hour, pages of 10: a range of 2.3 pages from
    1 ms after the funding of 00:00 to 1 ms after (or at) the one of 23:00."""
    start = at(0, ms=FUNDING_OFFSET_MS + 1)
    server = Hyperliquid(T0, T0 + 2 * DAY, page_cap=10)
    symbol = "BTC/USDC:USDC"
    with server.venue:
        code, out = fetch(
            tmp_path, {"hyperliquid": entry(server, ["funding"], [symbol])}, start, end, capsys
        )
    assert code == 0, out
    funding = inside(server.tapes["BTC"].every(1, FUNDING_OFFSET_MS), start, end)
    assert funding[0] == at(1, ms=FUNDING_OFFSET_MS)
    assert (funding[-1] == at(23, ms=FUNDING_OFFSET_MS)) == (end > at(23, ms=FUNDING_OFFSET_MS))
    assert stamps(tmp_path, "funding", symbol) == funding
    assert covered(tmp_path) == {f"funding|hyperliquid|{symbol}": [[start, end]]}
