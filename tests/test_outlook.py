"""What to watch: rolling liquidations vs range, stress flag, concentration, OI, funding."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from factories import H, liquidation_bars, win

from helpers.errors import UserError
from helpers.metrics import outlook as o

T0 = pd.Timestamp("2025-01-01 00:00", tz="UTC")

# hours after this file's T0; plain frames (unvalidated), as a caller hands them to a metric
_bars = partial(liquidation_bars, t0=T0, source="test", validated=False)


def _price(opens, highs, lows, closes) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=len(opens), freq="h"),
            "open": np.array(opens, dtype="float64"),
            "high": np.array(highs, dtype="float64"),
            "low": np.array(lows, dtype="float64"),
            "close": np.array(closes, dtype="float64"),
            "volume": 1.0,
        }
    )


# ---- hourly liquidations on the grid ----------------------------------------------------------


def test_unobserved_hours_are_nan_and_observed_zero_hours_are_zero():
    bars = _bars([(0, "okx", 5.0, 1.0), (2, "okx", 0.0, 0.0)])
    out = o.liquidations_on_grid(bars, win(T0, T0 + 3 * H))
    assert out["long_usd"].tolist()[0] == 5.0 and out["long_usd"].tolist()[2] == 0.0
    assert math.isnan(out["long_usd"].tolist()[1])
    assert out["total_usd"].tolist()[0] == 6.0


def test_symbols_of_a_venue_are_summed_and_other_intervals_ignored():
    bars = pd.concat(
        [
            _bars([(0, "okx", 5.0, 1.0)]),
            _bars([(0, "okx", 2.0, 0.0)], symbol="BTC/USDC:USDC"),
            _bars([(0, "okx", 99.0, 99.0)]).assign(interval="4h"),
        ]
    )
    out = o.liquidations_on_grid(bars, win(T0, T0 + H))
    assert out[["long_usd", "short_usd"]].iloc[0].tolist() == [7.0, 1.0]


def test_total_is_nan_in_an_hour_where_any_venue_is_missing():
    bars = _bars([(0, "okx", 5.0, 1.0), (0, "bybit", 2.0, 0.0), (1, "okx", 3.0, 0.0)])
    out = o.hourly_liquidations(bars, win(T0, T0 + 2 * H))
    # hour 0: 5 + 2 long, 1 + 0 short; hour 1: bybit unobserved -> unknown total
    assert out["long_usd"].iloc[0] == 7.0 and out["short_usd"].iloc[0] == 1.0
    assert math.isnan(out["long_usd"].iloc[1]) and math.isnan(out["total_usd"].iloc[1])
    assert out["venues_observed"].tolist() == [2, 1]
    assert out["venues_expected"].tolist() == [2, 2]


def test_expected_venues_can_include_one_with_no_data_at_all():
    bars = _bars([(0, "okx", 5.0, 1.0)])
    out = o.hourly_liquidations(bars, win(T0, T0 + H, ["okx", "gate"]))
    assert math.isnan(out["long_usd"].iloc[0]) and out["venues_observed"].iloc[0] == 1


def test_no_bars_at_all_is_missing_not_zero():
    out = o.hourly_liquidations(_bars([]), win(T0, T0 + 2 * H))
    assert len(out) == 2 and out["total_usd"].isna().all()
    assert out["venues_expected"].tolist() == [0, 0]


def test_window_of_one_hour():
    out = o.hourly_liquidations(
        _bars([(0, "okx", 5.0, 1.0), (1, "okx", 9.0, 9.0)]), win(T0, T0 + H)
    )
    assert out["ts"].tolist() == [T0] and out["total_usd"].tolist() == [6.0]


# ---- rolling liquidations vs range ------------------------------------------------------------

PRICE = _price(
    opens=[8.5, 9.0, 11.0],
    highs=[10.0, 12.0, 11.0],
    lows=[8.0, 9.0, 7.0],
    closes=[9.0, 11.0, 8.0],
)


def test_rolling_sums_and_range_over_two_bars():
    hourly = o.hourly_liquidations(
        _bars([(0, "okx", 1.0, 0.5), (1, "okx", 2.0, 0.0), (2, "okx", 4.0, 1.0)]),
        win(T0, T0 + 3 * H),
    )
    out = o.liquidations_vs_range(hourly, PRICE, window=2)
    # longs 1, 2, 4 -> rolling 2: NaN, 3, 6
    assert math.isnan(out["long_usd_roll"].iloc[0])
    assert out["long_usd_roll"].tolist()[1:] == [3.0, 6.0]
    assert out["short_usd_roll"].tolist()[1:] == [0.5, 1.0]
    # range at bar 1: (max(10, 12) - min(8, 9)) / 11 = 4/11; bar 2: (12 - 7) / 8 = 5/8
    assert out["range_frac"].tolist()[1:] == pytest.approx([4 / 11, 5 / 8])
    # the window ending at bar 2 started at bar 1's open, 9.0
    assert out["window_open"].tolist()[1:] == [8.5, 9.0]
    assert out.attrs["window"] == 2


def test_a_missing_hour_blanks_every_window_that_contains_it():
    hourly = o.hourly_liquidations(
        _bars([(0, "okx", 1.0, 0.0), (2, "okx", 4.0, 0.0)]), win(T0, T0 + 3 * H)
    )
    price = PRICE.copy()
    price.loc[1, ["open", "high", "low", "close"]] = np.nan
    out = o.liquidations_vs_range(hourly, price, window=2)
    assert out["long_usd_roll"].isna().all()
    assert out["range_frac"].isna().all()


def test_window_of_one_bar_is_the_bar_itself():
    hourly = o.hourly_liquidations(
        _bars([(0, "okx", 1.0, 0.0), (1, "okx", 2.0, 0.0), (2, "okx", 4.0, 0.0)]),
        win(T0, T0 + 3 * H),
    )
    out = o.liquidations_vs_range(hourly, PRICE, window=1)
    assert out["long_usd_roll"].tolist() == [1.0, 2.0, 4.0]
    # (10 - 8) / 9, (12 - 9) / 11, (11 - 7) / 8
    assert out["range_frac"].tolist() == pytest.approx([2 / 9, 3 / 11, 4 / 8])
    assert out["window_open"].tolist() == [8.5, 9.0, 11.0]
    with pytest.raises(UserError):
        o.liquidations_vs_range(hourly, PRICE, window=0)


def _stress_frame(roll, rng, close, window_open) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=len(roll), freq="h"),
            "long_usd_roll": np.array(roll, dtype="float64"),
            "range_frac": np.array(rng, dtype="float64"),
            "close": np.array(close, dtype="float64"),
            "window_open": np.array(window_open, dtype="float64"),
        }
    )


def test_stress_without_relief_needs_all_three_conditions():
    frame = _stress_frame(
        roll=[1, 2, 3, 4, 4, 5],
        rng=[0.10, 0.09, 0.08, 0.07, 0.06, 0.05],
        close=[90, 90, 90, 90, 90, 110],
        window_open=[100, 100, 100, 100, 100, 100],
    )
    out = o.flag_stress_without_relief(frame, k=2, min_usd=0.0)
    # bar 2: roll 1 < 2 < 3 (two rises), range 0.08 < 0.10, close 90 < 100 -> flagged
    # bar 3: same -> flagged; bar 4: 4 -> 4 is not a rise -> not flagged
    # bar 5: 4 -> 5 rises but 4 -> 4 did not; and close 110 recovered above 100
    assert out["stress_flag"].tolist()[2:] == [True, True, False, False]
    assert out["longs_rising"].tolist()[2:] == [True, True, False, False]
    assert out["no_recovery"].tolist()[5] is False
    # bars 0 and 1 do not have k = 2 earlier steps: unknown, not False
    assert out["stress_flag"].isna().tolist()[:2] == [True, True]
    assert out.attrs["k"] == 2


def test_stress_flag_is_unknown_where_an_input_is_missing_but_false_when_decided():
    frame = _stress_frame(
        roll=[1, 2, np.nan, 4, 5, 6],
        rng=[0.10, 0.09, 0.08, 0.07, 0.11, 0.05],
        close=[90] * 6,
        window_open=[100] * 6,
    )
    out = o.flag_stress_without_relief(frame, k=1, min_usd=0.0)
    # bar 2 and 3 touch the missing roll: rising unknown -> flag unknown
    assert out["longs_rising"].isna().tolist()[2:4] == [True, True]
    assert out["stress_flag"].isna().tolist()[2:4] == [True, True]
    # bar 4: rising (4 -> 5) but range widened 0.07 -> 0.11: decided False
    assert out["stress_flag"].tolist()[4] is False
    assert out["stress_flag"].tolist()[5] is True
    with pytest.raises(UserError):
        o.flag_stress_without_relief(frame, k=0)


# ---- concentration ----------------------------------------------------------------------------


def _hourly(values) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=len(values), freq="h"),
            "long_usd": np.array(values, dtype="float64"),
        }
    )


def test_concentration_top_share_hhi_and_effective_hours():
    got = o.concentration(_hourly([10, 30, 60]))
    # shares 0.1, 0.3, 0.6: HHI = 0.01 + 0.09 + 0.36 = 0.46, 1 / 0.46 = 2.1739 hours
    assert got.total_usd == 100.0 and got.top_usd == 60.0 and got.top_ts == T0 + 2 * H
    assert got.top_share == pytest.approx(0.6)
    assert got.hhi == pytest.approx(0.46)
    assert got.effective_hours == pytest.approx(1 / 0.46)
    assert got.shape == "single"
    assert o.concentration(_hourly([10, 30, 60]), single_share=0.7).shape == "staged"


def test_concentration_even_spread_and_missing_hours():
    got = o.concentration(_hourly([25, np.nan, 25, 25, 25]))
    # four observed equal hours: HHI = 4 * 0.25^2 = 0.25, effective hours 4
    assert got.hhi == pytest.approx(0.25) and got.effective_hours == pytest.approx(4.0)
    assert (got.observed_bars, got.missing_bars) == (4, 1)
    assert got.shape == "staged"


def test_concentration_with_nothing_liquidated_or_nothing_observed():
    none = o.concentration(_hourly([0, 0]))
    assert none.shape == "none" and none.total_usd == 0.0 and math.isnan(none.hhi)
    no_data = o.concentration(_hourly([np.nan, np.nan]))
    assert no_data.shape == "no data" and math.isnan(no_data.total_usd)
    one = o.concentration(_hourly([7.0]))
    assert (one.top_share, one.hhi, one.effective_hours, one.shape) == (1.0, 1.0, 1.0, "single")
    with pytest.raises(UserError):
        o.concentration(_hourly([1.0]), single_share=0.0)


# ---- liquidations relative to open interest ---------------------------------------------------


def _oi(rows: list[tuple[float, str, float]], symbol: str = "BTC/USDT:USDT") -> pd.DataFrame:
    """open_interest rows (hour, exchange, oi_usd); fractional hours allowed."""
    return pd.DataFrame(
        {
            "ts": [T0 + pd.Timedelta(hours=h) for h, *_ in rows],
            "exchange": [r[1] for r in rows],
            "symbol": symbol,
            "oi_usd": [r[2] for r in rows],
        }
    )


def test_liquidations_to_oi_per_venue_and_total():
    bars = _bars([(0, "a", 2.0, 1.0), (0, "b", 1.0, 0.0), (1, "b", 2.0, 0.0)])
    per_venue = o.liquidations_on_grid(bars, win(T0, T0 + 2 * H))
    oi = _oi([(0, "a", 100.0), (0, "b", 50.0), (1, "b", 50.0)])
    out = o.liquidations_to_oi(per_venue, oi).set_index(["ts", "exchange"])["ratio"]
    # hour 0: a 3/100, b 1/50, total (3 + 1) / (100 + 50)
    assert out[(T0, "a")] == pytest.approx(0.03)
    assert out[(T0, "b")] == pytest.approx(0.02)
    assert out[(T0, "total")] == pytest.approx(4 / 150)
    # hour 1: a has neither liquidations nor OI -> a and the total are unknown; b 2/50
    assert math.isnan(out[(T0 + H, "a")]) and math.isnan(out[(T0 + H, "total")])
    assert out[(T0 + H, "b")] == pytest.approx(0.04)


def test_stale_open_interest_is_missing():
    per_venue = o.liquidations_on_grid(_bars([(1, "a", 1.0, 0.0)]), win(T0 + H, T0 + 2 * H))
    oi = _oi([(0.5, "a", 100.0)])
    out = o.liquidations_to_oi(per_venue, oi, max_age="15min")
    assert out["oi_usd"].isna().all() and out["ratio"].isna().all()
    ok = o.liquidations_to_oi(per_venue, oi, max_age="31min")
    # 30 minutes old is fresh enough: 1 / 100
    assert ok.set_index("exchange").loc["a", "ratio"] == pytest.approx(0.01)


# ---- open interest against price --------------------------------------------------------------


def test_classify_oi_price_quadrants_dead_band_and_missing():
    oi = pd.Series([0.02, 0.02, -0.02, -0.02, 0.0005, 0.02, np.nan, 0.001])
    px = pd.Series([0.01, -0.01, 0.01, -0.01, 0.05, -0.0005, 0.01, 0.01])
    out = o.classify_oi_price(oi, px, deadband=0.001)
    assert out.tolist()[:6] == [
        "new longs",
        "new shorts",
        "short covering",
        "long capitulation",
        "flat",
        "flat",
    ]
    assert pd.isna(out.iloc[6])
    # exactly on the dead band counts as flat
    assert out.iloc[7] == "flat"
    with pytest.raises(UserError):
        o.classify_oi_price(oi, px, deadband=-0.1)


def test_oi_price_regimes_per_bar():
    price = _price(opens=[100, 102, 101], highs=[103] * 3, lows=[99] * 3, closes=[102, 101, 101])
    oi = _oi([(0, "a", 60.0), (0, "b", 40.0), (1, "a", 70.0), (1, "b", 40.0), (2, "a", 59.0)])
    oi = pd.concat([oi, _oi([(2, "b", 40.0), (3, "a", 60.0)])])
    out = o.oi_price_regimes(oi, price, win(T0, T0 + 3 * H), deadband=0.001)
    # bar 0: OI 100 -> 110 (+10%), price 100 -> 102 (+2%): new longs
    assert out["oi_start_usd"].iloc[0] == 100.0 and out["oi_end_usd"].iloc[0] == 110.0
    assert out["oi_change"].iloc[0] == pytest.approx(0.1)
    assert out["price_change"].iloc[0] == pytest.approx(0.02)
    assert out["regime"].iloc[0] == "new longs"
    # bar 1: OI 110 -> 99 (-10%), price 102 -> 101: long capitulation
    assert out["oi_change"].iloc[1] == pytest.approx(99 / 110 - 1)
    assert out["regime"].iloc[1] == "long capitulation"
    # bar 2: b has no OI at 03:00 -> the closing total is unknown
    assert math.isnan(out["oi_end_usd"].iloc[2]) and pd.isna(out["regime"].iloc[2])
    assert out.attrs["deadband"] == 0.001


def test_oi_price_regimes_on_one_venue_and_refusing_two_coins():
    price = _price(opens=[100], highs=[101], lows=[98], closes=[99])
    oi = _oi([(0, "a", 60.0), (0, "b", 40.0), (1, "a", 66.0)])
    out = o.oi_price_regimes(oi, price, win(T0, T0 + H, ["a"]))
    # a alone: 60 -> 66 (+10%) with price down 1%: new shorts
    assert out["regime"].tolist() == ["new shorts"]
    two = pd.concat([oi, _oi([(0, "a", 1.0)], symbol="ETH/USDT:USDT")])
    with pytest.raises(UserError, match="several base currencies"):
        o.oi_price_regimes(two, price, win(T0, T0 + H))


def test_oi_price_regimes_without_any_open_interest():
    price = _price(opens=[100], highs=[101], lows=[98], closes=[99])
    out = o.oi_price_regimes(_oi([]), price, win(T0, T0 + H))
    assert out["oi_change"].isna().all() and out["regime"].isna().all()


# ---- funding ----------------------------------------------------------------------------------


def _funding(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": [T0 + h * H for h, *_ in rows],
            "exchange": [r[1] for r in rows],
            "symbol": "BTC/USDT:USDT",
            "rate": [r[2] for r in rows],
        }
    )


FUNDING = _funding(
    [(0, "okx", 0.0001), (8, "okx", 0.0003), (0, "hl", 0.00001), (1, "hl", 0.00003)]
    + [(2, "hl", 0.00002)]
)


def test_funding_period_inferred_from_spacing_or_given():
    assert o.funding_period_hours(FUNDING).to_dict() == {"hl": 1.0, "okx": 8.0}
    assert o.funding_period_hours(FUNDING, 4).to_dict() == {"hl": 4.0, "okx": 4.0}
    assert o.funding_period_hours(FUNDING, {"okx": 4}).to_dict() == {"hl": 1.0, "okx": 4.0}
    one = o.funding_period_hours(_funding([(0, "gate", 0.0001)]))
    assert math.isnan(one["gate"])
    with pytest.raises(UserError):
        o.funding_period_hours(FUNDING, 0)


def test_funding_summary_mean_last_and_simple_annualisation():
    out = o.funding_summary(FUNDING).set_index("exchange")
    okx, hl = out.loc["okx"], out.loc["hl"]
    # okx: mean (0.0001 + 0.0003) / 2 = 0.0002 per 8 h -> 0.0002 * 8760 / 8 = 0.219 a year
    assert okx["observations"] == 2 and okx["mean_rate"] == pytest.approx(0.0002)
    assert okx["mean_annualised"] == pytest.approx(0.219)
    assert okx["last_rate"] == pytest.approx(0.0003)
    assert okx["last_annualised"] == pytest.approx(0.0003 * 1095)
    # hl: mean 0.00002 per hour -> 0.00002 * 8760 = 0.1752; last 0.00002
    assert hl["mean_annualised"] == pytest.approx(0.1752)
    assert hl["last_ts"] == T0 + 2 * H and hl["period_hours"] == 1.0
    assert o.funding_summary(FUNDING.iloc[0:0]).empty


def test_annualised_funding_per_row():
    out = o.annualised_funding(FUNDING, {"okx": 8, "hl": 1})
    # 0.0001 * 8760 / 8 = 0.1095; 0.00001 * 8760 / 1 = 0.0876
    assert out["annualised"].tolist()[0] == pytest.approx(0.1095)
    assert out["annualised"].tolist()[2] == pytest.approx(0.0876)
