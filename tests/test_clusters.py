"""Liquidation clusters, swing lows, support zones and the ESTIMATED open-liquidation map."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from factories import H, liquidations, win

from helpers.errors import UserError
from helpers.metrics import clusters as c
from helpers.metrics import liquidation_map as lm

T0 = pd.Timestamp("2025-01-01 00:00", tz="UTC")
W = win(T0, T0 + 3 * H)


# events one minute apart from this file's T0
_liq = partial(liquidations, t0=T0, step=pd.Timedelta(minutes=1), source="test")


def _ohlcv(exchange: str, hours: list[int], symbol: str = "BTC/USDT:USDT") -> pd.DataFrame:
    n = len(hours)
    return pd.DataFrame(
        {
            "ts": [T0 + h * H for h in hours],
            "interval": "1h",
            "exchange": exchange,
            "symbol": symbol,
            "open": [100.0] * n,
            "high": [101.0] * n,
            "low": [99.0] * n,
            "close": [100.0] * n,
            "volume": [1.0] * n,
        }
    )


def _grid(lows: list[float]) -> pd.DataFrame:
    """A price grid with the given lows (NaN = missing bar); other prices irrelevant here."""
    lows_a = np.array(lows, dtype="float64")
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=len(lows), freq="h"),
            "open": lows_a + 1,
            "high": lows_a + 2,
            "low": lows_a,
            "close": lows_a + 1,
            "volume": np.where(np.isnan(lows_a), np.nan, 1.0),
        }
    )


EVENTS = _liq(
    [
        ("long", 100.5, 10.0),
        ("long", 101.9, 5.0),
        ("short", 101.0, 7.0),
        ("long", 103.2, 1.0),
    ]
)


# ---- grid and reference bars ------------------------------------------------------------------


def test_reference_bars_picks_the_venue_with_most_bars_then_alphabetical():
    ohlcv = pd.concat([_ohlcv("okx", [0, 1, 2]), _ohlcv("bybit", [0, 1])])
    assert c.reference_bars(ohlcv, W)["exchange"].unique().tolist() == ["okx"]
    tie = pd.concat([_ohlcv("okx", [0, 1]), _ohlcv("bybit", [0, 1])])
    assert c.reference_bars(tie, W)["exchange"].unique().tolist() == ["bybit"]
    assert c.reference_bars(tie, W, exchange="okx")["exchange"].unique().tolist() == ["okx"]


def test_reference_bars_refuses_two_symbols_on_one_venue():
    two = pd.concat([_ohlcv("okx", [0]), _ohlcv("okx", [0], symbol="BTC/USDC:USDC")])
    with pytest.raises(UserError, match="several symbols"):
        c.reference_bars(two, W)


def test_price_grid_keeps_a_missing_bar_as_nan_not_zero():
    grid = c.price_grid(_ohlcv("okx", [0, 2]), W)
    assert grid["ts"].tolist() == [T0, T0 + H, T0 + 2 * H]
    assert grid["close"].iloc[0] == 100.0 and grid["close"].iloc[2] == 100.0
    assert grid.loc[1, ["open", "high", "low", "close", "volume"]].isna().all()


# ---- realised liquidations by price -----------------------------------------------------------


def test_liquidations_by_price_bins_each_side_separately():
    out = c.liquidations_by_price(EVENTS, bin_width=1.0)
    # bins [100,101): long 10 | [101,102): long 5, short 7 | [102,103): nothing | [103,104): long 1
    assert out["bin_low"].tolist() == [100.0, 101.0, 102.0, 103.0]
    assert out["bin_mid"].tolist() == [100.5, 101.5, 102.5, 103.5]
    assert out["long_usd"].tolist() == [10.0, 5.0, 0.0, 1.0]
    assert out["short_usd"].tolist() == [0.0, 7.0, 0.0, 0.0]
    assert out["total_usd"].tolist() == [10.0, 12.0, 0.0, 1.0]
    assert out["long_count"].tolist() == [1, 1, 0, 1]
    assert out["short_count"].tolist() == [0, 1, 0, 0]
    assert set(out["kind"]) == {"realised"} and out.attrs["kind"] == "realised"


def test_liquidations_by_price_origin_shifts_the_bin_edges():
    out = c.liquidations_by_price(EVENTS, bin_width=2.0, origin=0.5)
    # edges 100.5, 102.5, 104.5: [100.5,102.5) holds 10 + 5 long and 7 short; [102.5,104.5) 1
    assert out["bin_low"].tolist() == [100.5, 102.5]
    assert out["long_usd"].tolist() == [15.0, 1.0]
    assert out["short_usd"].tolist() == [7.0, 0.0]


def test_a_price_on_a_bin_edge_falls_in_the_upper_bin_despite_float_error():
    out = c.liquidations_by_price(_liq([("long", 0.3, 1.0)]), bin_width=0.1)
    # 0.3 / 0.1 = 2.9999999999999996 in floats; the event still belongs to [0.3, 0.4)
    assert out["bin_low"].tolist() == pytest.approx([0.3])


def test_liquidations_by_price_with_no_events_is_empty_with_columns():
    out = c.liquidations_by_price(EVENTS.iloc[0:0], bin_width=1.0)
    assert out.empty and out.attrs["kind"] == "realised"
    assert {"bin_mid", "long_usd", "short_usd", "total_usd", "kind"} <= set(out.columns)


def test_liquidations_by_price_with_one_side_only():
    out = c.liquidations_by_price(EVENTS[EVENTS["side"] == "long"], bin_width=1.0)
    assert out["short_usd"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert out["total_usd"].tolist() == out["long_usd"].tolist() == [10.0, 5.0, 0.0, 1.0]


def test_liquidations_by_price_refuses_mixed_coins_and_bad_width():
    mixed = pd.concat([EVENTS, _liq([("long", 3000.0, 1.0)], base="ETH")])
    with pytest.raises(UserError, match="several base currencies"):
        c.liquidations_by_price(mixed, 1.0)
    with pytest.raises(UserError, match="bin width"):
        c.liquidations_by_price(EVENTS, 0.0)
    with pytest.raises(UserError, match="use a wider bin"):
        # 100.5 .. 103.2 in steps of 1e-5 would be 270,000 bins
        c.liquidations_by_price(EVENTS, 1e-5)


# ---- swing lows and support -------------------------------------------------------------------


def test_swing_lows_confirmed_and_the_unconfirmed_tail():
    lows = [10, 9, 8, 9, 10, 7, 9, 9.5, 9.2, 6.5]
    out = c.swing_lows(_grid(lows), window=2)
    # bar 2 (8): 2 bars each side 10, 9 | 9, 10 are higher -> confirmed
    # bar 5 (7): 9, 10 | 9, 9.5 higher -> confirmed
    # bar 9 (6.5): lower than 9.5, 9.2 before it, but no bars after -> unconfirmed
    assert out["price"].tolist() == [8.0, 7.0, 6.5]
    assert out["ts"].tolist() == [T0 + 2 * H, T0 + 5 * H, T0 + 9 * H]
    assert out["confirmed"].tolist() == [True, True, False]


def test_swing_low_ties_count_once_at_the_earliest_bar():
    out = c.swing_lows(_grid([5, 3, 3, 5, 5]), window=1)
    assert out["ts"].tolist() == [T0 + H]


def test_a_missing_neighbour_leaves_a_swing_low_unconfirmed():
    out = c.swing_lows(_grid([10, 8, np.nan, 9, 10]), window=1)
    # 8 and 9 are each below their one observed neighbour, but the bar between them is
    # missing, so neither can be confirmed
    assert out["price"].tolist() == [8.0, 9.0]
    assert out["confirmed"].tolist() == [False, False]


def test_swing_lows_on_a_one_bar_window_cannot_be_confirmed():
    out = c.swing_lows(_grid([100.0]), window=1)
    assert out["confirmed"].tolist() == [False]
    with pytest.raises(UserError, match="at least 1"):
        c.swing_lows(_grid([100.0]), window=0)


def _lows(prices: list[float], confirmed: list[bool] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=len(prices), freq="h"),
            "price": prices,
            "confirmed": confirmed or [True] * len(prices),
        }
    )


def test_support_zones_merge_lows_within_tolerance_of_the_zone_low():
    zones = c.support_zones(_lows([101.0, 100.0, 105.0, 100.4]), tolerance=0.005)
    # zone from 100 reaches 100 * 1.005 = 100.5: 100.4 joins, 101 starts a new zone
    assert zones["level"].tolist() == [100.0, 101.0, 105.0]
    assert zones["zone_high"].tolist() == [100.4, 101.0, 105.0]
    assert zones["touches"].tolist() == [2, 1, 1]
    assert zones.loc[0, "first_ts"] == T0 + H and zones.loc[0, "last_ts"] == T0 + 3 * H


def test_support_zones_without_merging_and_ignoring_unconfirmed_lows():
    lows = _lows([101.0, 100.0, 105.0, 100.4], [True, True, True, False])
    assert c.support_zones(lows, tolerance=None)["level"].tolist() == [100.0, 101.0, 105.0]
    all_lows = c.support_zones(lows, tolerance=None, confirmed_only=False)
    assert all_lows["level"].tolist() == [100.0, 100.4, 101.0, 105.0]
    assert c.support_zones(lows.iloc[0:0]).empty


def test_nearest_levels_below_is_at_or_below_above_is_strictly_above():
    near = c.nearest_levels(np.array([99.0, 100.0, 102.0, 106.0]), np.array([105.0, 100.0, 101.0]))
    assert near["below"].tolist()[1:] == [100.0, 101.0, 105.0] and math.isnan(near["below"][0])
    assert near["above"].tolist()[:3] == [100.0, 101.0, 105.0] and math.isnan(near["above"][3])


def test_largest_clusters_with_distances_from_price_and_support():
    by_price = c.liquidations_by_price(EVENTS, 1.0)
    supports = pd.DataFrame({"level": [100.2, 103.0]})
    top = c.largest_clusters(by_price, last_price=102.5, supports=supports, n=2)
    # totals: [101,102) 12, [100,101) 10, [103,104) 1
    assert top["bin_mid"].tolist() == [101.5, 100.5]
    assert top["notional_usd"].tolist() == [12.0, 10.0]
    first = top.iloc[0]
    assert first["distance_abs"] == pytest.approx(101.5 - 102.5)
    assert first["distance_rel"] == pytest.approx(-1 / 102.5)
    assert first["support_below"] == 100.2 and first["support_above"] == 103.0
    assert first["to_support_below_rel"] == pytest.approx(101.5 / 100.2 - 1)
    assert first["to_support_above_rel"] == pytest.approx(101.5 / 103.0 - 1)
    second = top.iloc[1]
    assert second["support_below"] == 100.2 and second["support_above"] == 103.0
    assert top.attrs["kind"] == "realised" and set(top["kind"]) == {"realised"}


def test_largest_clusters_by_side_skips_empty_bins_and_handles_no_support():
    by_price = c.liquidations_by_price(EVENTS, 1.0)
    top = c.largest_clusters(by_price, last_price=102.5, n=10, side="short")
    assert top["bin_mid"].tolist() == [101.5]
    assert math.isnan(top.loc[0, "support_below"])
    assert c.largest_clusters(by_price.iloc[0:0], 100.0).empty


# ---- estimated map ---------------------------------------------------------------------------


def test_liquidation_price_formulas():
    # long 100 at 10x, mmr 0.5%: 100 * (1 - 0.1 + 0.005) = 90.5; short: 100 * (1 + 0.1 - 0.005)
    assert lm.liquidation_price(100.0, 10.0, "long", 0.005) == pytest.approx(90.5)
    assert lm.liquidation_price(100.0, 10.0, "short", 0.005) == pytest.approx(109.5)
    with pytest.raises(UserError):
        lm.liquidation_price(100.0, 10.0, "buy", 0.005)


def _oi(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": [T0 + pd.Timedelta(minutes=m) for m, *_ in rows],
            "exchange": [r[1] for r in rows],
            "symbol": [r[2] for r in rows],
            "oi_usd": [r[3] for r in rows],
        }
    )


def test_open_interest_at_takes_the_last_fresh_sample_and_sums_symbols():
    oi = _oi(
        [
            (0, "okx", "BTC/USDT:USDT", 100.0),
            (50, "okx", "BTC/USDT:USDT", 110.0),
            (55, "okx", "BTC/USDC:USDC", 5.0),
            (0, "bybit", "BTC/USDT:USDT", 70.0),
        ]
    )
    at = T0 + H
    got = lm.open_interest_at(oi, at, max_age="30min")
    # okx: 110 (10 min old) + 5 (5 min old); bybit's sample is 60 min old -> missing
    assert got["okx"] == 115.0 and math.isnan(got["bybit"])
    assert lm.open_interest_at(oi, at)["bybit"] == 70.0
    assert math.isnan(lm.total_open_interest_at(oi, at, max_age="30min"))
    assert lm.total_open_interest_at(oi, at) == 185.0


def test_open_interest_at_a_venue_with_one_symbol_missing_is_nan():
    oi = _oi([(0, "okx", "BTC/USDT:USDT", 100.0), (0, "okx", "BTC/USDC:USDC", 5.0)])
    oi = pd.concat([oi, _oi([(90, "okx", "BTC/USDT:USDT", 120.0)])])
    got = lm.open_interest_at(oi, T0 + 2 * H, max_age="45min")
    # USDT sample at 01:30 is fresh, USDC sample at 00:00 is stale -> the venue is unknown
    assert math.isnan(got["okx"])


def test_open_interest_refuses_two_coins():
    oi = _oi([(0, "okx", "BTC/USDT:USDT", 1.0), (0, "okx", "ETH/USDT:USDT", 1.0)])
    with pytest.raises(UserError, match="several base currencies"):
        lm.open_interest_at(oi, T0)


def _entry_grid() -> pd.DataFrame:
    """Two bars: typical prices (110+90+100)/3 = 100 and (121+99+110)/3 = 110; volumes 1, 3."""
    return pd.DataFrame(
        {
            "ts": [T0, T0 + H, T0 + 2 * H],
            "open": [100.0, 100.0, np.nan],
            "high": [110.0, 121.0, np.nan],
            "low": [90.0, 99.0, np.nan],
            "close": [100.0, 110.0, np.nan],
            "volume": [1.0, 3.0, np.nan],
        }
    )


def test_entry_prices_are_typical_prices_weighted_by_volume():
    entries = lm.entry_prices(_entry_grid(), at=T0 + 3 * H, lookback="3h")
    assert entries["entry_price"].tolist() == pytest.approx([100.0, 110.0])
    assert entries["weight"].tolist() == pytest.approx([0.25, 0.75])
    only_last = lm.entry_prices(_entry_grid(), at=T0 + 3 * H, lookback="2h")
    assert only_last["entry_price"].tolist() == pytest.approx([110.0])
    assert lm.entry_prices(_entry_grid(), at=T0, lookback="3h").empty


def test_entry_prices_without_volume_is_an_error():
    grid = _entry_grid().assign(volume=0.0)
    with pytest.raises(UserError, match="no traded volume"):
        lm.entry_prices(grid, at=T0 + 3 * H, lookback="3h")


AT = T0 + 3 * H


def _levels(drop_crossed: bool, oi_usd: float = 1000.0) -> pd.DataFrame:
    return lm.open_liquidation_levels(
        oi_usd,
        _entry_grid(),
        AT,
        {10: 1.0},
        lookback="3h",
        long_share=0.6,
        mmr=0.0,
        drop_crossed=drop_crossed,
    )


def test_open_liquidation_levels_split_oi_by_side_entry_and_leverage():
    lv = _levels(drop_crossed=False).set_index(["side", "entry_price"])
    # longs hold 60% of 1000: entry 100 (weight 0.25) -> 150 at 100 * 0.9 = 90,
    #                         entry 110 (weight 0.75) -> 450 at 110 * 0.9 = 99
    # shorts hold 400: 100 at 100 * 1.1 = 110 and 300 at 110 * 1.1 = 121
    assert lv.loc[("long", 100.0), "liq_price"] == pytest.approx(90.0)
    assert lv.loc[("long", 100.0), "notional_usd"] == pytest.approx(150.0)
    assert lv.loc[("long", 110.0), "liq_price"] == pytest.approx(99.0)
    assert lv.loc[("long", 110.0), "notional_usd"] == pytest.approx(450.0)
    assert lv.loc[("short", 100.0), "notional_usd"] == pytest.approx(100.0)
    assert lv.loc[("short", 110.0), "liq_price"] == pytest.approx(121.0)
    assert lv.loc[("short", 110.0), "notional_usd"] == pytest.approx(300.0)


def test_cohorts_crossed_by_a_later_bar_are_dropped_and_oi_respread():
    lv = _levels(drop_crossed=True)
    # the short opened in bar 0 (level 110) is hit by bar 1's high of 121: gone; the
    # remaining short cohort (level 121) carries all 400 of short OI. The bar-0 long (level
    # 90) is below bar 1's low of 99, so it survives; the bar-1 long has no later bar.
    # Longs keep 150 + 450 = 600.
    shorts = lv[lv["side"] == "short"]
    assert shorts["liq_price"].tolist() == pytest.approx([121.0])
    assert shorts["notional_usd"].tolist() == pytest.approx([400.0])
    longs = lv[lv["side"] == "long"]
    assert longs["notional_usd"].sum() == pytest.approx(600.0)
    assert lv.attrs["kind"] == "estimated" and set(lv["kind"]) == {"estimated"}
    assert "leverage 10x 100%" in lv.attrs["model"] and "longs 60%" in lv.attrs["model"]


def test_leverage_weights_are_normalised_and_validated():
    lv = lm.open_liquidation_levels(
        1000.0, _entry_grid(), AT, {10: 1.0, 20: 3.0}, lookback="3h", drop_crossed=False
    )
    long_110 = lv[(lv["side"] == "long") & (lv["entry_price"].round(6) == 110.0)]
    # longs 500 (50/50 default), entry weight 0.75, leverage weights 1/4 and 3/4
    assert long_110.set_index("leverage")["notional_usd"].to_dict() == pytest.approx(
        {10.0: 500 * 0.75 * 0.25, 20.0: 500 * 0.75 * 0.75}
    )
    with pytest.raises(UserError, match="above 1x"):
        lm.open_liquidation_levels(1.0, _entry_grid(), AT, {1: 1.0}, lookback="3h")
    with pytest.raises(UserError, match="non-negative"):
        lm.open_liquidation_levels(1.0, _entry_grid(), AT, {10: -1.0}, lookback="3h")
    with pytest.raises(UserError, match="long share"):
        lm.open_liquidation_levels(1.0, _entry_grid(), AT, {10: 1.0}, long_share=1.5)


def test_estimated_map_bins_levels_below_and_above_price_and_keeps_oi_total():
    em = lm.estimated_liquidation_map(_levels(drop_crossed=False), bin_width=10.0, last_price=105.0)
    by_bin = em.set_index("bin_low")
    # long 150 at 90 -> [90,100), 450 at 99 -> [90,100); short 100 at 110 -> [110,120),
    # 300 at 121 -> [120,130)
    assert by_bin.loc[90.0, "long_usd"] == pytest.approx(600.0)
    assert by_bin.loc[110.0, "short_usd"] == pytest.approx(100.0)
    assert by_bin.loc[120.0, "short_usd"] == pytest.approx(300.0)
    assert by_bin.loc[100.0, "total_usd"] == 0.0
    assert em["total_usd"].sum() == pytest.approx(1000.0)
    assert by_bin.loc[90.0, "position"] == "below" and by_bin.loc[110.0, "position"] == "above"
    assert em.attrs["kind"] == "estimated" and em.attrs["last_price"] == 105.0
    assert "Model, not observed" in em.attrs["model"]
    assert c.largest_clusters(em, 105.0, n=1).attrs["kind"] == "estimated"


def test_missing_open_interest_gives_levels_with_missing_notional():
    lv = _levels(drop_crossed=False, oi_usd=float("nan"))
    assert len(lv) == 4 and lv["notional_usd"].isna().all()
    em = lm.estimated_liquidation_map(lv, bin_width=10.0, last_price=105.0)
    assert math.isnan(em.set_index("bin_low").loc[90.0, "long_usd"])
    assert math.isnan(lm.exposed_notional(lv, 100.0, 0.05).notional_usd)
    assert "open interest missing" in lv.attrs["model"]


def test_no_bars_in_lookback_gives_no_levels_and_an_empty_map():
    lv = lm.open_liquidation_levels(1000.0, _entry_grid(), T0, {10: 1.0}, lookback="3h")
    assert lv.empty
    assert lm.estimated_liquidation_map(lv, 10.0, 100.0).empty
    assert lm.exposed_notional(lv, 100.0, 0.05).notional_usd == 0.0


def test_exposed_long_notional_below_a_support_and_short_above_a_resistance():
    lv = _levels(drop_crossed=False)
    # longs: 150 at 90, 450 at 99; support 100, 5% -> [95, 100] holds 450
    five = lm.exposed_notional(lv, level=100.0, depth=0.05)
    assert (five.price_low, five.price_high) == pytest.approx((95.0, 100.0))
    assert five.notional_usd == pytest.approx(450.0) and five.kind == "estimated"
    # 11% -> [89, 100] holds both: 600
    assert lm.exposed_notional(lv, 100.0, 0.11).notional_usd == pytest.approx(600.0)
    # the range includes the level itself: [98.01, 99] holds the 450 at 99
    assert lm.exposed_notional(lv, 99.0, 0.01).notional_usd == pytest.approx(450.0)
    # shorts: 100 at 110, 300 at 121; resistance 120, 1% -> [120, 121.2] holds 300
    assert lm.exposed_notional(lv, 120.0, 0.01, side="short").notional_usd == pytest.approx(300.0)
    with pytest.raises(UserError, match="depth"):
        lm.exposed_notional(lv, 100.0, 0.0)


def test_realised_and_estimated_frames_are_labelled_differently():
    realised = c.liquidations_by_price(EVENTS, 10.0)
    estimated = lm.estimated_liquidation_map(_levels(False), 10.0, 105.0)
    assert realised.attrs["kind"] != estimated.attrs["kind"]
    assert set(realised["kind"]) == {"realised"} and set(estimated["kind"]) == {"estimated"}


def test_demo_market_estimated_map_sums_to_open_interest(article_market):
    tables = article_market.tables()
    ohlcv = tables["ohlcv"][tables["ohlcv"]["symbol"].str.startswith("BTC/")]
    oi = tables["open_interest"][tables["open_interest"]["symbol"].str.startswith("BTC/")]
    start, end = pd.Timestamp("2025-11-10", tz="UTC"), pd.Timestamp("2025-11-17", tz="UTC")
    window = win(start, end)
    grid = c.price_grid(c.reference_bars(ohlcv, window), window)
    total = lm.total_open_interest_at(oi, end)
    lv = lm.open_liquidation_levels(total, grid, end, {5: 0.3, 10: 0.4, 25: 0.3})
    em = lm.estimated_liquidation_map(lv, 250.0, float(grid["close"].iloc[-1]))
    assert total > 0
    assert em["total_usd"].sum() == pytest.approx(total)
    last = float(grid["close"].iloc[-1])
    # surviving long levels sit below the last price, short levels above it
    assert (lv.loc[lv["side"] == "long", "liq_price"] < last).all()
    assert (lv.loc[lv["side"] == "short", "liq_price"] > last).all()


def test_a_long_cohort_whose_level_a_later_low_reached_is_gone():
    grid = pd.DataFrame(
        {
            "ts": [T0, T0 + H],
            "open": [100.0, 100.0],
            "high": [110.0, 100.0],
            "low": [90.0, 85.0],
            "close": [100.0, 95.0],
            "volume": [1.0, 1.0],
        }
    )
    lv = lm.open_liquidation_levels(1000.0, grid, T0 + 2 * H, {10: 1.0}, lookback="2h", mmr=0.0)
    longs = lv[lv["side"] == "long"]
    # bar 0 long: 100 * 0.9 = 90, reached by bar 1's low of 85 -> liquidated already;
    # bar 1 long: (100 + 85 + 95) / 3 * 0.9 = 84 carries all 500 of long OI
    assert longs["liq_price"].tolist() == pytest.approx([84.0])
    assert longs["notional_usd"].tolist() == pytest.approx([500.0])
