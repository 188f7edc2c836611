"""The account long/short ratio: schema checks, the metric on the liquidation bar grid, its
chart, and the simulator's SIMULATED ratio."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from factories import hours_after, liquidation_bars, win
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers import schema
from helpers.metrics import imbalance as im
from helpers.metrics import positioning as pos
from helpers.plots import positioning as ppos
from helpers.sources.demo import ARTICLE, DemoMarket
from helpers.sources.venue_rules import ratio_venues
from helpers.store import Store

T0 = pd.Timestamp("2025-11-10 00:00", tz="UTC")
h = hours_after(T0)
BTC = "BTC/USDT:USDT"


def ratio_rows(rows: list[tuple], source: str = "ccxt:binanceusdm") -> pd.DataFrame:
    """``long_short_ratio`` rows from (ts, exchange, ratio, long share, period) tuples."""
    df = pd.DataFrame(
        rows, columns=["ts", "exchange", "long_short_ratio", "long_account", "period"]
    )
    df["symbol"] = BTC
    df["source"] = source
    good, bad = schema.validate("long_short_ratio", df)
    assert bad.empty, bad
    return good


# ---- schema ---------------------------------------------------------------------------------


def test_schema_rejects_a_bad_ratio_share_or_period_and_keeps_a_missing_share() -> None:
    df = pd.DataFrame(
        {
            "ts": [h(0), h(1), h(2), h(3), h(4)],
            "exchange": "okx",
            "symbol": BTC,
            "period": ["1h", "1h", "1h", "2h", "1h"],
            "long_short_ratio": [1.5, 0.0, 1.2, 1.1, 1.3],
            "long_account": [0.6, 0.5, 1.2, 0.5, None],
            "source": "ccxt:okx",
        }
    )
    good, bad = schema.validate("long_short_ratio", df)
    assert list(good["ts"]) == [h(0), h(4)]
    assert math.isnan(good["long_account"].iloc[1])  # not published: missing, kept
    assert list(bad["reason"]) == [
        "long_short_ratio: must be positive and finite",
        "long_account: must be a fraction 0..1",
        f"period: must be one of {schema.INTERVALS}",
    ]


# ---- metric ---------------------------------------------------------------------------------


def test_hourly_ratio_takes_the_last_stamp_per_bar_and_leaves_missing_bars_nan() -> None:
    rows = ratio_rows(
        [
            (h(0), "binanceusdm", 2.0, 0.6667, "1h"),
            (h(0.5), "binanceusdm", 9.0, 0.9, "5m"),  # another period: not used, 1h exists
            (h(2), "binanceusdm", 1.5, 0.6, "1h"),
            (h(1) + pd.Timedelta(minutes=5), "okx", 1.1, None, "5m"),
            (h(1) + pd.Timedelta(minutes=55), "okx", 1.3, None, "5m"),
            (h(4), "binanceusdm", 3.0, 0.75, "1h"),  # at the window end: outside
        ]
    )
    hourly = pos.hourly_ratio(rows, win(T0, h(4)))
    binance = hourly[hourly["exchange"] == "binanceusdm"].set_index("ts")
    assert list(binance.index) == [h(0), h(1), h(2), h(3)]  # every bar of the grid
    assert binance["long_short_ratio"].tolist()[0] == 2.0
    assert binance["long_short_ratio"].tolist()[2] == 1.5
    assert binance["long_short_ratio"].iloc[[1, 3]].isna().all()  # no ratio: NaN, not 0
    okx = hourly[hourly["exchange"] == "okx"].set_index("ts")
    assert okx.loc[h(1), "long_short_ratio"] == 1.3  # okx has only 5m: the last in the bar
    assert okx["long_account"].isna().all()
    wide = pos.ratio_wide(hourly)
    assert list(wide.columns) == [f"binanceusdm {BTC}", f"okx {BTC}"]


def test_hourly_ratio_of_an_empty_table_is_empty() -> None:
    hourly = pos.hourly_ratio(schema.empty("long_short_ratio"), win(T0, h(3)))
    assert hourly.empty and list(hourly.columns) == pos.COLUMNS
    assert pos.summarise(hourly) == []
    assert pos.ratio_wide(hourly).empty


def test_summary_gives_first_last_range_and_the_ratio_at_and_after_a_bar() -> None:
    rows = ratio_rows([(h(i), "binanceusdm", 2.0 - 0.1 * i, None, "1h") for i in (0, 1, 2, 4)])
    (s,) = pos.summarise(pos.hourly_ratio(rows, win(T0, h(6))), at=h(1), after_bars=3)
    assert (s.first, s.last) == pytest.approx((2.0, 1.6))
    assert (s.low, s.high) == pytest.approx((1.6, 2.0))
    assert (s.observed_bars, s.bars) == (4, 6)
    assert s.at == pytest.approx(1.9) and s.after == pytest.approx(1.6)
    (none_after,) = pos.summarise(pos.hourly_ratio(rows, win(T0, h(6))), at=h(1), after_bars=2)
    assert none_after.after is None  # bar 3 has no ratio


# ---- plot -----------------------------------------------------------------------------------


def _ratio_lines(fig: Figure) -> list[Line2D]:
    return [ln for ax in fig.axes for ln in ax.lines if str(ln.get_gid()).startswith("ratio")]


def test_plot_draws_one_line_per_series_with_breaks_and_the_liquidations_above() -> None:
    rows = ratio_rows(
        [(h(0), "binanceusdm", 2.0, 0.67, "1h"), (h(2), "binanceusdm", 1.5, 0.6, "1h")]
    )
    window = win(T0, h(4), sources=["ccxt:binanceusdm"])
    bars = liquidation_bars([(0, "binanceusdm", 5e6, 1e6), (2, "binanceusdm", 1e6, 0.0)], counts=0)
    table = im.imbalance_table(bars, window)
    fig = ppos.plot_long_short_ratio(pos.hourly_ratio(rows, window), window, table)
    assert len(fig.axes) == 2
    (line,) = _ratio_lines(fig)
    y = line.get_ydata()
    assert y[0] == 2.0 and y[2] == 1.5 and np.isnan(y[1]) and np.isnan(y[3])
    shaded = [p for p in fig.axes[1].patches if p.get_label() == ppos.NO_RATIO_LABEL]
    assert shaded, "bars without any ratio are shaded"
    longs = [p for p in fig.axes[0].patches if p.get_gid() == "long"]
    assert sorted(p.get_height() for p in longs) == [1e6, 5e6]
    assert "SIMULATED" not in " ".join(t.get_text() for t in fig.texts)


def test_plot_of_no_ratio_says_no_data() -> None:
    window = win(T0, h(3))
    fig = ppos.plot_long_short_ratio(
        pos.hourly_ratio(schema.empty("long_short_ratio"), window), window
    )
    assert _ratio_lines(fig) == []
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("no data") for t in texts)


def test_plot_of_simulated_ratio_is_watermarked() -> None:
    rows = ratio_rows([(h(0), "bybit", 2.0, 0.67, "1h")], source="demo")
    window = win(T0, h(2))
    fig = ppos.plot_long_short_ratio(pos.hourly_ratio(rows, window), window)
    assert "SIMULATED DATA" in [t.get_text() for t in fig.texts]


# ---- the simulator --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_ratio(article_market: DemoMarket) -> pd.DataFrame:
    return article_market.long_short_ratio


def test_demo_ratio_is_valid_simulated_and_only_where_venues_publish_one(
    demo_ratio: pd.DataFrame,
) -> None:
    good, bad = schema.validate("long_short_ratio", demo_ratio)
    assert bad.empty and len(good) == len(demo_ratio)
    assert set(demo_ratio["source"]) == {"demo"}
    shown = {v.id for v in ARTICLE.venues} & set(ratio_venues())
    assert set(demo_ratio["exchange"]) == shown  # hyperliquid and gate publish none
    assert demo_ratio.loc[demo_ratio["exchange"] == "okx", "long_account"].isna().all()
    binance = demo_ratio[demo_ratio["exchange"] == "binanceusdm"]
    share = binance["long_account"]
    assert np.allclose(binance["long_short_ratio"], share / (1 - share), atol=1e-3)


def test_demo_ratio_is_long_heavy_before_the_worst_hour_and_falls_after(
    demo_ratio: pd.DataFrame, article_market: DemoMarket
) -> None:
    hourly = article_market.liquidation_bars.groupby("ts")["long_usd"].sum()
    worst = hourly.idxmax()
    btc = demo_ratio[(demo_ratio["symbol"] == BTC) & (demo_ratio["exchange"] == "binanceusdm")]
    by_ts = btc.set_index("ts")["long_short_ratio"]
    before = by_ts.loc[worst - pd.Timedelta(hours=3) : worst].iloc[0]
    after = by_ts.loc[worst + pd.Timedelta(hours=1)]
    assert before > 1.5, "long-heavy going into the flush"
    assert after < before, "longs force-closed: the ratio falls"


def test_demo_writer_stores_the_ratio(tmp_path) -> None:
    from helpers.sources.demo import write_demo

    written = write_demo(Store(tmp_path), "article", 7)
    assert written["long_short_ratio"].written > 0
    stored = Store(tmp_path).read("long_short_ratio")
    assert set(stored["source"]) == {"demo"}


def test_ratio_sentence_says_no_data_simulated_and_dashes_for_unpublished_bars() -> None:
    assert pos.ratio_sentence([]).startswith("No data: the store holds no long/short")
    rows = ratio_rows([(h(0), "okx", 2.0, None, "1h"), (h(1), "okx", 1.5, None, "1h")])
    summaries = pos.summarise(pos.hourly_ratio(rows, win(T0, h(3))), at=h(1), after_bars=1)
    text = pos.ratio_sentence(summaries, at=h(1), after_bars=1, simulated=True)
    assert text.startswith("SIMULATED account long/short ratio")
    assert f"okx {BTC} 2.00 to 1.50 (range 1.50-2.00; 2 of 3 bars published)" in text
    assert "worst bar 1.50, 1 bars later —" in text  # bar 2 has no ratio: a dash, not 0
