"""Liquidation imbalance metrics on small hand-computed frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from factories import h, liquidation_bars, win

from helpers.errors import UserError
from helpers.metrics import imbalance as im
from helpers.timegrid import Window


def table_of(
    rows: list[tuple], hours: int, exchanges: list[str] | None = None, start: float = 0
) -> pd.DataFrame:
    return im.imbalance_table(liquidation_bars(rows), win(h(start), h(start + hours), exchanges))


def test_bar_off_the_grid_is_an_error_not_dropped():
    bars = liquidation_bars([(0, "okx", 1.0, 1.0)])
    bars.loc[0, "ts"] = h(0.25)
    with pytest.raises(ValueError, match="not on the 1h grid"):
        im.imbalance_table(bars, win(h(0), h(2)))


# ---- the per-bar table ------------------------------------------------------------------
def test_imbalance_table_sums_venues_and_marks_missing_and_partial():
    # hour 0: both venues; hour 1: nobody (missing); hour 2: only bybit (partial)
    rows = [
        (0, "binanceusdm", 30.0, 10.0),
        (0, "bybit", 50.0, 10.0),
        (2, "bybit", 0.0, 20.0),
    ]
    t = table_of(rows, 3)
    assert list(t.index) == [h(0), h(1), h(2)]
    # hour 0: L = 30 + 50 = 80, S = 10 + 10 = 20, total 100, net 60, dominance 80/100
    assert t.loc[h(0), "long_usd"] == 80.0
    assert t.loc[h(0), "short_usd"] == 20.0
    assert t.loc[h(0), "total_usd"] == 100.0
    assert t.loc[h(0), "net_usd"] == 60.0
    assert t.loc[h(0), "long_dominance"] == pytest.approx(0.8)
    assert t.loc[h(0), "venues_reporting"] == 2
    # hour 1: no venue reported: NaN, never zero
    assert t.loc[h(1), ["long_usd", "short_usd", "net_usd", "long_dominance"]].isna().all()
    assert bool(t.loc[h(1), "missing"]) and not bool(t.loc[h(1), "partial"])
    # hour 2: bybit only: 0 long, 20 short, net -20, dominance 0/20 = 0, partial (1 of 2)
    assert t.loc[h(2), "net_usd"] == -20.0
    assert t.loc[h(2), "long_dominance"] == 0.0
    assert t.loc[h(2), "venues_reporting"] == 1
    assert bool(t.loc[h(2), "partial"])
    assert (t["venues_expected"] == 2).all()


def test_imbalance_table_sums_symbols_of_one_venue_as_one_reporting_venue():
    rows = [(0, "okx", 5.0, 1.0, "BTC/USDT:USDT"), (0, "okx", 7.0, 2.0, "ETH/USDT:USDT")]
    t = table_of(rows, 1)
    # 5 + 7 = 12 long, 1 + 2 = 3 short, one venue
    assert (t.loc[h(0), "long_usd"], t.loc[h(0), "short_usd"]) == (12.0, 3.0)
    assert t.loc[h(0), "venues_reporting"] == 1


def test_missing_symbol_of_a_venue_that_reported_another_is_partial():
    # hour 1: okx reported ETH but not BTC; it is one venue reporting, not a complete bar
    rows = [(0, "okx", 5.0, 1.0, "BTC/USDT:USDT"), (0, "okx", 7.0, 2.0, "ETH/USDT:USDT"),
            (1, "okx", 7.0, 2.0, "ETH/USDT:USDT")]  # fmt: skip
    t = table_of(rows, 2)
    assert (t["pairs_expected"] == 2).all() and t["pairs_reporting"].tolist() == [2, 1]
    assert t["venues_reporting"].tolist() == [1, 1]
    assert t["partial"].tolist() == [False, True]
    assert t["pairs_share"].tolist() == [1.0, 0.5]
    assert im.window_totals(t).partial_bars == 1


def test_requested_venues_and_symbols_are_every_pair_of_them():
    # bybit never reported ETH in the window: asked for, so missing rather than unasked
    rows = [(0, "okx", 1.0, 0.0, "BTC/USDT:USDT"), (0, "okx", 1.0, 0.0, "ETH/USDT:USDT"),
            (0, "bybit", 1.0, 0.0, "BTC/USDT:USDT")]  # fmt: skip
    window = Window(h(0), h(1), ("okx", "bybit"), ("BTC/USDT:USDT", "ETH/USDT:USDT"))
    t = im.imbalance_table(liquidation_bars(rows), window)
    assert (t.loc[h(0), "pairs_reporting"], t.loc[h(0), "pairs_expected"]) == (3, 4)
    assert bool(t.loc[h(0), "partial"])
    assert im.expected_pairs(liquidation_bars(rows), ["okx", "gate"], None) == [
        ("gate", "*"),
        ("okx", "BTC/USDT:USDT"),
        ("okx", "ETH/USDT:USDT"),
    ]


def test_requested_venue_without_rows_makes_every_bar_partial():
    t = table_of([(0, "okx", 1.0, 1.0), (1, "okx", 2.0, 0.0)], 2, exchanges=["okx", "bybit"])
    assert t["partial"].all()
    assert (t["venues_expected"] == 2).all()
    assert (t["venues_reporting"] == 1).all()


def test_rows_outside_the_window_other_intervals_and_other_venues_are_ignored():
    bars = pd.concat(
        [
            liquidation_bars(
                [(-1, "okx", 100.0, 0.0), (0, "okx", 1.0, 2.0), (1, "okx", 100.0, 0.0)]
            ),
            liquidation_bars([(0, "bybit", 100.0, 0.0)]),
            liquidation_bars([(0, "okx", 100.0, 0.0)], interval="1m"),
        ],
        ignore_index=True,
    )
    t = im.imbalance_table(bars, win(h(0), h(1), exchanges=["okx"]))
    assert len(t) == 1
    assert (t.loc[h(0), "long_usd"], t.loc[h(0), "short_usd"]) == (1.0, 2.0)


def test_empty_frame_means_nothing_observed_so_every_bar_is_missing_not_zero():
    t = table_of([], 3)
    assert len(t) == 3
    assert t["missing"].all()
    assert t["long_usd"].isna().all() and t["short_usd"].isna().all()
    totals = im.window_totals(t)
    assert math.isnan(totals.long_usd) and math.isnan(totals.short_usd)
    assert (totals.observed_bars, totals.missing_bars) == (0, 3)
    assert im.worst_bar(t) is None
    assert im.headline(t, win(h(0), h(3))) is None
    assert im.cumulative_sides(t)[["cum_long_usd", "cum_short_usd"]].isna().all().all()
    assert im.spike_bars(t, window=2).empty


def test_observed_bars_with_no_liquidations_are_zero_not_missing():
    t = table_of([(0, "okx", 0.0, 0.0), (1, "okx", 0.0, 0.0)], 2)
    assert (t["long_usd"] == 0).all() and not t["missing"].any()
    assert t["long_dominance"].isna().all()  # 0 / 0 is undefined
    totals = im.window_totals(t)
    assert (totals.long_usd, totals.short_usd) == (0.0, 0.0)
    assert math.isnan(totals.long_share)
    assert im.worst_bar(t) is None  # no long liquidated: no worst bar
    assert (im.cumulative_sides(t)["cum_long_usd"] == 0).all()


def test_window_of_one_hour():
    t = table_of([(0, "okx", 4.0, 1.0), (1, "okx", 99.0, 0.0)], 1)
    assert list(t.index) == [h(0)]
    worst = im.worst_bar(t)
    assert worst is not None and worst.ts == h(0) and worst.ratio == 4.0
    scores = im.spike_scores(t, window=3)
    assert scores.loc[h(0), "status"] == "insufficient history"
    assert scores.loc[h(0), "history"] == 0
    assert im.spike_bars(t, window=3).empty


# ---- totals, cumulative, worst bar ------------------------------------------------------
def test_window_totals_sum_observed_bars_and_count_coverage():
    rows = [(0, "aa", 30.0, 10.0), (0, "bb", 50.0, 10.0), (2, "bb", 0.0, 20.0)]
    totals = im.window_totals(table_of(rows, 4))
    # long 30 + 50 + 0 = 80, short 10 + 10 + 20 = 40; hours 1 and 3 missing, hour 2 partial
    assert (totals.long_usd, totals.short_usd, totals.total_usd) == (80.0, 40.0, 120.0)
    assert totals.long_share == pytest.approx(80 / 120)
    assert (totals.bars, totals.observed_bars, totals.missing_bars) == (4, 2, 2)
    assert (totals.partial_bars, totals.venues_expected) == (1, 2)


def test_cumulative_carries_through_missing_bars_and_is_nan_before_first_data():
    rows = [(1, "okx", 10.0, 1.0), (3, "okx", 5.0, 2.0)]
    cum = im.cumulative_sides(table_of(rows, 5))
    # hour 0 missing before any data: NaN; then 10, carried through missing hour 2, 10 + 5
    assert np.isnan(cum.loc[h(0), "cum_long_usd"])
    assert list(cum["cum_long_usd"].iloc[1:]) == [10.0, 10.0, 15.0, 15.0]
    assert list(cum["cum_short_usd"].iloc[1:]) == [1.0, 1.0, 3.0, 3.0]
    assert list(cum["missing"]) == [True, False, True, False, True]


def test_worst_bar_is_the_largest_long_bar_with_its_ratio():
    rows = [(0, "okx", 50.0, 25.0), (1, "okx", 80.0, 16.0), (2, "okx", 80.0, 1.0)]
    worst = im.worst_bar(table_of(rows, 3))
    assert worst is not None
    # tie at 80 between hours 1 and 2: the earliest wins; ratio 80 / 16 = 5
    assert (worst.ts, worst.long_usd, worst.short_usd, worst.ratio) == (h(1), 80.0, 16.0, 5.0)
    assert not worst.partial


def test_worst_bar_ratio_is_inf_when_no_short_was_liquidated():
    worst = im.worst_bar(table_of([(0, "okx", 12.0, 0.0)], 1))
    assert worst is not None and worst.ratio == math.inf


def test_only_shorts_liquidated_has_no_worst_long_bar():
    t = table_of([(0, "okx", 0.0, 9.0), (1, "okx", 0.0, 3.0)], 2)
    assert im.worst_bar(t) is None
    assert (t["long_dominance"] == 0.0).all()
    assert im.window_totals(t).short_usd == 12.0


def test_worst_bar_reports_partial_coverage():
    t = table_of([(0, "okx", 5.0, 0.0), (0, "bybit", 1.0, 0.0), (1, "okx", 50.0, 1.0)], 2)
    worst = im.worst_bar(t)
    assert worst is not None and worst.ts == h(1)
    assert (worst.venues_reporting, worst.venues_expected, worst.partial) == (1, 2, True)


# ---- the headline -----------------------------------------------------------------------
def test_round_to_significant_figures():
    assert im.round_down_sig(231.4e6, 2) == pytest.approx(230e6)
    assert im.round_up_sig(4.3e6, 1) == pytest.approx(5e6)
    assert im.round_up_sig(0.35e6, 1) == pytest.approx(0.4e6)
    assert im.round_down_sig(230e6, 2) == pytest.approx(230e6)  # already round
    assert im.round_up_sig(0.0, 1) == 0.0


def test_headline_rounds_long_down_and_short_up():
    t = table_of([(0, "okx", 1e6, 1e6), (1, "okx", 231.4e6, 4.3e6)], 2)
    head = im.headline(t, win(h(0), h(2)))
    assert head is not None and head.ts == h(1)
    assert head.long_bound_usd == pytest.approx(230e6)  # 231.4M down to 2 figures
    assert head.short_bound_usd == pytest.approx(5e6)  # 4.3M up to 1 figure
    assert head.ratio == pytest.approx(231.4 / 4.3)
    assert head.text() == "more than $230M of longs against less than $5M of shorts in one hour"


def test_headline_with_no_shorts_says_against_zero():
    head = im.headline(table_of([(0, "okx", 1.23e6, 0.0)], 1), win(h(0), h(1)))
    assert head is not None and head.ratio == math.inf
    assert head.text() == "more than $1.2M of longs against $0 of shorts in one hour"


def test_headline_drops_more_than_when_the_value_is_already_round():
    head = im.headline(table_of([(0, "okx", 230e6, 5e6)], 1), win(h(0), h(1)))
    assert head is not None
    assert (head.long_qualifier, head.short_qualifier) == ("", "")
    assert head.text() == "$230M of longs against $5M of shorts in one hour"


def test_headline_names_the_bar_length_for_other_intervals():
    bars = liquidation_bars([(0, "okx", 3.0e6, 1.0e6)], interval="4h")
    window = win(h(0), h(4), interval="4h")
    t = im.imbalance_table(bars, window)
    head = im.headline(t, window)
    assert head is not None and head.text().endswith("in one 4h bar")


# ---- spikes -----------------------------------------------------------------------------
def test_trailing_median_mad_excludes_the_current_value_and_skips_nan():
    values = pd.Series([1.0, np.nan, 2.0, 3.0, 100.0])
    out = im.trailing_median_mad(values, window=3, mad_scale=1.0)
    # index 4: trailing [nan, 2, 3] -> median 2.5, |dev| = [0.5, 0.5] -> MAD 0.5, history 2
    assert out.loc[4, "median"] == 2.5
    assert out.loc[4, "mad"] == 0.5
    assert out.loc[4, "history"] == 2
    # index 3: trailing [1, nan, 2] -> median 1.5, MAD 0.5
    assert (out.loc[3, "median"], out.loc[3, "mad"]) == (1.5, 0.5)
    # index 0: nothing before it
    assert out.loc[0, "history"] == 0 and np.isnan(out.loc[0, "median"])
    scaled = im.trailing_median_mad(values, window=3)
    assert scaled.loc[4, "mad"] == pytest.approx(0.5 * 1.4826)


def test_spike_scores_apply_median_plus_k_mad_over_the_trailing_window():
    longs = [10.0, 12.0, 11.0, 11.0, 100.0, None]
    rows = [(i, "okx", v, 0.0) for i, v in enumerate(longs) if v is not None]
    t = table_of(rows, 6)
    s = im.spike_scores(t, k=3, window=4, min_history=2)
    # hour 4: trailing [10, 12, 11, 11] -> median 11, |dev| = [1, 1, 0, 0] -> MAD 0.5;
    # threshold = 11 + 3 x 0.5 x 1.4826 = 13.2239 < 100 -> spike (total = long here)
    assert s.loc[h(4), "long_median"] == 11.0
    assert s.loc[h(4), "long_mad"] == pytest.approx(0.5 * 1.4826)
    assert s.loc[h(4), "long_threshold"] == pytest.approx(11 + 3 * 0.5 * 1.4826)
    assert s.loc[h(4), "status"] == "spike"
    # hour 2: trailing [10, 12] (two observed) -> median 11, MAD 1 -> threshold 15.45 > 11
    assert s.loc[h(2), "history"] == 2 and s.loc[h(2), "status"] == "no spike"
    assert s.loc[h(2), "long_threshold"] == pytest.approx(11 + 3 * 1.4826)
    assert not s.loc[h(2), "long_spike"]
    # hour 3: trailing [10, 12, 11] -> median 11, |dev| = [1, 1, 0] -> MAD 1 -> 11 is no spike
    assert s.loc[h(3), "status"] == "no spike"
    # hours 0 and 1 have fewer than 2 observed bars before them; hour 5 is missing
    assert list(s["status"].iloc[[0, 1, 5]]) == ["insufficient history"] * 2 + ["missing"]
    assert s["long_spike"].iloc[[0, 1, 5]].isna().all()
    spikes = im.spike_bars(t, k=3, window=4, min_history=2)
    assert list(spikes.index) == [h(4)]
    assert spikes.loc[h(4), "long_usd"] == 100.0
    assert spikes.loc[h(4), "venues_reporting"] == 1


def test_spike_rule_both_requires_the_total_to_spike_too():
    # longs flat at 10 then 50; shorts alternate 100 / 0 so totals are 110, 10, 110, 10, 50.
    # long test at hour 4: median 10, MAD 0 -> threshold 10 < 50 -> long spike.
    # total test: trailing [110, 10, 110, 10] -> median 60, |dev| all 50 -> MAD 50 (raw);
    # threshold 60 + 2 x 50 = 160 > 50 -> no total spike.
    rows = [(0, "okx", 10.0, 100.0), (1, "okx", 10.0, 0.0), (2, "okx", 10.0, 100.0)]
    rows += [(3, "okx", 10.0, 0.0), (4, "okx", 50.0, 0.0)]
    t = table_of(rows, 5)
    kw = {"k": 2, "window": 4, "min_history": 4, "mad_scale": 1.0}
    s = im.spike_scores(t, **kw)
    assert s.loc[h(4), "total_threshold"] == 160.0
    assert bool(s.loc[h(4), "long_spike"]) and not bool(s.loc[h(4), "total_spike"])
    assert im.spike_bars(t, **kw).empty
    assert im.spike_bars(t, **kw, rule="both").empty
    assert list(im.spike_bars(t, **kw, rule="long").index) == [h(4)]
    assert list(im.spike_bars(t, **kw, rule="either").index) == [h(4)]
    assert im.spike_bars(t, **kw, rule="total").empty
    # a floor above the value switches the long test off: 50 is not > 60
    assert im.spike_bars(t, **kw, rule="long", min_usd=60.0).empty


def test_spike_window_skips_missing_bars_of_a_venue_outage():
    # hours 2 and 3 missing: hour 4's trailing window of 4 holds only hours 0 and 1
    rows = [(0, "okx", 10.0, 0.0), (1, "okx", 10.0, 0.0), (4, "okx", 11.0, 0.0)]
    s = im.spike_scores(table_of(rows, 5), k=3, window=4, min_history=3)
    assert s.loc[h(4), "history"] == 2
    assert s.loc[h(4), "status"] == "insufficient history"
    s2 = im.spike_scores(table_of(rows, 5), k=3, window=4, min_history=2)
    # median 10, MAD 0 -> threshold 10 < 11 -> spike
    assert s2.loc[h(4), "status"] == "spike"


def test_spike_parameters_are_checked():
    t = table_of([(0, "okx", 1.0, 1.0)], 1)
    with pytest.raises(UserError):
        im.spike_scores(t, window=0)
    with pytest.raises(UserError):
        im.spike_scores(t, window=4, min_history=5)
    with pytest.raises(UserError):
        im.spike_scores(t, rule="sometimes")  # type: ignore[arg-type]


def test_venue_silent_for_the_whole_window_still_counts_as_expected():
    # bybit has a row only before the window; inside it, only okx reports
    bars = liquidation_bars([(-1, "bybit", 1.0, 1.0), (0, "okx", 2.0, 0.0)])
    t = im.imbalance_table(bars, win(h(0), h(1)))
    assert t.loc[h(0), "venues_expected"] == 2
    assert bool(t.loc[h(0), "partial"])


def test_usd_sig_formats_round_amounts():
    assert im.usd_sig(230e6, 2) == "$230M"
    assert im.usd_sig(1.2e6, 2) == "$1.2M"
    assert im.usd_sig(5e6, 1) == "$5M"
    assert im.usd_sig(0.4e6, 1) == "$400K"
    assert im.usd_sig(1.7e12, 2) == "$1.7T"
    assert im.usd_sig(50.0, 1) == "$50"
    assert im.usd_sig(0.0, 1) == "$0"
