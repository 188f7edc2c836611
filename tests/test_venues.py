"""Venue breakdown and coverage on small hand-computed frames."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from factories import coverage_gaps, h, liquidation_bars, win

from helpers import schema
from helpers.metrics import venues as vn

# okx bars come from its websocket collector, the others from the demo
_bars = partial(liquidation_bars, counts=0, source_of={"okx": "okx-ws"})


# binanceusdm: hours 0, 1 (zeros), 3; bybit: hours 0, 2, 3; hour 4 nobody
ROWS = [
    (0, "binanceusdm", 30.0, 2.0),
    (1, "binanceusdm", 0.0, 0.0),
    (3, "binanceusdm", 10.0, 0.0),
    (0, "bybit", 60.0, 1.0),
    (2, "bybit", 5.0, 3.0),
    (3, "bybit", 20.0, 4.0),
]


def test_venue_hourly_keeps_unobserved_bars_nan_and_observed_zeros_zero():
    wide = vn.venue_hourly(_bars(ROWS), win(h(0), h(5)), value="long_usd")
    assert list(wide.columns) == ["binanceusdm", "bybit"]
    assert list(wide.index) == [h(i) for i in range(5)]
    np.testing.assert_array_equal(wide["binanceusdm"], [30.0, 0.0, np.nan, 10.0, np.nan])
    np.testing.assert_array_equal(wide["bybit"], [60.0, np.nan, 5.0, 20.0, np.nan])
    total = vn.venue_hourly(_bars(ROWS), win(h(0), h(5)), value="total_usd")
    # bybit hour 3: 20 + 4
    assert total.loc[h(3), "bybit"] == 24.0


def test_venue_hourly_sums_symbols_and_lists_requested_venues():
    rows = [(0, "okx", 1.0, 0.0, "BTC/USDT:USDT"), (0, "okx", 2.0, 0.0, "ETH/USDT:USDT")]
    wide = vn.venue_hourly(_bars(rows), win(h(0), h(1), ["okx", "gate"]), value="long_usd")
    assert wide.loc[h(0), "okx"] == 3.0
    assert np.isnan(wide.loc[h(0), "gate"])
    with pytest.raises(ValueError):
        vn.venue_hourly(_bars(rows), win(h(0), h(1)), value="count")


def test_venue_totals_over_the_window_with_shares():
    totals = vn.venue_totals(_bars(ROWS), win(h(0), h(5), ["binanceusdm", "bybit", "okx"]))
    # binanceusdm: long 30 + 0 + 10 = 40, short 2 + 0 + 0 = 2
    # bybit: long 60 + 5 + 20 = 85, short 1 + 3 + 4 = 8; okx: no rows at all
    assert totals.loc["binanceusdm", "long_usd"] == 40.0
    assert totals.loc["bybit", "short_usd"] == 8.0
    assert totals.loc["bybit", "total_usd"] == 93.0
    assert totals.loc["okx", ["long_usd", "short_usd", "long_share"]].isna().all()
    # shares over venues with data: long 40 / 125 and 85 / 125; short 2 / 10 and 8 / 10
    assert totals.loc["binanceusdm", "long_share"] == pytest.approx(40 / 125)
    assert totals.loc["bybit", "short_share"] == pytest.approx(0.8)
    assert totals["long_share"].sum() == pytest.approx(1.0)
    assert list(totals["observed_bars"]) == [3, 3, 0]
    assert (totals["bars"] == 5).all()


def test_venue_totals_inside_spike_bars_keeps_unobserved_venue_nan():
    bars = _bars(ROWS)
    spikes = vn.venue_totals(bars, win(h(0), h(5)), at=[h(2), h(3)])
    # hour 2: only bybit; hour 3: both -> binanceusdm 10 (1 of 2 bars), bybit 5 + 20 = 25
    assert spikes.loc["binanceusdm", "long_usd"] == 10.0
    assert spikes.loc["binanceusdm", "observed_bars"] == 1
    assert spikes.loc["bybit", "long_usd"] == 25.0
    assert spikes.loc["bybit", "short_usd"] == 7.0
    assert (spikes["bars"] == 2).all()
    only_missing = vn.venue_totals(bars, win(h(0), h(5)), at=[h(4)])
    assert only_missing["long_usd"].isna().all()  # nobody observed hour 4: NaN, not 0
    none = vn.venue_totals(bars, win(h(0), h(5)), at=[])
    assert none["long_usd"].isna().all() and (none["bars"] == 0).all()
    with pytest.raises(ValueError, match="not a bar"):
        vn.venue_totals(bars, win(h(0), h(5)), at=[h(7)])


def test_venue_totals_with_one_side_empty_has_undefined_short_shares():
    bars = _bars([(0, "aa", 3.0, 0.0), (0, "bb", 1.0, 0.0)])
    totals = vn.venue_totals(bars, win(h(0), h(1)))
    assert list(totals["long_share"]) == [0.75, 0.25]
    assert list(totals["short_usd"]) == [0.0, 0.0]
    assert totals["short_share"].isna().all()  # 0 / 0


def test_venue_totals_of_an_empty_frame():
    totals = vn.venue_totals(schema.empty("liquidation_bars"), win(h(0), h(2), ["okx"]))
    assert list(totals.index) == ["okx"]
    assert np.isnan(totals.loc["okx", "long_usd"]) and totals.loc["okx", "observed_bars"] == 0
    assert vn.venue_totals(schema.empty("liquidation_bars"), win(h(0), h(2))).empty


def test_venue_totals_window_of_one_hour():
    totals = vn.venue_totals(_bars(ROWS), win(h(3), h(4)))
    assert totals.loc["binanceusdm", "long_usd"] == 10.0
    assert totals.loc["bybit", "long_usd"] == 20.0
    assert (totals["bars"] == 1).all()


def test_gap_mask_marks_bars_overlapping_a_gap():
    gaps = coverage_gaps(
        [
            (1.5, 3.0, "binanceusdm", None, "liquidations", "stream dropped"),
            (0.0, 5.0, "bybit", None, "ohlcv", "not about liquidations"),
            (4.25, None, "bybit", None, "liquidation_bars", "still down"),
        ]
    )
    mask = vn.venue_gap_mask(gaps, win(h(0), h(5), ["binanceusdm", "bybit"]))
    # [1:30, 3:00) overlaps hours 1 and 2 (not 3: the gap ends where hour 3 opens)
    assert list(mask["binanceusdm"]) == [False, True, True, False, False]
    # the ohlcv gap is ignored; the open-ended gap from 4:15 covers hour 4
    assert list(mask["bybit"]) == [False, False, False, False, True]


def test_gap_mask_symbol_filter_keeps_whole_venue_gaps():
    gaps = coverage_gaps(
        [
            (0, 1, "okx", "ETH/USDT:USDT", "liquidations", "eth only"),
            (1, 2, "okx", None, "liquidations", "whole venue"),
        ]
    )
    mask = vn.venue_gap_mask(gaps, win(h(0), h(2), symbols=["BTC/USDT:USDT"]))
    assert list(mask["okx"]) == [False, True]


def test_coverage_table_per_venue():
    gaps = coverage_gaps([(2, 3, "binanceusdm", None, "liquidations", "websocket reconnect")])
    cov = vn.venue_coverage(_bars(ROWS), gaps, win(h(0), h(5), ["binanceusdm", "bybit"]))
    b = cov.loc["binanceusdm"]
    assert (b["first_ts"], b["last_ts"]) == (h(0), h(3))
    # observed hours 0, 1, 3; no data 2 and 4; hour 2 is a recorded gap, hour 4 is not
    assert (b["bars"], b["observed_bars"], b["no_data_bars"]) == (5, 3, 2)
    assert (b["gap_bars"], b["unexplained_no_data_bars"]) == (1, 1)
    assert b["gap_reasons"] == "websocket reconnect"
    assert "one liquidation per symbol per second" in b["known_undercount"]
    y = cov.loc["bybit"]
    assert (y["observed_bars"], y["no_data_bars"], y["gap_bars"]) == (3, 2, 0)
    assert y["source"] == "demo"
    assert y["gap_reasons"] == ""


def test_coverage_of_a_venue_without_data_and_without_gaps_table():
    cov = vn.venue_coverage(_bars(ROWS), None, win(h(0), h(2), ["okx"]))
    o = cov.loc["okx"]
    assert pd.isna(o["first_ts"]) and pd.isna(o["last_ts"])
    assert (o["observed_bars"], o["no_data_bars"], o["unexplained_no_data_bars"]) == (0, 2, 2)
    assert o["known_undercount"] == "" and o["source"] == ""


def test_coverage_lists_venues_seen_only_in_gaps():
    gaps = coverage_gaps([(0, 1, "hyperliquid", None, "liquidations", "api down")])
    cov = vn.venue_coverage(schema.empty("liquidation_bars"), gaps, win(h(0), h(1)))
    assert list(cov.index) == ["hyperliquid"]
    assert (cov.loc["hyperliquid", "gap_bars"], cov.loc["hyperliquid", "no_data_bars"]) == (1, 1)


def test_coverage_window_of_one_hour():
    cov = vn.venue_coverage(_bars(ROWS), None, win(h(2), h(3)))
    # hour 2: bybit observed, binanceusdm not
    assert cov.loc["bybit", "observed_bars"] == 1
    assert cov.loc["binanceusdm", "no_data_bars"] == 1


def test_coverage_counts_each_symbol_of_a_venue():
    rows = [(0, "okx", 1.0, 0.0, "BTC/USDT:USDT"), (0, "okx", 1.0, 0.0, "ETH/USDT:USDT"),
            (1, "okx", 1.0, 0.0, "ETH/USDT:USDT")]  # fmt: skip
    o = vn.venue_coverage(_bars(rows), None, win(h(0), h(3))).loc["okx"]
    # hour 1: ETH only (partial); hour 2: nothing
    assert (o["observed_bars"], o["no_data_bars"], o["partial_bars"]) == (2, 1, 1)
    assert (o["symbols"], o["cells"], o["missing_cells"]) == (2, 6, 3)
    assert o["observed_share"] == 0.5


def test_known_undercount_notes_cover_binance():
    assert {"binanceusdm", "binance", "binancecoinm"} <= set(vn.KNOWN_UNDERCOUNTS)
    assert all("lower bound" in note for note in vn.KNOWN_UNDERCOUNTS.values())
