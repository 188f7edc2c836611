from __future__ import annotations

import pandas as pd

from helpers.aggregate import aggregate_store, bars_from_events, build_bars, load_bars, price_bins
from helpers.store import Store


def _ev(rows):
    df = pd.DataFrame(rows, columns=["ts", "exchange", "side", "notional_usd"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    return df.assign(
        symbol="BTC/USDT:USDT",
        base="BTC",
        price=100.0,
        amount=df["notional_usd"] / 100.0,
        source="t",
        event_id=[str(i) for i in range(len(df))],
    )


EVENTS = _ev(
    [
        ("2025-01-01 00:10", "okx", "long", 100.0),
        ("2025-01-01 00:50", "okx", "long", 50.0),
        ("2025-01-01 00:59:59", "okx", "short", 7.0),
        ("2025-01-01 03:00", "okx", "short", 1.0),
        ("2025-01-01 01:20", "bybit", "long", 9.0),
    ]
)


def test_hourly_bars_sum_each_side_and_count():
    bars = bars_from_events(EVENTS, "1h").set_index(["exchange", "ts"])
    first = bars.loc[("okx", pd.Timestamp("2025-01-01 00:00", tz="UTC"))]
    # 100 + 50 long, 7 short in the 00:00 bar
    assert (first.long_usd, first.short_usd, first.long_count, first.short_count) == (150, 7, 2, 1)


def test_observed_span_gets_zero_bars_and_nothing_outside():
    bars = bars_from_events(EVENTS, "1h")
    okx = bars[bars.exchange == "okx"]
    # okx observed 00:00..03:00 -> 4 bars, the two quiet hours are zero, not missing
    assert okx["ts"].dt.hour.tolist() == [0, 1, 2, 3]
    assert okx["long_usd"].tolist() == [150, 0, 0, 0]
    bybit = bars[bars.exchange == "bybit"]
    assert bybit["ts"].dt.hour.tolist() == [1]


def test_full_window_marks_every_bar_observed():
    bars = bars_from_events(EVENTS, "1h", "2025-01-01 00:00Z", "2025-01-01 06:00Z")
    assert (bars.groupby("exchange").size() == 6).all()


def test_gap_bars_are_left_out_not_zero():
    gaps = pd.DataFrame(
        {
            "start": pd.to_datetime(["2025-01-01 01:30"], utc=True),
            "end": pd.to_datetime(["2025-01-01 02:10"], utc=True),
            "exchange": ["okx"],
            "symbol": [None],
            "table_name": ["liquidations"],
            "reason": ["stream silent"],
            "ts": pd.to_datetime(["2025-01-01 01:30"], utc=True),
        }
    )
    bars = bars_from_events(EVENTS, "1h", gaps=gaps)
    okx = bars[bars.exchange == "okx"]
    # the gap touches the 01:00 and 02:00 bars
    assert okx["ts"].dt.hour.tolist() == [0, 3]


def test_store_aggregation_matches_frame_aggregation(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", EVENTS)
    from_store = aggregate_store(store, "1h")
    from_frame = bars_from_events(EVENTS, "1h")
    pd.testing.assert_frame_equal(from_store, from_frame)
    assert build_bars(store, "1h").written == len(from_frame)


def test_load_bars_keeps_one_source_per_venue_and_bar(tmp_path):
    store = Store(tmp_path)
    events_bars = bars_from_events(EVENTS, "1h")
    okx = events_bars[events_bars.exchange == "okx"]
    # the vendor covers okx 00:00-01:00 (also in the events) and 04:00 (not in them)
    later = okx.iloc[:1].assign(ts=pd.Timestamp("2025-01-01 04:00", tz="UTC"))
    vendor = pd.concat([okx.iloc[:2], later]).assign(source="vendor", long_usd=1e9)
    store.write("liquidation_bars", pd.concat([events_bars, vendor]))
    window = ("2025-01-01T00:00Z", "2025-01-02T00:00Z")
    loaded = load_bars(store, *window, precedence=["t", "vendor"])
    by_bar = loaded[loaded.exchange == "okx"].set_index("ts")["source"]
    # 't' wins every bar it observed; the vendor fills the one it alone observed
    assert by_bar.tolist() == ["t", "t", "t", "t", "vendor"]
    assert loaded["long_usd"].sum() == 150 + 9 + 1e9
    flipped = load_bars(store, *window, precedence=["vendor"])
    assert flipped[flipped.exchange == "okx"]["source"].tolist() == ["vendor", "vendor", "t", "t",
                                                                      "vendor"]  # fmt: skip


def test_price_bins_in_the_store_match_binning_the_events(demo_store, article_market):
    from helpers.aggregate import price_bins
    from helpers.metrics.clusters import liquidations_by_price, realised_by_price

    ev = article_market.liquidations
    btc = ev[(ev.base == "BTC") & (ev.ts >= "2025-11-12") & (ev.ts < "2025-11-14")]
    binned = price_bins(demo_store, "BTC", 250.0, "2025-11-12T00:00Z", "2025-11-14T00:00Z")
    from_store = realised_by_price(binned, 250.0)
    from_events = liquidations_by_price(btc, 250.0)
    pd.testing.assert_frame_equal(from_store, from_events, check_exact=False, rtol=1e-12)
    assert from_store["long_count"].sum() == (btc.side == "long").sum()


def test_price_bins_hand_computed(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", EVENTS.assign(price=[99.0, 101.0, 150.0, 250.0, 100.0]))
    bins = price_bins(store, "BTC", 100.0)
    # prices 99 -> bin 0 (long 100); 101, 100 -> bin 1 (long 50 + bybit long 9);
    # 150 -> bin 1 (short 7); 250 -> bin 2 (short 1)
    rows = {(int(b), s): (u, n) for b, s, u, n in bins.itertuples(index=False)}
    assert rows == {(0, "long"): (100.0, 1), (1, "long"): (59.0, 2), (1, "short"): (7.0, 1),
                    (2, "short"): (1.0, 1)}  # fmt: skip
    assert price_bins(store, "ETH", 100.0).empty


def test_bars_come_ordered_by_time_then_series_with_and_without_holes():
    """Rows in (ts, exchange, symbol, base, source) order straight from the zero-fill, for
    a span without holes and one with holes (the two ways bars are built)."""
    venues = ["okx", "bybit", "binanceusdm"]
    dense = [(f"2025-01-01 {h:02d}:05", v, "long", 1.0 + h) for h in range(6) for v in venues]
    sparse = dense[::2] + [("2025-01-01 09:00", "okx", "short", 3.0)]
    for rows in (dense, sparse):
        events = _ev(rows)
        events.loc[events.index[::3], "symbol"] = "ETH/USDT:USDT"
        for bars in (bars_from_events(events, "1h"), bars_from_events(events, "15m")):
            keys = ["ts", "exchange", "symbol", "base", "source"]
            expected = bars.sort_values(keys, kind="stable").reset_index(drop=True)
            pd.testing.assert_frame_equal(bars, expected)
            assert bars["exchange"].nunique() == 3 and bars["symbol"].nunique() == 2
