"""Vendor CSV import (CoinGlass, Coinalyze) into liquidation_bars."""

from __future__ import annotations

import argparse
import math

import pandas as pd
import pytest

from helpers.cli import vendors
from helpers.errors import UserError
from helpers.sources import coinalyze, vendor_csv
from helpers.store import Store
from helpers.venues import is_family_aggregate

COINGLASS_4H = """time_utc,time,coin,aggregated_long_liquidation_usd,\
aggregated_short_liquidation_usd,is_last_bar
2025-10-10 12:00:00+00:00,1760097600000,BTC,1000.5,200.25,False
2025-10-10 16:00:00+00:00,1760112000000,BTC,3000,0,False
2025-10-10 20:00:00+00:00,1760126400000,BTC,50,10,True
2025-10-10 12:00:00+00:00,1760097600000,ETH,7,8,False
"""

COINALYZE_1H = """symbol,time_utc_inferred,ts_recorded,close,long_liq_base,short_liq_base,\
long_liq_usd_approx,short_liq_usd_approx,liq_row_missing
BTCUSDT_PERP.A,2024-08-05 00:00:00,2024-08-05 06:00:00,50000,2.0,0.5,100000,25000,False
BTCUSDT_PERP.A,2024-08-05 01:00:00,2024-08-05 07:00:00,49000,0.0,0.0,0,0,True
BTCUSDT_PERP.A,2024-08-05 02:00:00,2024-08-05 08:00:00,48000,0.0,1.0,0,48000,False
ETHUSDT_PERP.A,2024-08-05 00:00:00,2024-08-05 06:00:00,2500,4.0,0.0,10000,0,False
"""


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- CoinGlass ----------------------------------------------------------------------------


def test_coinglass_usd_bars_with_open_bar_dropped(tmp_path):
    imp = vendor_csv.read_coinglass(write(tmp_path, "cg.csv", COINGLASS_4H), exchange="Binance")
    bars = imp.bars
    assert imp.units == "USD (as published)"
    assert imp.notes == ["1 bars still open when pulled dropped"]
    assert set(bars["interval"]) == {"4h"}  # 12:00 -> 16:00 is 14,400 s
    btc = bars[bars["base"] == "BTC"]
    assert list(btc["ts"]) == [
        pd.Timestamp("2025-10-10T12:00Z"),
        pd.Timestamp("2025-10-10T16:00Z"),
    ]
    assert list(btc["long_usd"]) == [1000.5, 3000.0]
    assert list(btc["short_usd"]) == [200.25, 0.0]
    assert set(bars["exchange"]) == {"binance"}
    assert set(bars["symbol"]) == {"BTC/USD:ALL", "ETH/USD:ALL"}
    assert bars["long_count"].isna().all() and set(bars["source"]) == {"coinglass"}


def test_coinglass_exchange_list_column(tmp_path):
    text = (
        "exchange_list,symbol,ts_utc,liq_long_usd,liq_short_usd\n"
        '"Binance,OKX,Bybit",ADA,2020-12-23 00:00:00+00,10,20\n'
        '"Binance,OKX,Bybit",ADA,2020-12-24 00:00:00+00,30,40\n'
    )
    bars = vendor_csv.read_coinglass(write(tmp_path, "x.csv", text)).bars
    assert set(bars["exchange"]) == {"binance+okx+bybit"}
    assert set(bars["interval"]) == {"1d"}
    assert list(bars["short_usd"]) == [20.0, 40.0]


def test_coinglass_rows_are_family_aggregates(tmp_path):
    path = write(tmp_path, "cg.csv", COINGLASS_4H)
    # a ccxt class id stands for its whole family: CoinGlass sums USD-M and COIN-M
    bars = vendor_csv.read_coinglass(path, exchange="binanceusdm").bars
    assert set(bars["exchange"]) == {"binance"}
    assert vendor_csv.coinglass_exchange("Kraken", "x") == "kraken"
    assert vendor_csv.coinglass_exchange("binanceusdm,binancecoinm", "x") == "binance"
    pairs = zip(bars["exchange"], bars["symbol"], strict=True)
    assert all(is_family_aggregate(e, s) for e, s in pairs)


def test_coinglass_without_exchange_needs_the_option(tmp_path):
    with pytest.raises(UserError, match="--exchange"):
        vendor_csv.read_coinglass(write(tmp_path, "cg.csv", COINGLASS_4H))


# ---- Coinalyze ----------------------------------------------------------------------------


def test_coinalyze_base_units_use_utc_column_close_and_missing_flag(tmp_path):
    imp = vendor_csv.read_coinalyze(write(tmp_path, "cz.csv", COINALYZE_1H))
    bars = imp.bars
    assert imp.units.startswith("base units") and set(bars["source"]) == {coinalyze.SOURCE_APPROX}
    assert imp.notes == ["1 bars flagged liq_row_missing left missing"]
    btc = bars[bars["symbol"] == "BTC/USDT:USDT"]
    # 00:00 and 02:00 only: the flagged 01:00 row is missing, not zero; times are
    # time_utc_inferred (ts_recorded is 6 h later, local time)
    assert list(btc["ts"]) == [pd.Timestamp("2024-08-05T00:00Z"), pd.Timestamp("2024-08-05T02:00Z")]
    assert list(btc["long_usd"]) == [2.0 * 50_000, 0.0 * 48_000]
    assert list(btc["short_usd"]) == [0.5 * 50_000, 1.0 * 48_000]
    eth = bars[bars["symbol"] == "ETH/USDT:USDT"]
    assert eth["long_usd"].tolist() == [4.0 * 2500]
    assert set(bars["exchange"]) == {"binanceusdm"} and set(bars["interval"]) == {"1h"}


def test_coinalyze_usd_columns_are_stored_as_usd(tmp_path):
    text = (
        "symbol,t,long_liq_usd,short_liq_usd\n"
        "BTCUSDT_PERP.A,1722816000,1500.5,0\n"
        "BTCUSDT_PERP.A,1722819600,0,99\n"
    )
    imp = vendor_csv.read_coinalyze(write(tmp_path, "cz.csv", text))
    assert imp.units == "USD" and set(imp.bars["source"]) == {coinalyze.SOURCE}
    assert list(imp.bars["ts"]) == [
        pd.Timestamp("2024-08-05T00:00Z"),
        pd.Timestamp("2024-08-05T01:00Z"),
    ]
    assert list(imp.bars["long_usd"]) == [1500.5, 0.0]


def test_coinalyze_wide_base_units_with_price_file(tmp_path):
    liq = (
        ",BTCUSDT_PERP.A_longliq,BTCUSDT_PERP.A_shortliq\n"
        "2022-01-02,1.5,2.0\n"
        "2022-01-03,0.0,4.0\n"
        "2022-01-04,3.0,1.0\n"
    )
    prices = (
        "t,BTCUSDT_PERP.A_close,BTCUSDT_PERP.A_volume\n2022-01-02,47000,1\n2022-01-03,46000,1\n"
    )
    imp = vendor_csv.read_coinalyze(
        write(tmp_path, "liq.csv", liq), prices=write(tmp_path, "px.csv", prices)
    )
    bars = imp.bars
    assert set(bars["interval"]) == {"1d"}
    # 01-04 has no close: it cannot be converted and stays missing
    assert list(bars["ts"]) == [
        pd.Timestamp("2022-01-02T00:00Z"),
        pd.Timestamp("2022-01-03T00:00Z"),
    ]
    assert list(bars["long_usd"]) == [1.5 * 47_000, 0.0]
    assert list(bars["short_usd"]) == [2.0 * 47_000, 4.0 * 46_000]
    assert imp.notes == ["1 bars without a close price left missing"]


def test_coinalyze_wide_without_prices_is_refused(tmp_path):
    liq = ",BTCUSDT_PERP.A_longliq,BTCUSDT_PERP.A_shortliq\n2022-01-02,1.5,2.0\n2022-01-03,1,1\n"
    with pytest.raises(UserError, match="--prices"):
        vendor_csv.read_coinalyze(write(tmp_path, "liq.csv", liq))


# ---- bad files: one line, nothing stored --------------------------------------------------

BAD_FILES = {
    "no_columns": ("coinglass", "a,b\n1,2\n", "not a CoinGlass liquidation export"),
    "naive_time": (
        "coinglass",
        "time,coin,liq_long_usd,liq_short_usd\n"
        "2025-01-01 00:00,BTC,1,1\n2025-01-01 04:00,BTC,1,1\n",
        "has no timezone",
    ),
    "negative": (
        "coinglass",
        "ts_utc,coin,liq_long_usd,liq_short_usd\n2025-01-01T00:00Z,BTC,-1,1\n2025-01-02T00:00Z,BTC,1,1\n",
        "not a non-negative number",
    ),
    "text_value": (
        "coinglass",
        "ts_utc,coin,liq_long_usd,liq_short_usd\n2025-01-01T00:00Z,BTC,lots,1\n2025-01-02T00:00Z,BTC,1,1\n",
        "row 2",
    ),
    "conflict": (
        "coinglass",
        "ts_utc,coin,liq_long_usd,liq_short_usd\n2025-01-01T00:00Z,BTC,1,1\n2025-01-01T00:00Z,BTC,2,1\n2025-01-02T00:00Z,BTC,1,1\n",
        "two different bars",
    ),
    "odd_interval": (
        "coinglass",
        "ts_utc,coin,liq_long_usd,liq_short_usd\n2025-01-01T00:00Z,BTC,1,1\n2025-01-01T03:00Z,BTC,1,1\n",
        "not one of",
    ),
    "html": ("coinglass", "<!DOCTYPE html><html><body>Just a moment...</body></html>\n", "HTML"),
    "empty": ("coinalyze", "", "not a readable CSV"),
    "local_time_only": (
        "coinalyze",
        "symbol,ts_recorded,close,long_liq_base,short_liq_base\n"
        "BTCUSDT_PERP.A,2024-08-05 06:00:00,1,1,1\n",
        "local time",
    ),
    "unknown_symbol": (
        "coinalyze",
        "symbol,t,long_liq_usd,short_liq_usd\nBTCUSDT.Q,1722816000,1,1\nBTCUSDT.Q,1722819600,1,1\n",
        "BTCUSDT.Q",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_one_line_and_stores_nothing(tmp_path, case):
    fmt, text, needle = BAD_FILES[case]
    path = write(tmp_path, f"{case}.csv", text)
    args = argparse.Namespace(
        data_dir=str(tmp_path / "store"),
        verbose=False,
        file=str(path),
        fmt=fmt,
        exchange="binance" if fmt == "coinglass" else None,
        interval=None,
        prices=None,
        units="auto",
    )
    with pytest.raises(UserError) as err:
        vendors.run_import(args)
    assert "\n" not in str(err.value) and needle in str(err.value)
    assert not Store(tmp_path / "store").has_data("liquidation_bars")


def test_import_command_stores_and_reimport_adds_nothing(tmp_path, capsys):
    path = write(tmp_path, "cz.csv", COINALYZE_1H)
    args = argparse.Namespace(
        data_dir=str(tmp_path / "store"),
        verbose=False,
        file=str(path),
        fmt="coinalyze",
        exchange=None,
        interval=None,
        prices=None,
        units="auto",
    )
    assert vendors.run_import(args) == 0
    assert (
        "units: base units, converted with the bar's close (approximate)" in capsys.readouterr().out
    )
    assert vendors.run_import(args) == 0
    stored = Store(tmp_path / "store").read("liquidation_bars")
    assert len(stored) == 3  # BTC 00:00, BTC 02:00, ETH 00:00
    assert "liquidation_bars: 0 new of 3 rows" in capsys.readouterr().out


# ---- the real exports, read in place ------------------------------------------------------

HOURLY = "coinalyze_binance_perp_1h_ohlcv_liq_BTC_ETH_SOL_2024-06_08.csv"


@pytest.mark.realdata
def test_real_coinalyze_hourly_export(realdata, tmp_path):
    raw = pd.read_csv(realdata / HOURLY)
    imp, result = vendor_csv.import_file(Store(tmp_path), "coinalyze", realdata / HOURLY)
    bars = imp.bars
    assert result.quarantined == 0 and result.written == len(bars)
    # every flagged hour is missing (no bar); the rest are bars, exact duplicate rows once
    kept = raw[~raw["liq_row_missing"]].drop_duplicates(["symbol", "time_utc_inferred"])
    assert len(bars) == len(kept)
    flagged = raw[raw["liq_row_missing"]].iloc[0]
    flagged_ts = pd.Timestamp(flagged["time_utc_inferred"], tz="UTC")
    sym = coinalyze.parse_symbol(flagged["symbol"]).symbol
    assert not ((bars["ts"] == flagged_ts) & (bars["symbol"] == sym)).any()
    # the first row: time_utc_inferred 2024-06-19 21:00 UTC, not ts_recorded (6 h later)
    first = raw.iloc[0]
    assert pd.Timestamp(first["ts_recorded"]) - pd.Timestamp(
        first["time_utc_inferred"]
    ) == pd.Timedelta(hours=6)
    assert bars["ts"].min() == pd.Timestamp("2024-06-19T21:00Z")
    # 2024-08-05 01:00 BTC: 151.964 BTC of longs x close 54,389.5
    row = bars[(bars["ts"] == pd.Timestamp("2024-08-05T01:00Z")) & (bars["base"] == "BTC")]
    assert row["long_usd"].iloc[0] == pytest.approx(151.964 * 54_389.5)
    # the crash: from 00:00 to 08:00 UTC on 2024-08-05, BTC longs liquidated far exceed shorts
    crash = bars[
        (bars["ts"] >= pd.Timestamp("2024-08-05T00:00Z"))
        & (bars["ts"] < pd.Timestamp("2024-08-05T08:00Z"))
        & (bars["base"] == "BTC")
    ]
    assert len(crash) == 8
    assert crash["long_usd"].sum() > 2 * crash["short_usd"].sum()
    top = crash.nlargest(2, "long_usd")
    assert (top["long_usd"] > 3 * top["short_usd"]).all()


@pytest.mark.realdata
def test_real_coinglass_4h_export(realdata):
    imp = vendor_csv.read_coinglass(
        realdata / "coinglass_binance_liq_4h_BTC_ETH_SOL_XRP.csv", exchange="Binance"
    )
    bars = imp.bars
    assert imp.notes == ["4 bars still open when pulled dropped"]
    assert set(bars["interval"]) == {"4h"} and len(bars) == 4 * 2196 - 4
    crash = bars[(bars["ts"] == pd.Timestamp("2025-10-10T20:00Z")) & (bars["base"] == "BTC")]
    assert crash["long_usd"].iloc[0] == pytest.approx(2.356010e8, rel=1e-6)
    assert crash["long_usd"].iloc[0] > 2 * crash["short_usd"].iloc[0]


@pytest.mark.realdata
def test_real_coinalyze_wide_daily_export_with_prices(realdata):
    imp = vendor_csv.read_coinalyze(
        realdata / "coinalyze_binance_usdtperps_liq_1d_2022-2023_baseunits.csv",
        prices=realdata / "coinalyze_binance_usdtperps_close_volume_1d_2022-2023.csv",
    )
    bars = imp.bars
    assert set(bars["interval"]) == {"1d"} and set(bars["source"]) == {coinalyze.SOURCE_APPROX}
    people = bars[
        (bars["symbol"] == "PEOPLE/USDT:USDT") & (bars["ts"] == pd.Timestamp("2022-01-02T00:00Z"))
    ]
    # 438,865 PEOPLE of longs x close 0.12081 USDT
    assert people["long_usd"].iloc[0] == pytest.approx(438_865.0 * 0.12081)
    assert not math.isnan(people["short_usd"].iloc[0])
