"""The article scenario stays plausible for the analyst views (issue 10), measured with DuckDB
straight from the demo store's Parquet files, not through the helpers: the worst hour's sides
and venues against the 2026-01-29 article, liquidations small beside open interest, open
interest and funding falling after the flush. docs/simulator.md states the calibration."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.sources.demo import ARTICLE
from helpers.sources.demo.calibration import calibrate, report
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
VENUES = {v.id for v in ARTICLE.venues}


def _frame(store: Store, query: str) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for table in ("liquidations", "open_interest", "funding", "ohlcv"):
            pattern = (store.root / table / "**" / "*.parquet").as_posix()
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM "
                f"read_parquet('{pattern}', hive_partitioning = true)"
            )
        return con.execute(query).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def worst(demo_store: Store) -> pd.DataFrame:
    """The hour with the most long liquidations: longs and shorts (USD) per venue."""
    return _frame(
        demo_store,
        """
        WITH h AS (SELECT date_trunc('hour', ts) AS hour, sum(notional_usd) AS longs
                   FROM liquidations WHERE side = 'long' GROUP BY 1),
        w AS (SELECT hour FROM h ORDER BY longs DESC, hour LIMIT 1)
        SELECT w.hour, exchange,
               coalesce(sum(notional_usd) FILTER (WHERE side = 'long'), 0) AS longs,
               coalesce(sum(notional_usd) FILTER (WHERE side = 'short'), 0) AS shorts
        FROM liquidations, w WHERE date_trunc('hour', ts) = w.hour
        GROUP BY w.hour, exchange ORDER BY exchange
        """,
    ).set_index("exchange")


@pytest.fixture(scope="module")
def hourly_oi(demo_store: Store) -> pd.Series:
    """Open interest (USD) summed over venues and coins at each hour's start."""
    oi = _frame(demo_store, "SELECT ts, sum(oi_usd) AS oi FROM open_interest GROUP BY ts")
    return oi.set_index("ts")["oi"].sort_index()


def test_worst_hour_sides_match_the_article(worst):
    assert worst["hour"].nunique() == 1
    assert worst["longs"].sum() > 230e6
    assert 0 < worst["shorts"].sum() < 5e6
    assert abs(worst["shorts"].sum() - 3.5e6) <= 0.15 * 3.5e6, "about $3.5M across venues"


def test_worst_hour_shorts_are_not_zero_on_any_of_the_five_venues(worst):
    assert set(worst.index) == VENUES
    assert (worst["shorts"] > 0).all(), worst["shorts"]


def test_worst_hour_venues_match_the_article(worst):
    assert abs(worst.loc["binanceusdm", "longs"] - 36e6) <= 0.15 * 36e6, "Binance about $36M"
    assert worst.loc["hyperliquid", "longs"] > 59e6, "Hyperliquid over $59M"
    assert worst["longs"].idxmax() == "hyperliquid"


def test_the_worst_hour_liquidates_about_one_percent_of_open_interest(worst, hourly_oi):
    hour = worst["hour"].iloc[0]
    ratio = (worst["longs"].sum() + worst["shorts"].sum()) / hourly_oi.loc[hour]
    assert 0.002 < ratio < 0.02, ratio


def test_the_week_liquidates_a_small_part_of_open_interest(demo_store, hourly_oi):
    total = _frame(demo_store, "SELECT sum(notional_usd) AS x FROM liquidations")["x"].iloc[0]
    days = ARTICLE.days
    # real: 1.9 % of open interest in 24 h on a -4.8 % day (docs/simulator.md)
    assert total / days / hourly_oi.mean() < 0.02
    assert total / hourly_oi.mean() < 0.15


def test_open_interest_drops_after_the_flush_in_coins_not_only_in_dollars(demo_store, worst):
    """Open interest falls over the worst hour in USD, and each coin flushed in it (more than
    ``flush_oi_fraction`` of its open interest force-closed) holds fewer coins open an hour
    later (USD over the venue's 1 h open): positions were closed, not only marked down."""
    hour = worst["hour"].iloc[0]
    oi = _frame(
        demo_store,
        f"""
        WITH liq AS (SELECT split_part(symbol, '/', 1) AS coin, sum(notional_usd) AS usd
                     FROM liquidations WHERE date_trunc('hour', ts) = '{hour.isoformat()}'
                     GROUP BY 1)
        SELECT o.ts, split_part(o.symbol, '/', 1) AS coin, sum(o.oi_usd) AS usd,
               sum(o.oi_usd / b.open) AS coins, any_value(liq.usd) AS liquidated
        FROM open_interest o
        JOIN ohlcv b ON b.interval = '1h' AND b.ts = o.ts AND b.exchange = o.exchange
                        AND b.symbol = o.symbol
        LEFT JOIN liq ON liq.coin = split_part(o.symbol, '/', 1)
        GROUP BY 1, 2
        """,
    )
    before = oi[oi.ts == hour].set_index("coin")
    after = oi[oi.ts == hour + pd.Timedelta(hours=1)].set_index("coin")
    assert set(before.index) == {c.base for c in ARTICLE.coins}
    assert after["usd"].sum() < before["usd"].sum()
    flushed = before.index[before["liquidated"] > ARTICLE.flush_oi_fraction * before["usd"]]
    assert {"BTC", "ETH"} <= set(flushed), before["liquidated"] / before["usd"]
    ratio = after.loc[flushed, "coins"] / before.loc[flushed, "coins"]
    assert (ratio < 1).all(), ratio


def test_funding_falls_after_the_long_flush_on_every_venue(demo_store, worst):
    """Each venue's first settlement after the worst hour pays less than its last one
    before the flush began (rates per period, averaged over the three coins)."""
    hour = worst["hour"].iloc[0]
    rates = _frame(
        demo_store, "SELECT exchange, ts, avg(rate) AS rate FROM funding GROUP BY exchange, ts"
    )
    for venue, f in rates.groupby("exchange"):
        f = f.set_index("ts")["rate"].sort_index()
        before = f[f.index <= hour].iloc[-1]
        after = f[f.index > hour].iloc[0]
        assert after < before, (venue, before, after)
    hyperliquid = rates[rates.exchange == "hyperliquid"].set_index("ts")["rate"]
    assert hyperliquid.loc[hour + pd.Timedelta(hours=1)] < 0, "hourly venue: negative at once"


def test_the_documented_calibration_figures_are_the_real_datas(realdata):
    """docs/simulator.md quotes each figure the calibration recomputes from the real data."""
    doc = (ROOT / "docs" / "simulator.md").read_text()
    for line in report(calibrate(realdata)).splitlines():
        figures = re.findall(r"\d+(?:\.\d+)?(?:%| bp|x)", line)
        assert figures, line
        for figure in figures:
            assert figure in doc, (figure, line)
