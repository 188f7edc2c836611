"""Venues as analysts name them: Binance is USD-M + COIN-M, one row, one total, named
"Binance" on the page; ccxt ids stay in the data and in machine-readable keys."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import T0, h, liquidation_bars

from helpers import venues
from helpers.dataset import Dataset
from helpers.metrics import imbalance_analysis, venues_analysis
from helpers.metrics.families import family_rows, family_window
from helpers.metrics.imbalance import imbalance_table
from helpers.plots import venues as pvn
from helpers.precedence import DEFAULT_PRECEDENCE, source_name
from helpers.present import venue_table
from helpers.store import Store

USDM, COINM, AGG = "BTC/USDT:USDT", "BTC/USD:BTC", "BTC/USD:ALL"


def _bars(rows, source):
    """(hour, exchange, long_usd, short_usd, symbol) rows of one source."""
    return liquidation_bars(rows, source=source)


@pytest.fixture
def binance_and_okx(tmp_path) -> Dataset:
    """Four hours: Binance USD-M BTC (Coinalyze) every hour, COIN-M BTC (Coinalyze) hours
    0-2, OKX (REST events) every hour; CoinGlass's Binance aggregate every hour."""
    store = Store(tmp_path)
    store.write("liquidation_bars", _bars([(x, "binanceusdm", 10.0, 1.0, USDM) for x in range(4)],
                                          "coinalyze"))  # fmt: skip
    store.write("liquidation_bars", _bars([(x, "binancecoinm", 2.0, 0.5, COINM) for x in range(3)],
                                          "coinalyze"))  # fmt: skip
    store.write("liquidation_bars", _bars([(x, "okx", 3.0, 3.0) for x in range(4)], "ccxt:okx"))
    store.write("liquidation_bars", _bars([(x, "binance", 1000.0, 1000.0, AGG) for x in range(4)],
                                          "coinglass"))  # fmt: skip
    return Dataset.open(str(tmp_path), T0.isoformat(), h(4).isoformat(),
                        precedence=DEFAULT_PRECEDENCE)  # fmt: skip


def test_names_of_families_and_of_their_parts():
    assert venues.market_name("binanceusdm") == "Binance USD-M"
    assert venues.market_name("binancecoinm") == "Binance COIN-M"
    assert venues.market_name("binance") == "Binance"
    assert venues.market_name("gateio") == "Gate" and venues.market_name("okx") == "OKX"
    assert venues.is_family_part("binanceusdm") and not venues.is_family_part("gateio")
    assert venues.venues_text(["binanceusdm", "okx", "binanceusdm"]) == "Binance USD-M, OKX"
    assert source_name("coinalyze") == "Coinalyze"
    assert source_name("ccxt:gate") == "exchange REST history"
    assert source_name("ccxt.pro:binanceusdm") == "recorded stream events"
    assert source_name("demo") == "SIMULATED (demo)" and source_name("vendor-x") == "vendor-x"


def test_family_rows_and_window_keep_everything_but_the_exchange_id():
    bars = _bars([(0, "binanceusdm", 1.0, 0.0, USDM), (0, "binancecoinm", 2.0, 0.0, COINM)], "v")
    fam = family_rows(bars)
    assert fam["exchange"].tolist() == ["binance", "binance"]
    assert fam["symbol"].tolist() == [USDM, COINM] and fam["source"].tolist() == ["v", "v"]
    assert bars["exchange"].tolist() == ["binanceusdm", "binancecoinm"]  # input untouched
    w = family_window(Dataset.open(".", T0.isoformat(), h(1).isoformat(),
                                   ["binanceusdm", "binancecoinm", "okx"]).window)  # fmt: skip
    assert w.exchanges == ("binance", "okx")


def test_binance_usdm_and_coinm_roll_up_to_one_binance_row(binance_and_okx):
    ds = binance_and_okx
    imb = imbalance_analysis.imbalance_analysis(ds, 5, 2)
    r = venues_analysis.venue_analysis(ds, imb.spikes)
    assert list(r.totals.index) == ["binance", "okx"]
    # contracts outrank the CoinGlass aggregate in every bar, so it is never added:
    # Binance longs = USD-M 4 x 10 + COIN-M 3 x 2 = 46, not 46 + 4 x 1000
    assert r.totals.loc["binance", "long_usd"] == 46.0
    assert r.totals.loc["binance", "short_usd"] == 4 * 1.0 + 3 * 0.5
    assert r.totals.loc["binance", "long_share"] == pytest.approx(46 / 58)
    assert list(r.hourly.columns) == ["binance", "okx"]
    assert r.hourly["binance"].tolist() == [13.5, 13.5, 13.5, 11.0]  # long + short USD
    cov = r.coverage.loc["binance"]
    # two Binance pairs x 4 hours; COIN-M BTC is missing at hour 3: one partial bar
    assert (cov["symbols"], cov["cells"], cov["missing_cells"], cov["partial_bars"]) == (2, 8, 1, 1)
    assert cov["source"] == "coinalyze"
    figures = {f.name: f for f in venues_analysis.venue_figures(r)}
    assert figures["long_usd_binance"].value == 46.0
    assert figures["long_usd_binance"].label == "Longs liquidated on Binance"
    assert figures["long_usd_binanceusdm"].value == 40.0
    assert figures["long_usd_binanceusdm"].label == "Longs liquidated on Binance USD-M"
    assert figures["long_usd_binancecoinm"].value == 6.0
    assert figures["long_usd_okx"].label == "Longs liquidated on OKX"
    assert figures["top_long_venue"].value == "Binance"
    assert "binance" not in " ".join(f.label for f in figures.values())
    assert venues_analysis.longs_by_venue_text(r) == "Binance $46, OKX $12"


def test_a_family_aggregate_fills_only_the_bars_its_contracts_left(tmp_path):
    store = Store(tmp_path)
    store.write("liquidation_bars", _bars([(0, "binanceusdm", 10.0, 0.0, USDM)], "coinalyze"))
    store.write("liquidation_bars", _bars([(x, "binance", 100.0, 0.0, AGG) for x in range(2)],
                                          "coinglass"))  # fmt: skip
    ds = Dataset.open(str(tmp_path), T0.isoformat(), h(2).isoformat(),
                      precedence=DEFAULT_PRECEDENCE)  # fmt: skip
    r = venues_analysis.venue_analysis(ds, pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC")))
    # hour 0: the USD-M contract (Coinalyze outranks CoinGlass); hour 1: the aggregate alone
    assert list(r.totals.index) == ["binance"]
    assert r.totals.loc["binance", "long_usd"] == 110.0
    assert r.hourly["binance"].tolist() == [10.0, 100.0]


def test_the_imbalance_table_counts_a_family_once(binance_and_okx):
    ds = binance_and_okx
    table = imbalance_table(ds.bars(), ds.window)
    assert table["venues_expected"].iloc[0] == 2
    assert table["venues_reporting"].tolist() == [2, 2, 2, 2]
    assert table["partial"].tolist() == [False, False, False, True]  # COIN-M BTC at hour 3


def test_pages_show_venue_and_source_names(binance_and_okx):
    ds = binance_and_okx
    r = venues_analysis.venue_analysis(ds, pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC")))
    shown = venue_table(r.coverage)
    assert list(shown.index) == ["Binance", "OKX"] and shown.index.name == "venue"
    assert shown.loc["OKX", "source"] == "exchange REST history"
    assert shown.loc["Binance", "cells"] == r.coverage.loc["binance", "cells"]
    funding = pd.DataFrame({"exchange": ["binanceusdm", "okx"], "symbol": [USDM, USDM]})
    assert venue_table(funding)["venue"].tolist() == ["Binance USD-M", "OKX"]
    fig = pvn.plot_venue_totals(r.totals, ds.window)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["Binance", "OKX"]
    strip = pvn.plot_coverage_strip(r.hourly, ds.window)
    assert [t.get_text() for t in strip.axes[0].get_yticklabels()] == ["Binance", "OKX"]
