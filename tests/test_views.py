"""The article's views: the worst hour and spikes by venue, the split by coin, 1h/4h/12h/24h
totals, the largest events and the time x price heatmap, checked against the demo store's
Parquet read here by DuckDB (an independent path) or against hand-computed frames."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from factories import h, liquidation_bars, win

from helpers import event_queries as eq
from helpers.dataset import Dataset
from helpers.metrics import price_heatmap as ph
from helpers.metrics import totals as tot
from helpers.metrics import views_analysis as va
from helpers.metrics import worst_hour as wh
from helpers.metrics.imbalance_analysis import imbalance_analysis
from helpers.store import Store

START, END = "2025-11-10T00:00:00+00:00", "2025-11-17T00:00:00+00:00"
FAMILY = {"binanceusdm": "binance"}
"""The demo's ccxt ids that are part of a larger family (the rest are their own family)."""


def _sql(store: Store, query: str) -> pd.DataFrame:
    """``query`` over the store's Parquet, ``{liq}`` / ``{bars}`` / ``{ohlcv}`` standing for
    its tables, read straight from the files (not through the package's readers)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    scans = {
        name: f"read_parquet('{Path(store.root) / table}/**/*.parquet', hive_partitioning = true)"
        for name, table in (("liq", "liquidations"), ("bars", "liquidation_bars"))
    }
    try:
        return con.execute(query.format(**scans)).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def week(demo_store) -> Dataset:
    return Dataset.open(str(demo_store.root), START, END)


@pytest.fixture(scope="module")
def imb(week):
    return imbalance_analysis(week)


def _hourly_by_family(store: Store) -> pd.DataFrame:
    ev = _sql(
        store,
        f"""SELECT date_trunc('hour', ts) AS ts, exchange, side, sum(notional_usd) AS usd
            FROM {{liq}} WHERE ts >= TIMESTAMPTZ '{START}' AND ts < TIMESTAMPTZ '{END}'
            GROUP BY ALL""",
    )
    ev["venue"] = ev["exchange"].map(lambda e: FAMILY.get(e, e))
    return ev.pivot_table(index=["ts", "venue"], columns="side", values="usd", aggfunc="sum")


def test_the_worst_hour_by_venue_is_the_raw_events_split_by_venue(week, imb, demo_store):
    hourly = _hourly_by_family(demo_store).fillna(0.0)
    per_hour = hourly.groupby(level="ts").sum()
    worst = per_hour["long"].idxmax()
    views = va.worst_hour_views(week, imb)
    assert views.worst_ts == worst
    expected = hourly.xs(worst, level="ts")
    got = views.by_venue
    assert sorted(got.index) == sorted(expected.index) == [
        "binance", "bybit", "gate", "hyperliquid", "okx"
    ]  # fmt: skip
    for venue, row in expected.iterrows():
        assert got.loc[venue, "long_usd"] == pytest.approx(row["long"], rel=1e-9)
        assert got.loc[venue, "short_usd"] == pytest.approx(row.get("short", 0.0), abs=1e-6)
        assert got.loc[venue, "source"] == "demo"
    assert got["share_of_longs"].sum() == pytest.approx(1.0)
    assert got["long_usd"].sum() == pytest.approx(per_hour.loc[worst, "long"], rel=1e-9)


def test_every_spike_hour_by_venue_is_the_stored_bars_split_by_venue(week, imb, demo_store):
    assert len(imb.spikes) > 3
    bars = _sql(
        demo_store,
        """SELECT ts, exchange, sum(long_usd) AS long_usd, sum(short_usd) AS short_usd
           FROM {bars} WHERE interval = '1h' GROUP BY ALL""",
    )
    bars["venue"] = bars["exchange"].map(lambda e: FAMILY.get(e, e))
    bars = bars.groupby(["ts", "venue"])[["long_usd", "short_usd"]].sum()
    table = va.worst_hour_views(week, imb).spikes
    assert list(table.index) == list(imb.spikes.index)
    for ts in imb.spikes.index:
        for venue in ("binance", "bybit", "gate", "hyperliquid", "okx"):
            for side in ("long_usd", "short_usd"):
                want = bars.loc[(ts, venue), side]
                assert table.loc[ts, (venue, side)] == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_the_coin_split_sums_the_events_of_each_coin(week, imb, demo_store):
    ev = _sql(
        demo_store,
        f"""SELECT base, side, date_trunc('hour', ts) AS hour, notional_usd FROM {{liq}}
            WHERE ts >= TIMESTAMPTZ '{START}' AND ts < TIMESTAMPTZ '{END}'""",
    )
    coins = va.coin_views(week, imb)
    whole = ev.pivot_table(index="base", columns="side", values="notional_usd", aggfunc="sum")
    in_worst = ev[ev["hour"] == imb.worst.ts].pivot_table(
        index="base", columns="side", values="notional_usd", aggfunc="sum"
    )
    assert list(coins.window.index) == ["BTC", "ETH", "SOL"]
    for coin in coins.window.index:
        assert coins.window.loc[coin, "long_usd"] == pytest.approx(whole.loc[coin, "long"])
        assert coins.window.loc[coin, "short_usd"] == pytest.approx(whole.loc[coin, "short"])
        assert coins.worst.loc[coin, "long_usd"] == pytest.approx(in_worst.loc[coin, "long"])


# hours 0..29: binanceusdm every hour (long = hour, short = 1); okx hours 0..27 only
# (long 10); bybit only at hour 3 (ETH)
def _totals_bars() -> pd.DataFrame:
    rows = [(i, "binanceusdm", float(i), 1.0) for i in range(30)]
    rows += [(i, "okx", 10.0, 0.0) for i in range(28)]
    rows += [(3, "bybit", 5.0, 5.0, "ETH/USDT:USDT")]
    bars = liquidation_bars(rows, counts=0)
    return bars.assign(base=bars["symbol"].str.split("/").str[0])


def test_totals_over_the_last_1h_4h_12h_24h_end_at_the_window_end():
    window = win(h(0), h(30))
    totals = tot.horizon_totals(_totals_bars(), window, "venue")
    assert list(dict.fromkeys(totals.index.get_level_values("horizon"))) == [
        "1h", "4h", "12h", "24h"
    ]  # fmt: skip
    binance = totals.xs("binance", level="venue")
    # last 1h: hour 29; last 4h: hours 26..29; last 12h: 18..29; last 24h: 6..29
    assert binance.loc["1h", "long_usd"] == 29.0
    assert binance.loc["4h", "long_usd"] == 26 + 27 + 28 + 29
    assert binance.loc["12h", "long_usd"] == sum(range(18, 30))
    assert binance.loc["24h", "long_usd"] == sum(range(6, 30))
    assert binance.loc["24h", "short_usd"] == 24.0
    okx = totals.xs("okx", level="venue")
    assert np.isnan(okx.loc["1h", "long_usd"])  # okx stopped at hour 27: missing, not 0
    assert okx.loc["4h", "long_usd"] == 20.0 and okx.loc["4h", "observed_bars"] == 2
    assert np.isnan(totals.loc[("24h", "bybit"), "long_usd"])  # bybit only at hour 3
    every = totals.xs("all", level="venue")
    assert every.loc["4h", "long_usd"] == 26 + 27 + 28 + 29 + 20
    assert every.loc["4h", "long_share"] == pytest.approx(130 / 134)
    by_coin = tot.horizon_totals(_totals_bars(), window, "coin")
    assert by_coin.loc[("24h", "BTC"), "long_usd"] == sum(range(6, 30)) + 10 * 22
    assert np.isnan(by_coin.loc[("24h", "ETH"), "long_usd"])


def test_a_horizon_longer_than_the_window_is_left_out():
    window = win(h(0), h(6))
    assert tot.horizons_in(window) == ["1h", "4h"]
    totals = tot.horizon_totals(_totals_bars(), window)
    assert set(totals.index.get_level_values("horizon")) == {"1h", "4h"}
    assert tot.horizons_in(win(h(0), h(2), interval="4h")) == []


def test_a_venue_missing_from_a_bar_is_missing_and_a_quiet_one_is_zero():
    bars = liquidation_bars(
        [(0, "okx", 5.0, 1.0), (0, "bybit", 0.0, 0.0), (1, "okx", 3.0, 0.0)], counts=0
    )
    split = wh.side_split(bars, win(h(0), h(2), ["okx", "bybit", "gate"]), "venue", [h(1)])
    assert list(split.index) == ["bybit", "gate", "okx"]
    assert split.loc["okx", "long_usd"] == 3.0 and split.loc["okx", "observed_bars"] == 1
    assert split.loc[["bybit", "gate"], "long_usd"].isna().all()
    quiet = wh.side_split(bars, win(h(0), h(2)), "venue", [h(0)])
    assert quiet.loc["bybit", ["long_usd", "short_usd"]].tolist() == [0.0, 0.0]
    assert np.isnan(quiet.loc["bybit", "long_share"])
    assert wh.split_sentence(split, "Hour 1") == (
        "Hour 1: longs OKX $3; shorts $0 across venues. No data: Bybit, Gate."
    )
    with pytest.raises(ValueError, match="not a bar of the window grid"):
        wh.side_split(bars, win(h(0), h(2)), "venue", [h(5)])


def test_the_largest_events_are_the_largest_rows_of_the_parquet(demo_store):
    ev = _sql(
        demo_store,
        """SELECT * FROM {liq} WHERE ts >= TIMESTAMPTZ '2025-11-12T00:00:00+00:00'
            AND ts < TIMESTAMPTZ '2025-11-14T00:00:00+00:00' AND exchange != 'okx'""",
    )
    want = ev.nlargest(10, "notional_usd")
    got = eq.largest_events(
        demo_store,
        "2025-11-12T00:00Z",
        "2025-11-14T00:00Z",
        ["binanceusdm", "bybit", "gate", "hyperliquid"],
        n=10,
    )
    assert got["event_id"].tolist() == want["event_id"].tolist()
    assert got["notional_usd"].tolist() == pytest.approx(want["notional_usd"].tolist())
    assert got["notional_usd"].is_monotonic_decreasing


def test_heatmap_cells_sum_to_the_events_of_each_coin(week, demo_store):
    ev = _sql(
        demo_store,
        f"""SELECT base, side, price, notional_usd, date_trunc('hour', ts) AS hour FROM {{liq}}
            WHERE ts >= TIMESTAMPTZ '{START}' AND ts < TIMESTAMPTZ '{END}'""",
    )
    maps = va.heatmap_views(week)
    assert [m.base for m in maps] == ["BTC", "ETH", "SOL"]
    for m in maps:
        assert m.built and m.status.status == ph.EVENTS
        mine = ev[ev["base"] == m.base]
        for side, grid in (("long", m.long_usd), ("short", m.short_usd)):
            rows = mine[mine["side"] == side]
            assert np.nansum(grid.to_numpy()) == pytest.approx(rows["notional_usd"].sum())
            per_hour = rows.groupby("hour")["notional_usd"].sum()
            cols = grid.sum(axis=0, min_count=1)
            assert cols[per_hour.index].to_numpy() == pytest.approx(per_hour.to_numpy())
            low = np.floor(rows["price"] / m.bin_width) * m.bin_width
            per_bin = rows.groupby(low)["notional_usd"].sum()
            got = grid.sum(axis=1)
            assert got[per_bin.index].to_numpy() == pytest.approx(per_bin.to_numpy())
            assert got.drop(per_bin.index).eq(0).all()
        assert m.price.exchange is not None and m.price.close.notna().all()


def test_a_coin_with_bars_only_has_no_heatmap_and_says_why(tmp_path):
    Store(tmp_path).write(
        "liquidation_bars", liquidation_bars([(0, "okx", 5.0, 1.0)], source="coinalyze")
    )
    ds = Dataset.open(str(tmp_path), h(0).isoformat(), h(2).isoformat())
    (m,) = va.heatmap_views(ds)
    assert m.status.status == ph.BARS_ONLY and not m.built and m.long_usd is None
    assert m.status.note == (
        "BTC: only liquidation bars from Coinalyze exist in this window (OKX); bars are sums "
        "per bar with no price, so no time x price heatmap can be built."
    )
    totals = va.totals_views(ds)
    assert totals.largest.empty and totals.bar_only_venues == ("okx",)


def test_views_of_an_empty_window_are_empty_not_zero(demo_store):
    ds = Dataset.open(str(demo_store.root), "2026-01-01T00:00Z", "2026-01-02T00:00Z")
    imb = imbalance_analysis(ds)
    views = va.worst_hour_views(ds, imb)
    assert views.worst_ts is None and views.by_venue.empty and views.spikes.empty
    coins = va.coin_views(ds, imb)
    assert coins.window.empty and coins.worst.empty
    assert va.heatmap_views(ds) == []
    totals = va.totals_views(ds)
    assert totals.largest.empty and totals.event_exchanges == ()
    assert totals.by_venue.xs("all", level="venue")["long_usd"].isna().all()


def test_status_of_events_names_the_venues_left_out():
    status = ph.heatmap_status("BTC", ["binanceusdm"], ["binanceusdm", "okx"])
    assert status.status == ph.EVENTS and status.bar_only_venues == ("OKX",)
    assert "OKX have only bars" in status.note and "Binance USD-M" in status.note
    assert ph.heatmap_status("BTC", [], []).status == ph.NO_DATA


def test_nice_bin_widths_are_round_and_cut_the_range_into_about_target_bins():
    assert ph.nice_bin_width(82_000, 89_600, 40) == 200.0
    assert ph.nice_bin_width(2_700, 3_000, 40) == 10.0
    assert ph.nice_bin_width(130, 146, 40) == 0.5
    assert ph.nice_bin_width(100, 100, 40) == 1.0
    with pytest.raises(ValueError):
        ph.nice_bin_width(float("nan"), 1.0)


def test_the_price_path_is_the_market_with_most_bars_and_keeps_gaps():
    grid = pd.date_range(h(0), periods=3, freq="h")
    ohlcv = pd.DataFrame(
        {
            "ts": [grid[0], grid[1], grid[2], grid[0], grid[2]],
            "interval": "1h",
            "exchange": ["okx", "okx", "okx", "bybit", "bybit"],
            "symbol": ["BTC/USDT:USDT"] * 3 + ["BTC/USDT:USDT"] * 2,
            "close": [1.0, 2.0, 3.0, 9.0, 9.0],
        }
    )
    path = ph.price_path(ohlcv, "BTC", win(h(0), h(3)))
    assert (path.exchange, path.close.tolist()) == ("okx", [1.0, 2.0, 3.0])
    assert path.label == "OKX BTC/USDT:USDT close"
    gappy = ph.price_path(ohlcv[ohlcv["exchange"] == "bybit"], "BTC", win(h(0), h(3)))
    assert np.isnan(gappy.close.iloc[1])
    assert ph.price_path(ohlcv, "ETH", win(h(0), h(3))).label == "no price data"
