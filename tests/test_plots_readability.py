"""Charts that read right: signed axes labelled on both sides, dominance weighted by size, a
treemap with stablecoins greyed, a clipped colour scale and every tile named, funding as
small multiples, outlier-robust scatter axes, stress flags with a minimum size, and the
ESTIMATED map's long share taken from the data. Each is drawn on a real Agg figure and
checked on its artists."""

from __future__ import annotations

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from factories import H, hours_after, liquidation_bars, win
from matplotlib.figure import Figure

from helpers import schema
from helpers.metrics import imbalance as im
from helpers.metrics import liquidation_map as lm
from helpers.metrics import marketmap as mm
from helpers.metrics import outlook as o
from helpers.plots import clusters as pc
from helpers.plots import imbalance as pim
from helpers.plots import marketmap as pmm
from helpers.plots import outlook as po

T0 = pd.Timestamp("2025-11-10 00:00", tz="UTC")
h = hours_after(T0)
EXCHANGES = ["binanceusdm", "okx"]
MINUS = ("-", "\u2212")


def _window(hours: int, exchanges: list[str] | None = None):
    return win(T0, h(hours), EXCHANGES if exchanges is None else exchanges, ["demo"])


def _table(rows) -> pd.DataFrame:
    bars = liquidation_bars(rows, t0=T0, counts=0)
    end = max(r[0] for r in rows) + 1
    return im.imbalance_table(bars, _window(end))


def _tick_texts(fig: Figure, ax) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


def _below_zero_ticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels() if t.get_position()[1] < 0 and t.get_text()]


# ---- 1. signed axes ------------------------------------------------------------------------
# hour 0 longs flush, hour 1 shorts squeeze, hour 2 quiet
SIGNED_ROWS = [
    (0, "binanceusdm", 60e6, 2e6),
    (0, "okx", 20e6, 1e6),
    (1, "binanceusdm", 3e6, 45e6),
    (1, "okx", 1e6, 15e6),
    (2, "binanceusdm", 0.5e6, 0.2e6),
    (2, "okx", 0.1e6, 0.0),
]


def test_mirrored_bars_and_net_delta_label_both_sides_as_positive_dollars():
    table = _table(SIGNED_ROWS)
    mirrored = pim.plot_mirrored_bars(table, _window(3))
    dominance = pim.plot_dominance_delta(table, _window(3))
    for fig, ax in ((mirrored, mirrored.axes[0]), (dominance, dominance.axes[1])):
        ticks = _tick_texts(fig, ax)
        below = _below_zero_ticks(ax)
        assert below, "the side drawn below zero has tick labels"
        assert all(t.startswith("$") for t in below)
        assert not any(t.startswith(MINUS) or "$-" in t or "$\u2212" in t for t in ticks)
        sides = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
        assert sides["side_up"].startswith("\u25b2") and sides["side_down"].startswith("\u25bc")
    # net delta: 77M more longs in hour 0, 56M more shorts in hour 1 (drawn down, labelled +)
    net = dominance.axes[1]
    assert "more shorts" in {t.get_gid(): t.get_text() for t in net.texts}["side_down"]
    assert net.yaxis.get_major_formatter()(-56e6, 0) == "$56M"


def test_a_short_side_much_smaller_than_the_long_side_still_gets_a_labelled_tick():
    # longs reach $300M, shorts only $40M: ticks every $50M would leave the shorts unlabelled
    table = _table([(0, "binanceusdm", 300e6, 0.0), (1, "binanceusdm", 1e6, 40e6)])
    fig = pim.plot_mirrored_bars(table, _window(2, ["binanceusdm"]))
    ax = fig.axes[0]
    _tick_texts(fig, ax)
    below = _below_zero_ticks(ax)
    assert below and all(t.startswith("$") and t != "$0" for t in below)


# ---- 2. dominance weighted and masked by size ------------------------------------------------
DOMINANCE_ROWS = [
    (0, "binanceusdm", 220e6, 3e6),  # a $223M flush
    (1, "binanceusdm", 0.1e6, 0.0),  # a $0.1M quiet hour, 100 % long
    (2, "binanceusdm", 4e6, 1e6),  # $5M
    (3, "binanceusdm", 30e6, 20e6),  # $50M
]


def _dominance_bars(fig: Figure):
    return [p for p in fig.axes[0].patches if p.get_gid() == "dominance"]


def test_a_quiet_hour_gets_no_dominance_bar_and_bigger_hours_are_darker():
    table = _table(DOMINANCE_ROWS)
    fig = pim.plot_dominance_delta(table, _window(4, ["binanceusdm"]))
    bars = _dominance_bars(fig)
    starts = [b.get_x() for b in bars]
    x = pim.date_numbers(pd.DatetimeIndex([h(0), h(1), h(2), h(3)]))
    assert starts == pytest.approx([x[0], x[2], x[3]]), "the $0.1M hour is masked"
    alpha = [b.get_facecolor()[3] for b in bars]
    # opacity follows size: $223M > $50M > $5M
    assert alpha[0] == pytest.approx(1.0)
    assert alpha[0] > alpha[2] > alpha[1] >= pim.DOMINANCE_MIN_ALPHA
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "under $1M not drawn" in legend and "darker = larger" in legend
    (note,) = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "dominance_masked"]
    assert note.startswith("1 bars under $1M")


def test_the_dominance_minimum_is_a_parameter():
    table = _table(DOMINANCE_ROWS)
    every = pim.plot_dominance_delta(table, _window(4, ["binanceusdm"]), min_total_usd=0.0)
    assert len(_dominance_bars(every)) == 4
    strict = pim.plot_dominance_delta(table, _window(4, ["binanceusdm"]), min_total_usd=10e6)
    assert len(_dominance_bars(strict)) == 2


# ---- 3. treemap ------------------------------------------------------------------------------
def _caps(rows) -> pd.DataFrame:
    ts = pd.Timestamp("2025-11-17", tz="UTC")
    frame = pd.DataFrame(
        {
            "ts": ts,
            "coin": [r[0].lower() for r in rows],
            "symbol": [r[0] for r in rows],
            "name": [r[0] for r in rows],
            "price_usd": 1.0,
            "market_cap_usd": [r[1] for r in rows],
            "change_24h_pct": [r[2] for r in rows],
            "source": "test",
        }
    )
    caps, bad = schema.validate("market_caps", frame)
    assert bad.empty
    return mm.top_by_cap(caps, n=len(rows))


MAP_ROWS = [
    ("BTC", 1.66e12, -3.5),
    ("ETH", 3.4e11, -0.9),
    ("USDT", 1.83e11, 0.01),
    ("SOL", 8.0e10, -15.0),
    ("USDC", 7.5e10, -0.02),
    ("XRP", 1.2e11, 1.2),
    ("DAI", 5.3e9, None),
    *[(f"C{i:02d}", 4e9 / (i + 1), -1.0 + 0.1 * i) for i in range(20)],
]


@pytest.fixture
def top() -> pd.DataFrame:
    return _caps(MAP_ROWS)


def _tiles(fig: Figure) -> dict[str, object]:
    return {
        str(p.get_gid()).split(":", 1)[1]: p
        for p in fig.axes[0].patches
        if str(p.get_gid()).startswith("tile:")
    }


def test_stablecoins_are_grey_and_not_counted_red_or_green(top):
    assert set(top["symbol"][mm.is_stablecoin(top["symbol"])]) == {"USDT", "USDC", "DAI"}
    fig = pmm.plot_market_treemap(top, _window(1))
    tiles = _tiles(fig)
    for coin in ("USDT", "USDC", "DAI"):
        assert mcolors.same_color(tiles[coin].get_facecolor(), pmm.STABLE_COLOR)
        assert not tiles[coin].get_hatch(), "a stablecoin is not a missing change"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("stablecoin") for t in legend)
    lines = mm.market_lines(top)
    changes = top.set_index("symbol")["change_24h_pct"].drop(["USDT", "USDC", "DAI"])
    assert lines.stablecoins == 3
    assert lines.red == int((changes < 0).sum())  # USDC's -0.02 % is not a red coin
    assert lines.green == int((changes > 0).sum())
    assert lines.red + lines.green + lines.unchanged + lines.missing_change + 3 == len(top)
    assert "non-stablecoins" in lines.red_text


def test_the_colour_scale_is_clipped_so_a_small_fall_reads_red(top):
    fig = pmm.plot_market_treemap(top, _window(1))
    tiles = _tiles(fig)
    r, g, _b, _a = tiles["ETH"].get_facecolor()  # -0.9 % beside a -15 % outlier
    assert r - g > 0.15, "a -0.9 % coin must not look neutral"
    cmap = matplotlib.colormaps[pmm.CMAP]
    assert tiles["SOL"].get_facecolor() == pytest.approx(cmap(0.0)), "-15 % saturates"
    assert tiles["BTC"].get_facecolor() == pytest.approx(cmap(0.0)), "-3.5 % saturates too"
    colourbar = fig.axes[1]
    assert "clipped at \u00b13 %" in colourbar.get_ylabel()
    fig.canvas.draw()


def test_every_tile_is_labelled_or_listed(top):
    fig = pmm.plot_market_treemap(top, _window(1))
    labels = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    listed = fig._supxlabel.get_text() if fig._supxlabel is not None else ""
    assert fig._supxlabel is not None and fig._supxlabel.get_gid() == "small_tiles"
    flat = listed.replace("\n", " ")
    small = [s for s in top["symbol"] if f"label:{s}" not in labels]
    assert small, "the fixture has tiles too small to label"
    for symbol in top["symbol"]:
        assert f"label:{symbol}" in labels or f"{symbol} $" in flat, symbol
    assert labels["label:USDT"].endswith("stablecoin")


# ---- 4. funding as small multiples ------------------------------------------------------------
def test_funding_is_one_panel_per_venue_on_a_shared_scale():
    venues = ["binanceusdm", "bybit", "okx", "gate", "hyperliquid"]
    rows = []
    for j, venue in enumerate(venues):
        for k in range(6):
            for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
                rows.append((T0 + 8 * k * H, venue, symbol, 0.0002 * (j + 1)))
    funding = pd.DataFrame(rows, columns=["ts", "exchange", "symbol", "rate"])
    annual = o.annualised_funding(funding, dict.fromkeys(venues, 8))
    fig = po.plot_funding(annual, _window(48, venues))
    assert len(fig.axes) == len(venues), "one panel per venue, no empty panel left"
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert [t.split(":")[0] for t in titles] == [
        "Binance USD-M",
        "Bybit",
        "Gate",
        "Hyperliquid",
        "OKX",
    ]
    # Binance USD-M pays 0.0002 per 8 h: 21.9 % a year
    assert titles[0] == "Binance USD-M: mean +21.9%/yr"
    assert len({ax.get_ylim() for ax in fig.axes}) == 1
    for ax in fig.axes:
        assert len([ln for ln in ax.get_lines() if ln.get_gid()]) == 2
    btc = {
        mcolors.to_hex(ln.get_color())
        for ax in fig.axes
        for ln in ax.get_lines()
        if ln.get_label() == "BTC"
    }
    assert len(btc) == 1, "a coin has one colour in every panel"
    fig.canvas.draw()
    bottoms = [ax for ax in fig.axes if any(t.get_text() for t in ax.get_xticklabels())]
    assert len(bottoms) == 3, "each column's lowest panel shows the time axis"


# ---- 5. outlier-robust scatter axes -------------------------------------------------------------
def test_one_outlier_does_not_squash_the_quadrant_chart():
    rng = np.random.default_rng(3)
    n = 40
    regimes = pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=n + 1, freq="h"),
            "oi_change": np.append(rng.uniform(-0.005, 0.005, n), -0.14),
            "price_change": np.append(rng.uniform(-0.004, 0.004, n), -0.002),
        }
    )
    regimes["regime"] = o.classify_oi_price(regimes["oi_change"], regimes["price_change"], 0.001)
    fig = po.plot_oi_price_quadrants(regimes, _window(n + 1), deadband=0.001)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low > -0.02 and high < 0.02, "the axis is set by the bulk, not the -14 % bar"
    (clipped,) = [c for c in ax.collections if c.get_gid() == "clipped"]
    (x, y) = clipped.get_offsets()[0]
    assert y == pytest.approx(low * 0.97) and x == pytest.approx(-0.002)
    (notes,) = [t.get_text() for t in ax.texts if t.get_gid() == "chart_notes"]
    assert notes.startswith(f"1 of {n + 1} bars beyond the axes: drawn at the edge")
    inside = sum(len(c.get_offsets()) for c in ax.collections if c.get_gid() != "clipped")
    assert inside == n


def test_nothing_is_clipped_without_an_outlier():
    regimes = pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=4, freq="h"),
            "oi_change": [0.02, 0.03, -0.01, 0.0001],
            "price_change": [0.01, -0.02, -0.01, 0.02],
        }
    )
    regimes["regime"] = o.classify_oi_price(regimes["oi_change"], regimes["price_change"], 0.001)
    ax = po.plot_oi_price_quadrants(regimes, _window(4), deadband=0.001).axes[0]
    assert not [c for c in ax.collections if c.get_gid() == "clipped"]
    low, high = ax.get_ylim()
    assert low <= -0.03 and high >= 0.03


# ---- 6. stress flags with a minimum size ---------------------------------------------------------
def _stress_frame(roll: list[float]) -> pd.DataFrame:
    n = len(roll)
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=n, freq="h"),
            "long_usd": np.array(roll) / 3,
            "short_usd": 0.0,
            "total_usd": np.array(roll) / 3,
            "long_usd_roll": np.array(roll, dtype="float64"),
            "short_usd_roll": 0.0,
            "total_usd_roll": np.array(roll, dtype="float64"),
            "range_frac": np.linspace(0.05, 0.01, n),
            "close": np.linspace(95.0, 90.0, n),
            "window_open": 100.0,
        }
    )


# a quiet stretch creeping up from $0.1M, then a real flush from $12M
ROLL = [0.1e6, 0.2e6, 0.3e6, 0.4e6, 12e6, 20e6, 35e6]


def test_quiet_bars_are_never_flagged_and_the_flagged_bars_are_listed():
    frame = _stress_frame(ROLL)
    anything = o.flag_stress_without_relief(frame, k=1, min_usd=0.0)
    assert anything["stress_flag"].tolist()[1:] == [True] * 6, "every rule but size fires"
    out = o.flag_stress_without_relief(frame, k=1, min_usd=10e6)
    # the quiet bars are decided (False), not unknown, even bar 0 with no step before it
    assert out["stress_flag"].tolist() == [False, False, False, False, True, True, True]
    assert out.attrs["min_usd"] == 10e6
    table = o.stress_bars(out)
    assert table["ts"].tolist() == [h(4), h(5), h(6)]
    assert table["long_usd_roll"].tolist() == [12e6, 20e6, 35e6]
    flagged = frame.iloc[4:]
    assert table["drawdown_frac"].tolist() == pytest.approx(
        (flagged["close"] / flagged["window_open"] - 1).tolist()
    )
    assert o.stress_bars(frame).empty, "no flag column: no flagged bars"
    fig = po.plot_liquidations_vs_range(out, _window(7), rolling_window=3)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "stress without relief (rolling longs of $10M or more)" in labels


def test_the_default_minimum_is_the_documented_one():
    from helpers.metrics.parameters import OutlookParameters

    default = o.flag_stress_without_relief(_stress_frame(ROLL), k=1)
    assert default.attrs["min_usd"] == OutlookParameters().stress_min_usd
    assert not default["stress_flag"].fillna(False).iloc[:4].any()


# ---- 7. the ESTIMATED map's long share from the data ---------------------------------------------
def _grid() -> pd.DataFrame:
    close = np.array([100.0, 101.0, 100.5, 99.0, 98.0, 98.5])
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=6, freq="h"),
            "open": close + 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": 1.0,
        }
    )


def test_the_long_share_is_the_observed_share_of_realised_liquidations_and_stated_once():
    bars = liquidation_bars(
        [(0, "okx", 30e6, 5e6), (1, "binanceusdm", 50e6, 15e6)], t0=T0, counts=0
    )
    observed = lm.observed_long_share(bars)
    assert observed == pytest.approx(80 / 100)
    share = lm.resolve_long_share(None, observed)
    assert share.share == pytest.approx(0.8)
    levels = lm.open_liquidation_levels(
        1e8, _grid(), h(6), {10: 1.0}, lookback="6h", long_share=share, drop_crossed=False
    )
    by_side = levels.groupby("side")["notional_usd"].sum()
    assert by_side["long"] == pytest.approx(0.8e8) and by_side["short"] == pytest.approx(0.2e8)
    est = lm.estimated_liquidation_map(levels, 2.0, 98.5)
    fig = pc.plot_estimated_liquidation_map(est, _window(6))
    stated = [fig.get_suptitle(), *(t.get_text() for t in fig.texts)]
    stated += [t.get_text() for ax in fig.axes for t in ax.texts]
    stated += [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    text = " ".join(s.replace("\n", " ") for s in stated)
    assert text.count("longs 80% / shorts 20%") == 1
    assert "observed long share of realised liquidations in the window" in text


def test_the_long_share_hook_takes_a_number_and_falls_back_when_nothing_was_liquidated():
    given = lm.resolve_long_share(0.6, 0.8)
    assert (given.share, given.basis) == (0.6, "set by parameter")
    quiet = lm.observed_long_share(liquidation_bars([(0, "okx", 0.0, 0.0)], t0=T0, counts=0))
    assert np.isnan(quiet)
    fallback = lm.resolve_long_share(None, quiet)
    assert fallback.share == lm.FALLBACK_LONG_SHARE and "no realised liquidation" in fallback.basis
    positioning = lm.LongShare(0.55, "Binance top-trader long/short account ratio")
    assert lm.resolve_long_share(positioning, 0.8) is positioning
    model = lm.describe_model(
        1e8, h(6), {10: 1.0}, lookback="6h", long_share=positioning, mmr=0.005
    )
    assert "longs 55% / shorts 45% (Binance top-trader long/short account ratio)" in model
