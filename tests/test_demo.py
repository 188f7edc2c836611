"""The simulated market: determinism, consistency between tables, the article scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import schema
from helpers.aggregate import bars_from_events
from helpers.cli import main
from helpers.sources.demo import ARTICLE, TYPICAL, simulate


def _hourly(market):
    return market.liquidation_bars.groupby("ts")[["long_usd", "short_usd"]].sum()


def test_same_seed_same_market_other_seed_other_market(article_market):
    again = simulate(ARTICLE, seed=7)
    pd.testing.assert_frame_equal(again.liquidations, article_market.liquidations)
    pd.testing.assert_frame_equal(again.market_caps, article_market.market_caps)
    other = simulate(ARTICLE, seed=8)
    totals = other.liquidations.notional_usd.sum(), again.liquidations.notional_usd.sum()
    assert not np.isclose(*totals)


def test_every_table_is_valid_and_marked_demo(article_market):
    for name, df in article_market.tables().items():
        good, bad = schema.validate(name, df)
        assert bad.empty, (name, bad.head())
        assert len(good) == len(df)
        assert set(df["source"]) == {"demo"}, name


def test_article_worst_hour_is_long_heavy(article_market):
    hourly = _hourly(article_market)
    worst = hourly["long_usd"].idxmax()
    assert hourly.loc[worst, "long_usd"] > 200e6
    assert hourly.loc[worst, "short_usd"] < 5e6


def test_article_deleveraging_is_staged_and_long_heavy(article_market):
    hourly = _hourly(article_market)
    assert hourly["long_usd"].sum() > 3 * hourly["short_usd"].sum()
    big_hours = hourly.index[hourly["long_usd"] > 50e6]
    days = {t.date() for t in big_hours}
    assert len(days) >= 3, "waves on several days, not one capitulation"


def test_article_hyperliquid_carries_most_longs_then_bybit_and_binance(article_market):
    """The article re-weights venues towards Hyperliquid (real flushes do too: its share of
    long liquidations rises in the top-decile 4 h snapshots, docs/simulator.md)."""
    by_venue = article_market.liquidation_bars.groupby("exchange")["long_usd"].sum()
    assert by_venue.idxmax() == "hyperliquid"
    assert set(by_venue.nlargest(3).index) == {"hyperliquid", "bybit", "binanceusdm"}


def test_article_market_caps(article_market):
    caps = article_market.market_caps
    last = caps[caps.ts == caps.ts.max()].set_index("symbol")
    assert len(last) >= 30
    assert 1.6e12 <= last.loc["BTC", "market_cap_usd"] <= 1.8e12
    assert 3.2e11 <= last.loc["ETH", "market_cap_usd"] <= 3.6e11
    top = last.nlargest(10, "market_cap_usd")
    assert (top["change_24h_pct"] < 0).sum() > len(top) / 2


def test_article_spot_is_range_bound(article_market):
    ohlcv = article_market.ohlcv
    btc = ohlcv[(ohlcv.interval == "1h") & (ohlcv.exchange == "binanceusdm")]
    btc = btc[btc.symbol == "BTC/USDT:USDT"]
    assert btc["high"].max() / btc["low"].min() < 1.2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_article_shape_holds_for_other_seeds(seed):
    """The article's figures are calibrated on seed 7; another seed is another week of the
    same market: a long-heavy worst hour of the same order, still small beside OI."""
    market = simulate(ARTICLE, seed=seed)
    hourly = _hourly(market)
    worst = hourly["long_usd"].idxmax()
    oi = market.open_interest.groupby("ts")["oi_usd"].sum()
    assert hourly.loc[worst, "long_usd"] > 100e6
    assert hourly.loc[worst, "short_usd"] < 0.05 * hourly.loc[worst, "long_usd"]
    assert hourly.loc[worst].sum() / oi.loc[worst] < 0.03


def test_liquidations_cluster_where_price_traded_and_below_local_lows(article_market):
    ev = article_market.liquidations
    ohlcv = article_market.ohlcv
    m1 = ohlcv[(ohlcv.interval == "1m") & (ohlcv.exchange == "binanceusdm")]
    m1 = m1[m1.symbol == "BTC/USDT:USDT"].set_index("ts")
    longs = ev[(ev.side == "long") & (ev.exchange == "binanceusdm") & (ev.base == "BTC")]
    minute = longs["ts"].dt.floor("min")
    low, high = m1.loc[minute, "low"].to_numpy(), m1.loc[minute, "high"].to_numpy()
    # a long is liquidated at its liquidation price, which the minute's range reached
    assert (longs["price"].to_numpy() >= low * (1 - 1e-9)).all()
    assert (longs["price"].to_numpy() <= high * (1 + 1e-9)).all()
    # most long notional is liquidated below the prior 24 h low (support breaks)
    prior_low = m1["low"].rolling("24h").min().shift(1)
    below = longs["price"].to_numpy() <= prior_low.loc[minute].to_numpy() * 1.002
    assert longs["notional_usd"][below].sum() > 0.5 * longs["notional_usd"].sum()


def test_open_interest_falls_in_the_worst_hour(article_market):
    hourly = _hourly(article_market)
    worst = hourly["long_usd"].idxmax()
    oi = article_market.open_interest.groupby("ts")["oi_usd"].sum()
    assert oi.loc[worst + pd.Timedelta(hours=1)] < oi.loc[worst]


def test_tables_agree_with_each_other(article_market):
    m = article_market
    assert m.liquidations["ts"].min() >= ARTICLE.start
    assert m.liquidations["ts"].max() < ARTICLE.end
    rebuilt = bars_from_events(m.liquidations, "1h", ARTICLE.start, ARTICLE.end)
    pd.testing.assert_frame_equal(rebuilt, m.liquidation_bars)
    venues = {v.id for v in ARTICLE.venues}
    for name in ("liquidations", "ohlcv", "open_interest", "funding"):
        assert set(getattr(m, name)["exchange"]) == venues
    h1 = m.ohlcv[m.ohlcv.interval == "1h"].set_index(["exchange", "symbol", "ts"])
    m1 = m.ohlcv[m.ohlcv.interval == "1m"].copy()
    m1["hour"] = m1["ts"].dt.floor("h")
    agg = m1.groupby(["exchange", "symbol", "hour"]).agg(high=("high", "max"), low=("low", "min"))
    assert np.allclose(agg["high"].to_numpy(), h1.loc[agg.index, "high"].to_numpy())
    assert np.allclose(agg["low"].to_numpy(), h1.loc[agg.index, "low"].to_numpy())


def test_notional_is_price_times_amount(article_market):
    ev = article_market.liquidations
    assert np.allclose(ev["notional_usd"], ev["price"] * ev["amount"])


def test_partial_fills_keep_totals():
    market = simulate(TYPICAL, seed=3, target_events=200_000)
    base = simulate(TYPICAL, seed=3)
    assert len(market.liquidations) >= 190_000
    assert market.liquidations["event_id"].is_unique
    assert np.isclose(
        market.liquidations["amount"].sum(), base.liquidations["amount"].sum(), rtol=1e-9
    )


def test_cli_demo_writes_store_and_respects_if_absent(tmp_path, capsys):
    assert main(["demo", "--scenario", "typical", "--seed", "1", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED liquidations:" in out
    files = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("part.parquet"))
    assert main(["demo", "--if-absent", "--data-dir", str(tmp_path)]) == 0
    assert "already holds liquidations" in capsys.readouterr().out
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("part.parquet")) == files


def test_cli_demo_rejects_bad_event_count(tmp_path, capsys):
    assert main(["demo", "--events", "0", "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "error: --events must be a positive number"


def test_cli_demo_if_absent_leaves_a_real_store_alone(tmp_path, capsys):
    """`make test` runs `demo --if-absent` on data/raw: a desk's real store (here vendor bars
    only, no events) is left as it is, with exit 0, instead of refusing the whole test run."""
    from factories import liquidation_bars

    from helpers.store import Store

    Store(tmp_path).write(
        "liquidation_bars", liquidation_bars([(0, "okx", 1.0, 2.0)], source="okx-ws")
    )
    files = sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("part.parquet"))
    assert main(["demo", "--if-absent", "--data-dir", str(tmp_path)]) == 0
    assert "holds real data; demo not written" in capsys.readouterr().out
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.rglob("part.parquet")) == files
    assert main(["demo", "--data-dir", str(tmp_path)]) == 2  # without --if-absent: refused
