"""``python -m helpers fetch --tables long_short_ratio``: the real ccxt client against local
Binance USD-M, Bybit, OKX and Bitget servers speaking each venue's ratio format
(``servers/ratio_replies.py``).

Binance pages oldest first and keeps 30 days; Bybit and OKX return the NEWEST rows of a
window (OKX with exclusive bounds, Bybit through its own ``startTime``/``endTime``, which
ccxt does not send); Bitget takes no time at all and returns its latest rows. Each test
checks that every hourly ratio of the window lands once at its own time, with the value
worked out from the series in the server module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from servers.http_venues import HOUR_MS, BinanceUsdm
from servers.http_venues_more import BybitDerivatives, OkxSwap
from servers.ratio_replies import (
    BINANCE_PATH,
    BITGET_PATH,
    BYBIT_PATH,
    OKX_PATH,
    BitgetMix,
    plug_binance,
    plug_bybit,
    plug_okx,
)

from helpers.cli import main
from helpers.store import Store

DAY = 24 * HOUR_MS
NOW = pd.Timestamp.now(tz="UTC").floor("h")
T0 = int(NOW.value // 1_000_000) - 3 * DAY  # three days ago, on the hour
FAST = {"timeout": 2000, "enableRateLimit": False}
LINEAR = "BTC/USDT:USDT"


def now_ms() -> int:
    return int(pd.Timestamp.now(tz="UTC").value // 1_000_000)


def utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def hours(first_h: int, last_h: int) -> list[pd.Timestamp]:
    return [utc(T0 + h * HOUR_MS) for h in range(first_h, last_h)]


def fetch(
    tmp_path: Path, ex_id: str, server: Any, start_h: int, end_h: int, capsys: Any, *extra: str
) -> tuple[int, str]:
    """``python -m helpers fetch --tables long_short_ratio`` over ``[T0 + start_h, T0 + end_h)``."""
    entry = {"symbols": [LINEAR], "ccxt": {**server.ccxt_options(), **FAST}}
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump({"exchanges": {ex_id: entry}}))
    code = main(
        ["fetch", "--data-dir", str(tmp_path / "store"), "--config", str(config),
         "--tables", "long_short_ratio",
         "--start", utc(T0 + start_h * HOUR_MS).isoformat(),
         "--end", utc(T0 + end_h * HOUR_MS).isoformat(),
         "--retries", "1", "--backoff", "0.01", *extra]
    )  # fmt: skip
    return code, capsys.readouterr().out


def stored(tmp_path: Path) -> pd.DataFrame:
    return Store(tmp_path / "store").read("long_short_ratio").reset_index(drop=True)


def series(start: float, step: float, first_h: int, last_h: int) -> list[float]:
    return [round(start + step * h, 4) for h in range(first_h, last_h)]


@pytest.fixture
def binance() -> Iterator[BinanceUsdm]:
    server = BinanceUsdm(T0, T0 + 3 * DAY, page_cap=5)
    with server.venue:
        yield server


@pytest.mark.parametrize("stamps_as_text", [False, True])
def test_binance_oldest_first_pages_fill_the_window(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any, stamps_as_text: bool
) -> None:
    plug_binance(binance, stamps_as_text=stamps_as_text)
    code, out = fetch(tmp_path, "binanceusdm", binance, 0, 48, capsys)
    assert code == 0, out
    df = stored(tmp_path)
    assert list(df["ts"]) == hours(0, 48)  # 48 hourly rows, though a page holds 5
    assert list(df["long_short_ratio"]) == pytest.approx(series(1.5, 0.01, 0, 48))
    # long share as Binance prints it: r / (1 + r) to 4 places; hour 0: 1.5 / 2.5 = 0.6
    assert df["long_account"].iloc[0] == pytest.approx(0.6)
    assert set(df["period"]) == {"1h"} and set(df["source"]) == {"ccxt:binanceusdm"}
    asked = binance.venue.hits(BINANCE_PATH)
    assert {q["period"] for q in asked} == {"1h"} and {q["symbol"] for q in asked} == {"BTCUSDT"}

    again, out = fetch(tmp_path, "binanceusdm", binance, 0, 48, capsys)
    assert again == 0 and "already up to date" in out
    assert len(binance.venue.hits(BINANCE_PATH)) == len(asked)  # nothing asked again


def test_binance_window_is_cut_to_the_30_days_it_keeps(tmp_path: Path, capsys: Any) -> None:
    server = BinanceUsdm(T0 - 40 * DAY, T0 + DAY, page_cap=500)
    before = now_ms()
    plug_binance(server, history_days=30, now_ms=before)
    with server.venue:
        code, out = fetch(tmp_path, "binanceusdm", server, -40 * 24, 24, capsys)
        asked = server.venue.hits(BINANCE_PATH)
    after = now_ms()
    assert code == 0, out
    assert "the venue keeps 30 days" in out
    first = min(int(q["startTime"]) for q in asked)
    # the first hour the venue still keeps: on the hour, within an hour after now - 30 days
    assert first % HOUR_MS == 0 and before - 30 * DAY <= first < after - 30 * DAY + HOUR_MS
    df = stored(tmp_path)
    assert df["ts"].min() == utc(first) and df["ts"].max() == utc(T0 + 23 * HOUR_MS)
    assert df["ts"].is_unique and len(df) == (T0 + 24 * HOUR_MS - first) // HOUR_MS


def test_bybit_newest_first_with_its_own_window_params(tmp_path: Path, capsys: Any) -> None:
    server = BybitDerivatives(T0, T0 + 3 * DAY, page_cap=5)
    plug_bybit(server)
    with server.venue:
        code, out = fetch(tmp_path, "bybit", server, 0, 48, capsys)
        asked = server.venue.hits(BYBIT_PATH)
    assert code == 0, out
    df = stored(tmp_path)
    assert list(df["ts"]) == hours(0, 48)
    shares = [round(r / (1 + r), 4) for r in series(2.0, -0.01, 0, 48)]
    assert list(df["long_account"]) == pytest.approx(shares)  # buyRatio, the long share
    # ccxt's ratio is buyRatio / sellRatio; hour 0: 0.6667 / 0.3333
    assert df["long_short_ratio"].iloc[0] == pytest.approx(0.6667 / 0.3333)
    assert all("startTime" in q and "endTime" in q for q in asked)
    assert {q["period"] for q in asked} == {"1h"}


def test_okx_newest_first_exclusive_bounds_and_no_long_share(tmp_path: Path, capsys: Any) -> None:
    server = OkxSwap(T0, T0 + 3 * DAY, page_cap=5)
    plug_okx(server)
    with server.venue:
        code, out = fetch(tmp_path, "okx", server, 0, 48, capsys)
        asked = server.venue.hits(OKX_PATH)
    assert code == 0, out
    df = stored(tmp_path)
    assert list(df["ts"]) == hours(0, 48)
    assert list(df["long_short_ratio"]) == pytest.approx(series(1.2, 0.02, 0, 48))
    assert df["long_account"].isna().all()  # OKX publishes the ratio only: missing, not 0
    assert {q["period"] for q in asked} == {"1H"}
    assert all(int(q["limit"]) <= 100 for q in asked if "limit" in q)


def test_bitget_latest_rows_only(tmp_path: Path, capsys: Any) -> None:
    server = BitgetMix(T0, T0 + 48 * HOUR_MS, latest_rows=30)
    with server.venue:
        code, out = fetch(tmp_path, "bitget", server, 0, 48, capsys)
    assert code == 0, out
    df = stored(tmp_path)
    assert list(df["ts"]) == hours(18, 48)  # the venue's latest 30 rows: hours 18..47
    assert list(df["long_short_ratio"]) == pytest.approx(series(0.8, 0.01, 18, 48))
    r18 = round(0.8 + 0.18, 4)
    assert df["long_account"].iloc[0] == pytest.approx(round(r18 / (1 + r18), 4))
    assert not math.isnan(df["long_account"].iloc[-1])


def test_a_period_the_venue_does_not_publish_is_skipped(
    tmp_path: Path, binance: BinanceUsdm, capsys: Any
) -> None:
    plug_binance(binance)
    code, out = fetch(tmp_path, "binanceusdm", binance, 0, 2, capsys, "--interval", "1m")
    assert code == 0, out
    assert "skipped long_short_ratio binanceusdm: the venue publishes no 1m ratio" in out
    assert binance.venue.hits(BINANCE_PATH) == []
    assert not Store(tmp_path / "store").has_data("long_short_ratio")


def test_bitget_window_before_its_latest_rows_stores_nothing_and_stays_unfetched(
    tmp_path: Path, capsys: Any
) -> None:
    server = BitgetMix(T0, T0 + 48 * HOUR_MS, latest_rows=30)
    with server.venue:
        code, out = fetch(tmp_path, "bitget", server, 0, 10, capsys)
        again, _ = fetch(tmp_path, "bitget", server, 0, 10, capsys)
        asked = server.venue.hits(BITGET_PATH)
    assert code == 0 and again == 0, out
    assert "no rows" in out
    assert not Store(tmp_path / "store").has_data("long_short_ratio")
    assert len(asked) == 2  # nothing was marked fetched: the second run asks again
    assert all("startTime" not in q and "endTime" not in q for q in asked)
