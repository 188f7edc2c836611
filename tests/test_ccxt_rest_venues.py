"""``python -m helpers fetch``: the real ccxt client against local OKX, Bybit, Hyperliquid,
HTX and Bitfinex servers (``servers/http_venues_more.py``), and Gate's query window.

Each venue pages its own way: OKX, Bybit, HTX and Bitfinex's derivatives status return the
NEWEST rows of a window, Hyperliquid and Bitfinex with ``sort=1`` the oldest; OKX's funding
history ignores a lone lower bound; HTX and Gate refuse windows longer than 2 h / 1 h;
Bitfinex lists every market's liquidations in one feed. The tests check that every bar,
funding record, open-interest row and liquidation of the window lands in the store once,
at its own time, with the values worked out by hand below.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from servers.http_venues import HOUR_MS, GateFutures
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
DAY = 24 * HOUR_MS
MINUTE = 60_000
FAST = {"timeout": 2000, "enableRateLimit": False}
ALL_TABLES = ["ohlcv", "funding", "open_interest", "liquidations"]
LINEAR, INVERSE = "BTC/USDT:USDT", "BTC/USD:BTC"


def utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def hours(n: int, offset_ms: int = 0, every: int = 1) -> list[pd.Timestamp]:
    return [utc(T0 + h * HOUR_MS + offset_ms) for h in range(0, n, every)]


def venue_entry(server: Any, symbols: list[str], tables: list[str], **extra: Any) -> dict:
    return {
        "symbols": symbols,
        "tables": tables,
        "ccxt": {**server.ccxt_options(), **FAST},
        **extra,
    }


def fetch(
    tmp_path: Path, exchanges: dict[str, Any], start_h: int, end_h: int, capsys: Any
) -> tuple[int, str]:
    """Run ``python -m helpers fetch`` over ``[T0 + start_h, T0 + end_h)``."""
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump({"exchanges": exchanges}))
    code = main(
        ["fetch", "--data-dir", str(tmp_path / "store"), "--config", str(config),
         "--start", utc(T0 + start_h * HOUR_MS).isoformat(),
         "--end", utc(T0 + end_h * HOUR_MS).isoformat(),
         "--retries", "2", "--backoff", "0.01"]
    )  # fmt: skip
    return code, capsys.readouterr().out


def read(tmp_path: Path, table: str, symbol: str) -> pd.DataFrame:
    return Store(tmp_path / "store").read(table, symbols=[symbol]).reset_index(drop=True)


def bar(df: pd.DataFrame, h: int) -> tuple[float, float, float, float, float]:
    row = df[df["ts"] == utc(T0 + h * HOUR_MS)].iloc[0]
    return (row["open"], row["high"], row["low"], row["close"], row["volume"])


def oi_at(df: pd.DataFrame, t_ms: int) -> float:
    return float(df.loc[df["ts"] == utc(t_ms), "oi_usd"].iloc[0])


# ---- OKX ------------------------------------------------------------------------------------


@pytest.fixture
def okx() -> Iterator[OkxSwap]:
    server = OkxSwap(T0, T0 + 2 * DAY, page_cap=5)
    with server.venue:
        yield server


def test_okx_newest_first_pages_fill_the_whole_window(
    tmp_path: Path, okx: OkxSwap, capsys: Any
) -> None:
    entry = venue_entry(okx, [LINEAR, INVERSE], ALL_TABLES)
    code, out = fetch(tmp_path, {"okx": entry}, 0, 48, capsys)
    assert code == 0, out
    assert "skipped liquidations okx: no public REST liquidation history in ccxt" in out

    for symbol in (LINEAR, INVERSE):
        bars = read(tmp_path, "ohlcv", symbol)
        assert list(bars["ts"]) == hours(48), symbol  # 48 bars, though each page holds 5
    # linear bar 0 opens at 42,000 and closes at bar 1's open 42,010; high = close + 5,
    # low = open - 5; volume = volCcy: 1,000 contracts * 0.01 BTC = 10 BTC
    assert bar(read(tmp_path, "ohlcv", LINEAR), 0) == (42000, 42015, 41995, 42010, 10)
    # bar 47: 42,000 + 10 * 47 = 42,470
    assert bar(read(tmp_path, "ohlcv", LINEAR), 47)[0] == 42470
    assert bar(read(tmp_path, "ohlcv", INVERSE), 3)[0] == 41930  # 41,900 + 10 * 3

    linear = read(tmp_path, "funding", LINEAR)
    assert list(linear["ts"]) == hours(48, every=8)
    # realizedRate 0.0001 * (1 + k % 3), not the predicted fundingRate (0.00002 higher)
    assert list(linear["rate"]) == pytest.approx([1e-4, 2e-4, 3e-4, 1e-4, 2e-4, 3e-4])
    inverse = read(tmp_path, "funding", INVERSE)
    # -0.00005 * (k + 1), k = 0..5
    assert list(inverse["rate"]) == pytest.approx([-5e-5 * (k + 1) for k in range(6)])
    # OKX's funding history returns its LATEST records when given only a lower bound
    assert all("after" in q for q in okx.venue.hits("/api/v5/public/funding-rate-history"))

    oi = read(tmp_path, "open_interest", LINEAR)
    assert list(oi["ts"]) == hours(48)
    # hour 3: oiUsd = (200,000 + 300) contracts * 0.01 BTC * the 42,030 open = 84,186,090
    assert oi_at(oi, T0 + 3 * HOUR_MS) == pytest.approx(2003 * 42030)
    oi = read(tmp_path, "open_interest", INVERSE)
    # hour 5: (30,000 + 50) contracts * 100 USD = 3,005,000 USD
    assert len(oi) == 48 and oi_at(oi, T0 + 5 * HOUR_MS) == pytest.approx(3_005_000)


def test_okx_rerun_asks_only_for_what_is_new(tmp_path: Path, okx: OkxSwap, capsys: Any) -> None:
    entry = venue_entry(okx, [LINEAR], ["ohlcv"])
    assert fetch(tmp_path, {"okx": entry}, 0, 24, capsys)[0] == 0
    n = len(okx.venue.requests)
    code, out = fetch(tmp_path, {"okx": entry}, 0, 48, capsys)
    assert code == 0, out
    candles = [r.query for r in okx.venue.requests[n:] if r.path.endswith("candles")]
    # OKX bounds are exclusive: before = 24 h - 1 ms, i.e. nothing before hour 24 is asked for
    assert min(int(q["before"]) for q in candles) == T0 + 24 * HOUR_MS - 1
    bars = read(tmp_path, "ohlcv", LINEAR)
    assert list(bars["ts"]) == hours(48)


# ---- Bybit ----------------------------------------------------------------------------------


@pytest.fixture
def bybit() -> Iterator[BybitDerivatives]:
    server = BybitDerivatives(T0, T0 + 2 * DAY, page_cap=5)
    with server.venue:
        yield server


def test_bybit_linear_and_inverse_history(
    tmp_path: Path, bybit: BybitDerivatives, capsys: Any
) -> None:
    entry = venue_entry(bybit, [LINEAR, INVERSE], ALL_TABLES)
    code, out = fetch(tmp_path, {"bybit": entry}, 0, 48, capsys)
    assert code == 0, out
    assert "skipped liquidations bybit: no public REST liquidation history in ccxt" in out
    # Bybit takes at most 200 funding or open-interest rows a request (1000 klines)
    assert all(int(q["limit"]) <= 200 for q in bybit.venue.hits("/v5/market/funding/history"))
    assert all(int(q["limit"]) <= 200 for q in bybit.venue.hits("/v5/market/open-interest"))

    for symbol in (LINEAR, INVERSE):
        assert list(read(tmp_path, "ohlcv", symbol)["ts"]) == hours(48), symbol
    # linear: volume 12.5 BTC; inverse: ccxt's base volume is the 2.5 BTC turnover
    assert bar(read(tmp_path, "ohlcv", LINEAR), 0) == (43000, 43015, 42995, 43010, 12.5)
    assert bar(read(tmp_path, "ohlcv", INVERSE), 10) == (43000, 43015, 42995, 43010, 2.5)

    linear = read(tmp_path, "funding", LINEAR)
    assert list(linear["ts"]) == hours(48, every=8)
    assert list(linear["rate"]) == pytest.approx([1e-4, 2e-4, 3e-4, 1e-4, 2e-4, 3e-4])
    assert list(read(tmp_path, "funding", INVERSE)["rate"]) == pytest.approx(
        [-1e-4, -2e-4, -3e-4, -1e-4, -2e-4, -3e-4]
    )

    oi = read(tmp_path, "open_interest", LINEAR)
    assert list(oi["ts"]) == hours(48)
    # Bybit gives linear open interest in BTC only: (5,000 + 3) BTC valued at the open of
    # the stored bar at hour 3, 43,030 USD: 215,279,090 USD (an estimate)
    assert oi_at(oi, T0 + 3 * HOUR_MS) == pytest.approx(5003 * 43030)
    oi = read(tmp_path, "open_interest", INVERSE)
    # inverse open interest is in USD contracts of 1 USD: 300,000,000 + 1000 * 5
    assert len(oi) == 48 and oi_at(oi, T0 + 5 * HOUR_MS) == pytest.approx(300_005_000)


def test_bybit_interrupted_run_resumes_without_gaps(
    tmp_path: Path, bybit: BybitDerivatives, capsys: Any
) -> None:
    entry = venue_entry(bybit, [LINEAR], ["ohlcv"])
    # two good pages (the newest first: hours 43-47, then 38-42), then the venue fails for
    # longer than the 3 attempts (a 5xx is retried whatever class ccxt raises for it)
    bybit.venue.fail("/v5/market/kline", None, None, 500, 502, 503)
    code, out = fetch(tmp_path, {"bybit": entry}, 0, 48, capsys)
    assert code == 1 and "FAILED ohlcv bybit BTC/USDT:USDT" in out
    assert list(read(tmp_path, "ohlcv", LINEAR)["ts"]) == hours(48)[38:]

    bybit.venue.clear_faults()
    n = len(bybit.venue.hits("/v5/market/kline"))
    assert fetch(tmp_path, {"bybit": entry}, 0, 48, capsys)[0] == 0
    # the rerun asks only for what is missing: nothing at or after hour 38
    assert all(int(q["end"]) < T0 + 38 * HOUR_MS for q in bybit.venue.hits("/v5/market/kline")[n:])
    bars = read(tmp_path, "ohlcv", LINEAR)
    assert list(bars["ts"]) == hours(48) and not bars["ts"].duplicated().any()


@pytest.mark.parametrize(
    "hole",
    [
        (20, 21),  # newest five: 17-19 and 22-23, the hole inside one page
        (17, 18),  # newest five: 19-23, then 12-16; the hole between pages is asked again
    ],
)
def test_bybit_missing_bars_are_one_gap_whatever_the_page_order(
    tmp_path: Path, capsys: Any, hole: tuple[int, int]
) -> None:
    missing = {T0 + h * HOUR_MS for h in hole}
    server = BybitDerivatives(T0, T0 + DAY, page_cap=5, missing_bars=missing)
    with server.venue:
        entry = venue_entry(server, [LINEAR], ["ohlcv"])
        code, out = fetch(tmp_path, {"bybit": entry}, 0, 24, capsys)
    assert code == 0 and "1 gap(s) recorded" in out, out
    bars = read(tmp_path, "ohlcv", LINEAR)
    assert list(bars["ts"]) == [t for t in hours(24) if t.hour not in hole]
    gaps = Store(tmp_path / "store").read("gaps")
    assert (gaps["start"].tolist(), gaps["end"].tolist()) == (
        [utc(T0 + hole[0] * HOUR_MS)],
        [utc(T0 + (hole[1] + 1) * HOUR_MS)],
    )


def test_latest_rows_for_a_past_window_are_rejected_not_taken_as_empty(
    tmp_path: Path, bybit: BybitDerivatives, capsys: Any
) -> None:
    latest = bybit.funding({"category": "linear", "symbol": "BTCUSDT"})  # no time bounds
    bybit.venue.route("/v5/market/funding/history", lambda q: latest)
    entry = venue_entry(bybit, [LINEAR], ["funding"])
    code, out = fetch(tmp_path, {"bybit": entry}, -24, 0, capsys)  # the day before the data
    assert code == 1 and "rows all at or after the requested end" in out, out
    assert Store(tmp_path / "store").read("funding").empty
    assert not (tmp_path / "store" / "_state" / "resume.json").exists()


# ---- Hyperliquid ----------------------------------------------------------------------------


def test_hyperliquid_bars_and_funding(tmp_path: Path, capsys: Any) -> None:
    server = Hyperliquid(T0, T0 + 2 * DAY, page_cap=10)
    with server.venue:
        entry = venue_entry(server, ["BTC/USDC:USDC"], ALL_TABLES)
        code, out = fetch(tmp_path, {"hyperliquid": entry}, 0, 48, capsys)
    assert code == 0, out
    assert (
        "skipped open_interest hyperliquid: ccxt hyperliquid has no fetchOpenInterestHistory" in out
    )
    assert "skipped liquidations hyperliquid: no public REST liquidation history" in out

    bars = read(tmp_path, "ohlcv", "BTC/USDC:USDC")
    assert list(bars["ts"]) == hours(48)  # pages of 10, oldest first
    assert bar(bars, 2) == (42520, 42535, 42515, 42530, 7.5)  # 42,500 + 10 * 2

    funding = read(tmp_path, "funding", "BTC/USDC:USDC")
    # hourly, stamped 31 ms after the hour as the venue sends them
    assert list(funding["ts"]) == hours(48, offset_ms=FUNDING_OFFSET_MS)
    # 0.0000125 * (1 + j % 4): hours 0..4
    assert list(funding["rate"][:5]) == pytest.approx([1.25e-5, 2.5e-5, 3.75e-5, 5e-5, 1.25e-5])
    assert len(server.venue.hits("/info")) >= 2 + 5 + 5  # markets, then pages of 10


# ---- HTX ------------------------------------------------------------------------------------


def htx_events() -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """Linear BTC-USDT (v5): k = 0..8 at T0 + 25 min * k, 10 + k contracts of 0.001 BTC at
    42,000 + 100 k, a long position for even k (its liquidation order sells), short for
    odd. Coin-margined BTC-USD (v3): j = 0..5 at T0 + 35 min * j, 20 + j contracts of
    100 USD at 40,000 + 50 j, direction sell (a long liquidated) for even j."""
    linear = [
        {"id": str(150_000 + k), "contract_code": "BTC-USDT",
         "liquidation_time": str(T0 + 25 * MINUTE * k),
         "side": "sell" if k % 2 == 0 else "buy",
         "position_side": "long" if k % 2 == 0 else "short",
         "volume": str(10 + k), "amount": str(10 + k),
         "bankrupt_price": str(42000 + 100 * k),
         "trade_turnover": f"{(10 + k) * 0.001 * (42000 + 100 * k):.4f}"}
        for k in range(9)
    ]  # fmt: skip
    inverse = [
        {"query_id": 7000 + j, "contract_code": "BTC-USD", "symbol": "BTC",
         "direction": "sell" if j % 2 == 0 else "buy", "offset": "close",
         "volume": 20 + j, "price": 40000 + 50 * j, "created_at": T0 + 35 * MINUTE * j,
         "amount": (20 + j) * 100 / (40000 + 50 * j)}
        for j in range(6)
    ]  # fmt: skip
    return {"BTC-USDT": linear}, {"BTC-USD": inverse}


def test_htx_liquidations_linear_and_inverse(tmp_path: Path, capsys: Any) -> None:
    linear, inverse = htx_events()
    server = HtxLiquidations(linear, inverse, page_cap=4)
    with server.venue:
        entry = venue_entry(
            server, [LINEAR, INVERSE], ["liquidations"], page_limit={"liquidations": 4}
        )
        code, out = fetch(tmp_path, {"htx": entry}, 0, 4, capsys)
        assert code == 0, out
        v5 = server.venue.hits("/v5/market/liquidation_orders")
        v3 = server.venue.hits("/swap-api/v3/swap_liquidation_orders")
        # HTX answers windows of at most 2 hours
        assert all(int(q["end_time"]) - int(q["start_time"]) < 2 * HOUR_MS for q in v5 + v3)
        assert len(v5) >= 3 and len(v3) >= 2  # 9 and 6 events, pages of 4

        liq = read(tmp_path, "liquidations", LINEAR)
        assert len(liq) == 9 and not liq["event_id"].duplicated().any()
        assert list(liq["ts"]) == [utc(T0 + 25 * MINUTE * k) for k in range(9)]
        # k = 0: a long; 10 contracts * 0.001 BTC = 0.01 BTC * 42,000 = 420 USD
        # k = 3: a short; 13 * 0.001 = 0.013 BTC * 42,300 = 549.9 USD
        for k, side, amount, usd in [(0, "long", 0.01, 420.0), (3, "short", 0.013, 549.9)]:
            row = liq.iloc[k]
            assert (row["side"], row["event_id"]) == (side, str(150_000 + k))
            assert (row["amount"], row["notional_usd"]) == pytest.approx((amount, usd))

        liq = read(tmp_path, "liquidations", INVERSE)
        assert len(liq) == 6 and not liq["event_id"].duplicated().any()
        assert list(liq["side"]) == ["long", "short"] * 3
        # j = 0: 20 contracts * 100 USD = 2,000 USD; 2,000 / 40,000 = 0.05 BTC
        # j = 1: 21 * 100 = 2,100 USD at 40,050: 0.0524345 BTC
        assert list(liq["notional_usd"]) == pytest.approx([100 * (20 + j) for j in range(6)])
        assert liq["amount"].iloc[:2].tolist() == pytest.approx([0.05, 2100 / 40050])
        assert set(liq["source"]) == {"ccxt:htx"} and set(liq["base"]) == {"BTC"}

        n = len(server.venue.requests)
        assert fetch(tmp_path, {"htx": entry}, 0, 4, capsys)[0] == 0
        assert len(server.venue.requests) == n + 4  # markets only: the window is done


# ---- Bitfinex -------------------------------------------------------------------------------


def bitfinex_events() -> list[list[Any]]:
    """BTC positions p = 0..5 at T0 + 10 min * p, AMOUNT +0.5, -0.25, +0.75, -1, +0.1,
    -0.2 (sign = the position) liquidated at 42,000 + 10 p; ETH positions at T0 + 10 min *
    p + 5 min. Each appears twice (IS_MATCH 0 then 1): 24 rows across both markets."""
    amounts = [0.5, -0.25, 0.75, -1.0, 0.1, -0.2]
    rows = []
    for p, amount in enumerate(amounts):
        t = T0 + 10 * MINUTE * p
        for match in (0, 1):
            rows.append(
                bitfinex_liquidation(
                    100 + p, t, "tBTCF0:USTF0", amount, 43000, 42000 + 10 * p, match
                )
            )
        for match in (0, 1):
            rows.append(
                bitfinex_liquidation(200 + p, t + 5 * MINUTE, "tETHF0:USTF0", -3, 2300, 2310, match)
            )
    return rows


def test_bitfinex_status_history_and_the_global_liquidation_feed(
    tmp_path: Path, capsys: Any
) -> None:
    server = BitfinexDerivatives(T0, T0 + 2 * DAY, bitfinex_events(), page_cap=10)
    with server.venue:
        entry = venue_entry(server, [LINEAR], ALL_TABLES, page_limit={"liquidations": 4})
        code, out = fetch(tmp_path, {"bitfinex": entry}, 0, 48, capsys)
    assert code == 0, out

    bars = read(tmp_path, "ohlcv", LINEAR)
    assert list(bars["ts"]) == hours(48)
    # Bitfinex candles are [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]: bar 0 opens 41,000,
    # closes 41,010, high 41,015, low 40,995
    assert bar(bars, 0) == (41000, 41015, 40995, 41010, 3.5)

    funding = read(tmp_path, "funding", LINEAR)
    # one status snapshot an hour, 15 s past it, newest first in pages of 10
    assert list(funding["ts"]) == hours(48, offset_ms=15_000)
    assert list(funding["rate"][:6]) == pytest.approx([1e-5, 2e-5, 3e-5, 4e-5, 5e-5, 1e-5])

    oi = read(tmp_path, "open_interest", LINEAR)
    assert list(oi["ts"]) == hours(48, offset_ms=15_000)
    # hour 3: (800 + 3) BTC valued at the open of the stored bar containing 03:00:15,
    # 41,030 USD: 32,947,090 USD (an estimate)
    assert oi_at(oi, T0 + 3 * HOUR_MS + 15_000) == pytest.approx(803 * 41030)

    liq = read(tmp_path, "liquidations", LINEAR)
    assert list(liq["event_id"]) == [f"pos:{100 + p}" for p in range(6)]  # each once
    assert list(liq["ts"]) == [utc(T0 + 10 * MINUTE * p) for p in range(6)]
    assert list(liq["side"]) == ["long", "short"] * 3  # the sign of AMOUNT
    # p = 0: 0.5 BTC * 42,000 = 21,000 USD; p = 1: 0.25 BTC * 42,010 = 10,502.5 USD
    assert list(liq["amount"][:2]) == pytest.approx([0.5, 0.25])
    assert list(liq["notional_usd"][:2]) == pytest.approx([21000.0, 10502.5])
    assert Store(tmp_path / "store").read("liquidations", symbols=["ETH/USDT:USDT"]).empty


# ---- Gate's query window ---------------------------------------------------------------------


def test_gate_liquidation_queries_span_at_most_an_hour(tmp_path: Path, capsys: Any) -> None:
    s0 = T0 // 1000
    events = [
        {"time": s0 + 1200 * k, "contract": "BTC_USDT", "size": 5 + k,
         "order_price": "60000", "fill_price": "60000", "left": 0}
        for k in range(9)
    ]  # fmt: skip
    gate = GateFutures(liquidations={"BTC_USDT": events})
    with gate.venue:
        entry = venue_entry(gate, [LINEAR], ["liquidations"])
        code, out = fetch(tmp_path, {"gate": entry}, 0, 3, capsys)
        hits = gate.venue.hits("/api/v4/futures/usdt/liq_orders")
    assert code == 0, out
    # Gate: "interval between from and to cannot exceed 3600" (seconds, both inclusive)
    assert all(int(q["to"]) - int(q["from"]) < 3600 for q in hits) and len(hits) == 3
    liq = read(tmp_path, "liquidations", LINEAR)
    # every 20 minutes over 3 hours: 9 events; k = 8: 13 contracts * 0.0001 BTC * 60,000
    assert len(liq) == 9 and liq["notional_usd"].iloc[8] == pytest.approx(13 * 0.0001 * 60000)
