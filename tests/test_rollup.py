"""Coarser bars from finer stored bars (``helpers.rollup`` via ``load_bars``): a 4h bar from
four observed hours, missing when one hour is; counts NA when a finer count is NA."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import T0, h, liquidation_bars

from helpers import aggregate
from helpers.rollup import finer_intervals
from helpers.sources import vendor_csv
from helpers.store import Store
from helpers.timegrid import interval_timedelta

PRECEDENCE = ("ccxt:*", "coinalyze")


def _store(tmp_path, *frames: pd.DataFrame) -> Store:
    store = Store(tmp_path)
    for frame in frames:
        store.write("liquidation_bars", frame)
    return store


def _hours(hours, exchange="binanceusdm", source="coinalyze", interval="1h", **kw):
    """Bars at ``hours`` with long_usd = 10 x hour + 1 and short_usd = hour."""
    rows = [(x, exchange, 10.0 * x + 1, float(x)) for x in hours]
    return liquidation_bars(rows, source=source, interval=interval, **kw)


def _load(store, end_hour, interval="4h", **kw):
    return aggregate.load_bars(store, T0, h(end_hour), interval=interval,
                               precedence=PRECEDENCE, **kw)  # fmt: skip


def test_finer_intervals_divide_the_requested_one_finest_first():
    assert finer_intervals("4h") == ["1m", "5m", "15m", "1h"]
    assert finer_intervals("1d") == ["1m", "5m", "15m", "1h", "4h"]
    assert finer_intervals("1m") == []


def test_hourly_bars_serve_a_4h_window_exactly_and_an_incomplete_4h_bar_is_missing(tmp_path):
    # hours 0-11 observed except hour 6: the 04:00 bar lacks an hour, so it is missing
    store = _store(tmp_path, _hours([x for x in range(12) if x != 6]))
    bars = _load(store, 12).set_index("ts")
    assert list(bars.index) == [h(0), h(8)]
    assert (bars["interval"] == "4h").all() and (bars["source"] == "coinalyze").all()
    # 00:00: longs 1 + 11 + 21 + 31 = 64, shorts 0 + 1 + 2 + 3 = 6; 08:00: 81 + ... + 111
    assert (bars.loc[h(0), "long_usd"], bars.loc[h(0), "short_usd"]) == (64.0, 6.0)
    assert (bars.loc[h(8), "long_usd"], bars.loc[h(8), "short_usd"]) == (384.0, 38.0)
    assert (bars.loc[h(0), "long_count"], bars.loc[h(0), "short_count"]) == (4, 4)


def test_a_daily_bar_needs_all_24_hours(tmp_path):
    store = _store(tmp_path, _hours(range(24)), _hours(range(24, 47)))  # day 2 lacks 23:00
    days = _load(store, 48, interval="1d")
    assert list(days["ts"]) == [h(0)]
    assert days["long_usd"].iloc[0] == sum(10.0 * x + 1 for x in range(24))


def test_a_missing_count_makes_the_coarse_count_missing_not_a_smaller_sum(tmp_path):
    hourly = _hours(range(4))
    hourly.loc[2, "short_count"] = pd.NA
    bars = _load(_store(tmp_path, hourly), 4)
    assert bars["long_count"].iloc[0] == 4
    assert pd.isna(bars["short_count"].iloc[0])
    assert bars["short_usd"].iloc[0] == 6.0


def test_bars_stored_at_the_interval_are_used_and_never_mixed_with_a_roll_up(tmp_path):
    own_4h = _hours([0], source="coinalyze", interval="4h")  # long 1: the vendor's own 4h bar
    hourly = _hours(range(8), source="coinalyze")  # would roll up to 64 at 00:00, 384 at 04:00
    bars = _load(_store(tmp_path, own_4h, hourly), 8)
    # the source has 4h bars in the window, so its hours are not rolled up (04:00 is missing)
    assert list(bars["ts"]) == [h(0)] and bars["long_usd"].iloc[0] == 1.0


def test_each_source_rolls_up_on_its_own_and_precedence_picks_one_per_bar(tmp_path):
    vendor = _hours(range(8), source="coinalyze")
    events = _hours([0, 1, 2, 3, 4, 5], source="ccxt:binanceusdm")  # 04:00 lacks 06, 07
    bars = _load(_store(tmp_path, vendor, events), 8).set_index("ts")
    # 00:00 from the events (ranked first), 04:00 from Coinalyze: one source per bar
    assert bars.loc[h(0), "source"] == "ccxt:binanceusdm"
    assert bars.loc[h(4), "source"] == "coinalyze"
    assert bars.loc[h(4), "long_usd"] == 41.0 + 51 + 61 + 71


def test_the_finest_stored_interval_is_rolled_up(tmp_path):
    hourly = _hours(range(4))
    quarters = liquidation_bars([(q / 4, "binanceusdm", 1.0, 0.0) for q in range(15)],
                                source="coinalyze", interval="15m")  # fmt: skip
    bars = _load(_store(tmp_path, hourly, quarters), 4)
    # 15m is finer than 1h: the 4h bar needs its 16 quarters, and one is missing
    assert bars.empty


def test_a_rolled_up_window_feeds_the_metrics_like_stored_bars(tmp_path):
    from helpers.dataset import Dataset
    from helpers.metrics.imbalance import imbalance_table

    _store(tmp_path, _hours(range(8)))
    ds = Dataset.open(str(tmp_path), T0.isoformat(), h(8).isoformat(), interval="4h",
                      precedence=PRECEDENCE)  # fmt: skip
    table = imbalance_table(ds.bars(), ds.window)
    assert table["long_usd"].tolist() == [64.0, 224.0]
    assert not table["missing"].any() and not table["partial"].any()


HOURLY = "coinalyze_binance_perp_1h_ohlcv_liq_BTC_ETH_SOL_2024-06_08.csv"


@pytest.mark.realdata
def test_real_coinalyze_hours_serve_4h_and_daily_reports(realdata, tmp_path):
    store = Store(tmp_path)
    imported, _ = vendor_csv.import_file(store, "coinalyze", realdata / HOURLY)
    hours = imported.bars
    start, end = "2024-07-01T00:00Z", "2024-08-19T00:00Z"
    for interval, n in (("4h", 4), ("1d", 24)):
        bars = aggregate.load_bars(store, start, end, interval=interval, precedence=["coinalyze"])
        inside = hours[(hours["ts"] >= pd.Timestamp(start)) & (hours["ts"] < pd.Timestamp(end))]
        step = interval_timedelta(interval)
        groups = inside.groupby(["symbol", inside["ts"].dt.floor(step)])
        whole = groups.filter(lambda g, n=n: len(g) == n)
        expected = whole.groupby(["symbol", whole["ts"].dt.floor(step)])["long_usd"].sum()
        got = bars.set_index(["symbol", "ts"])["long_usd"]
        # exactly the coarse bars whose every hour was observed, each the sum of its hours
        assert len(got) == len(expected) > 0, interval
        pd.testing.assert_series_equal(
            got.sort_index(), expected.sort_index().rename_axis(["symbol", "ts"]),
            check_names=False, rtol=1e-12,
        )  # fmt: skip
        # the export's flagged (missing) hours leave some coarse bars missing, not partial
        assert groups.ngroups - len(expected) > 0, interval
