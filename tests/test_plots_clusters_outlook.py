"""Figures for clusters and what to watch: what is drawn equals the data, titles carry context."""

from __future__ import annotations

import math

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from factories import H, liquidation_bars, liquidations, win
from matplotlib.figure import Figure

from helpers.metrics import clusters as c
from helpers.metrics import liquidation_map as lm
from helpers.metrics import outlook as o
from helpers.plots import clusters as pc
from helpers.plots import outlook as po
from helpers.plots import style

T0 = pd.Timestamp("2025-01-01 00:00", tz="UTC")
END = T0 + 6 * H
WINDOW = style.window_label(T0, END)
CTX = {"start": T0, "end": END, "exchanges": ["okx"], "sources": ["demo"]}


def _grid() -> pd.DataFrame:
    """Six bars, bar 2 missing; each bar falls 0.5 and the last three narrow."""
    close = np.array([100.0, 101.0, np.nan, 99.0, 98.0, 98.5])
    spread = np.array([1.0, 1.0, np.nan, 0.8, 0.5, 0.3])
    return pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=6, freq="h"),
            "open": close + 0.5,
            "high": close + 0.5 + spread,
            "low": close - spread,
            "close": close,
            "volume": np.where(np.isnan(close), np.nan, 1.0),
        }
    )


# realised liquidations (side, price, notional_usd), one an hour from T0
REALISED = [("long", 98.2, 2e6), ("long", 99.5, 5e6), ("short", 99.7, 1e6), ("long", 101.1, 3e6)]


def _patches(ax, gid: str):
    return [p for p in ax.patches if p.get_gid() == gid]


def _title(fig: Figure) -> str:
    return fig._suptitle.get_text()


def _watermarked(fig: Figure) -> bool:
    return any(t.get_text() == "SIMULATED DATA" for t in fig.texts)


# ---- realised by price ------------------------------------------------------------------------


def test_realised_histogram_draws_each_bin_beside_the_price_path():
    by_price = c.liquidations_by_price(liquidations(REALISED, t0=T0), bin_width=1.0)
    supports = pd.DataFrame(
        {"level": [97.0], "zone_low": [97.0], "zone_high": [97.5], "touches": [2]}
    )
    fig = pc.plot_liquidations_by_price(
        _grid(), by_price, supports=supports, last_price=98.5, window=win(**CTX)
    )
    ax_px, ax_liq = fig.axes
    longs, shorts = _patches(ax_liq, "long"), _patches(ax_liq, "short")
    # one bar per bin 98..101: widths are the notional, centres the bin mids, height the bin
    assert [p.get_width() for p in longs] == by_price["long_usd"].tolist()
    assert [p.get_y() + p.get_height() / 2 for p in longs] == by_price["bin_mid"].tolist()
    assert {p.get_height() for p in longs} == {1.0}
    assert [p.get_width() for p in shorts] == by_price["short_usd"].tolist()
    assert [p.get_x() for p in shorts] == by_price["long_usd"].tolist()
    assert by_price["long_usd"].tolist() == [2e6, 5e6, 0.0, 3e6]
    # the price path keeps the missing bar as a gap, and the gap is hatched
    line = next(ln for ln in ax_px.get_lines() if ln.get_label() == "close")
    np.testing.assert_array_equal(line.get_ydata(), _grid()["close"].to_numpy())
    assert len(_patches(ax_px, "missing")) == 1
    # support and last price cross both panels on the shared price axis
    assert ax_px.get_shared_y_axes().joined(ax_px, ax_liq)
    for ax in (ax_px, ax_liq):
        assert [ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_gid() == "support"] == [97.0]
        assert [ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_gid() == "last_price"] == [
            98.5
        ]
    assert "Realised" in _title(fig) and "bins of 1.00 USD" in _title(fig)
    assert WINDOW in _title(fig) and "OKX" in _title(fig) and "SIMULATED (demo)" in _title(fig)
    assert _watermarked(fig)
    assert ax_liq.get_xlabel() == "realised liquidations ($M)"
    assert ax_px.get_ylabel() == "price (USD)" and ax_px.get_xlabel() == "time (UTC)"
    assert ax_liq.xaxis.get_major_formatter()(2e6, 0) == "$2M"


def test_realised_histogram_with_no_liquidations_says_so():
    empty = c.liquidations_by_price(liquidations(REALISED, t0=T0).iloc[0:0], bin_width=1.0)
    fig = pc.plot_liquidations_by_price(_grid(), empty, window=win(**CTX))
    ax_liq = fig.axes[1]
    assert not ax_liq.patches
    assert any("no liquidations" in t.get_text() for t in ax_liq.texts)


def test_real_data_is_not_watermarked_and_names_its_source():
    by_price = c.liquidations_by_price(liquidations(REALISED, t0=T0), bin_width=1.0)
    fig = pc.plot_liquidations_by_price(
        _grid(), by_price, window=win(**{**CTX, "sources": ["binance"]})
    )
    assert not _watermarked(fig) and "source: binance" in _title(fig)


# ---- estimated map ----------------------------------------------------------------------------


def _estimated_map() -> pd.DataFrame:
    grid = _grid()
    levels = lm.open_liquidation_levels(
        1e8, grid, END, {10: 0.5, 20: 0.5}, lookback="6h", drop_crossed=False
    )
    return lm.estimated_liquidation_map(levels, bin_width=2.0, last_price=98.5)


def test_estimated_map_is_hatched_titled_as_a_model_and_states_its_assumptions():
    em = _estimated_map()
    fig = pc.plot_estimated_liquidation_map(em, window=win(**CTX))
    ax = fig.axes[0]
    longs, shorts = _patches(ax, "long"), _patches(ax, "short")
    assert [p.get_width() for p in longs] == em["long_usd"].tolist()
    assert [p.get_width() for p in shorts] == pytest.approx(em["short_usd"].tolist())
    assert sum(p.get_width() for p in longs + shorts) == pytest.approx(1e8)
    assert all(p.get_hatch() for p in longs + shorts)
    assert all(p.get_facecolor()[3] == 0 for p in longs + shorts)
    assert _title(fig).startswith("ESTIMATED") and WINDOW in _title(fig)
    assert "ESTIMATED" in ax.get_xlabel() and "$M" in ax.get_xlabel()
    assert "Model, not observed" in fig._supxlabel.get_text()
    assert "leverage 10x 50%, 20x 50%" in fig._supxlabel.get_text()
    assert [ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_gid() == "last_price"] == [98.5]
    assert _watermarked(fig)


def test_realised_and_estimated_bars_look_different():
    real = pc.plot_liquidations_by_price(
        _grid(), c.liquidations_by_price(liquidations(REALISED, t0=T0), 1.0), window=win(**CTX)
    ).axes[1]
    est = pc.plot_estimated_liquidation_map(_estimated_map(), window=win(**CTX)).axes[0]
    assert not any(p.get_hatch() for p in real.patches)
    assert all(p.get_hatch() for p in est.patches)


def test_estimated_map_with_no_levels():
    empty = lm.estimated_liquidation_map(
        lm.open_liquidation_levels(1e8, _grid(), T0, {10: 1.0}), 2.0, 98.5
    )
    fig = pc.plot_estimated_liquidation_map(empty, window=win(**CTX))
    assert not fig.axes[0].patches
    assert any("no estimated levels" in t.get_text() for t in fig.axes[0].texts)


# ---- rolling liquidations vs range ------------------------------------------------------------


def _flagged() -> pd.DataFrame:
    bars = liquidation_bars(
        [
            (0, "okx", 1e6, 0.0),
            (1, "okx", 2e6, 1e5),
            (3, "okx", 4e6, 0.0),
            (4, "okx", 8e6, 2e5),
            (5, "okx", 9e6, 0.0),
        ],
        t0=T0,
        validated=False,
    )
    hourly = o.hourly_liquidations(bars, win(T0, END))
    frame = o.liquidations_vs_range(hourly, _grid(), window=1)
    return o.flag_stress_without_relief(frame, k=1, min_usd=1e6)


def test_rolling_chart_draws_the_rolling_values_with_gaps_and_flags():
    frame = _flagged()
    fig = po.plot_liquidations_vs_range(frame, window=win(**CTX), rolling_window=1)
    ax_liq, ax_rng = fig.axes
    lines = {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines()}
    np.testing.assert_array_equal(lines["long_roll"].get_ydata(), frame["long_usd_roll"])
    np.testing.assert_array_equal(lines["short_roll"].get_ydata(), frame["short_usd_roll"])
    np.testing.assert_array_equal(lines["range"].get_ydata(), frame["range_frac"])
    # hour 2 has neither liquidation nor price data: NaN in the line and hatched on both axes
    assert math.isnan(lines["long_roll"].get_ydata()[2])
    assert len(_patches(ax_liq, "missing")) == 1 and len(_patches(ax_rng, "missing")) == 1
    # bar 1: longs 1M -> 2M, range 2.5 / 101 < 2.5 / 100, close 101 < open 101.5
    # bar 4: longs 4M -> 8M, range (99 - 97.5) / 98 < (100.3 - 98.2) / 99, close 98 < open 98.5
    # bar 5: longs 8M -> 9M, range (99.3 - 98.2) / 98.5 narrower still, close 98.5 < 99
    # bar 3 follows the missing bar 2: unknown
    flagged = frame.loc[frame["stress_flag"].fillna(False), "ts"].tolist()
    assert flagged == [T0 + H, T0 + 4 * H, T0 + 5 * H]
    assert pd.isna(frame["stress_flag"].iloc[3])
    for ax in (ax_liq, ax_rng):
        spans = [
            (mdates.num2date(p.get_x()), mdates.num2date(p.get_x() + p.get_width()))
            for p in _patches(ax, "stress")
        ]
        assert spans == [(T0 + H, T0 + 2 * H), (T0 + 4 * H, T0 + 6 * H)]
    assert "1 x 1h window" in _title(fig) and WINDOW in _title(fig)
    assert ax_liq.get_ylabel() == "liquidated, rolling 1 bars ($M)"
    assert "% of close" in ax_rng.get_ylabel() and ax_rng.get_xlabel() == "time (UTC)"
    assert ax_rng.yaxis.get_major_formatter()(0.05, 0) == "5.0%"
    assert _watermarked(fig)


# ---- OI vs price quadrants --------------------------------------------------------------------


def test_quadrant_chart_places_each_bar_and_counts_the_missing():
    regimes = pd.DataFrame(
        {
            "ts": pd.date_range(T0, periods=5, freq="h"),
            "oi_change": [0.02, 0.03, -0.01, 0.0001, np.nan],
            "price_change": [0.01, -0.02, -0.01, 0.02, 0.01],
        }
    )
    regimes["regime"] = o.classify_oi_price(regimes["oi_change"], regimes["price_change"], 0.001)
    regimes.attrs["deadband"] = 0.001
    fig = po.plot_oi_price_quadrants(regimes, window=win(**CTX))
    ax = fig.axes[0]
    points = {col.get_gid(): col.get_offsets().tolist() for col in ax.collections}
    assert points == {
        "new longs": [[0.01, 0.02]],
        "new shorts": [[-0.02, 0.03]],
        "long capitulation": [[-0.01, -0.01]],
        "flat": [[0.02, 0.0001]],
    }
    box = _patches(ax, "deadband")[0]
    assert (box.get_x(), box.get_width()) == pytest.approx((-0.001, 0.002))
    assert any(t.get_text().startswith("1 of 5 bars missing") for t in ax.texts)
    assert "price change" in ax.get_xlabel() and "open-interest change" in ax.get_ylabel()
    assert ax.xaxis.get_major_formatter()(0.01, 0) == "1.0%"
    assert WINDOW in _title(fig)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "new longs (1)" in legend
    colours = {col.get_gid(): col.get_facecolor()[0] for col in ax.collections}
    assert mcolors.same_color(colours["long capitulation"][:3], style.LONG_COLOR)


# ---- funding ----------------------------------------------------------------------------------


def test_funding_chart_plots_annualised_rates_and_breaks_at_gaps():
    funding = pd.DataFrame(
        {
            "ts": [T0, T0 + 8 * H, T0 + 32 * H, T0, T0 + H],
            "exchange": ["okx", "okx", "okx", "hl", "hl"],
            "symbol": "BTC/USDT:USDT",
            "rate": [0.0001, 0.0002, 0.0001, 0.00001, 0.00002],
        }
    )
    annual = o.annualised_funding(funding, {"okx": 8, "hl": 1})
    fig = po.plot_funding(
        annual, window=win(**{**CTX, "exchanges": ["okx", "hl"], "end": T0 + 40 * H})
    )
    # small multiples: one panel per venue, titled by name with its mean rate
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert [t.split(":")[0] for t in titles] == ["Hl", "OKX"]
    lines = {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines()}
    assert {gid for gid in lines if gid} == {"funding:okx", "funding:hl"}
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim(), "panels share the rate axis"
    ax = fig.axes[0]
    # okx: 0.0001 * 8760 / 8 = 0.1095, 0.219, then a 24 h gap (> 1.5 periods) -> NaN break
    okx = lines["funding:okx"].get_ydata()
    assert okx[:2].tolist() == pytest.approx([0.1095, 0.219])
    assert math.isnan(okx[2]) and okx[3] == pytest.approx(0.1095)
    # hl: hourly, no gap: 0.00001 * 8760, 0.00002 * 8760
    assert lines["funding:hl"].get_ydata().tolist() == pytest.approx([0.0876, 0.1752])
    assert "annualised" in ax.get_ylabel() and ax.yaxis.get_major_formatter()(0.1, 0) == "10%"
    assert "Funding" in _title(fig) and "Hl, OKX" in _title(fig)
    assert _watermarked(fig)


def test_funding_chart_without_data():
    empty = o.annualised_funding(
        pd.DataFrame(
            {"ts": pd.Series(dtype="datetime64[us, UTC]"), "exchange": [], "symbol": [], "rate": []}
        )
    )
    fig = po.plot_funding(empty, window=win(**CTX))
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_gid()]
    assert any("no funding data" in t.get_text() for t in fig.axes[0].texts)


def test_funding_lines_name_the_symbol_only_when_a_venue_has_several():
    funding = pd.DataFrame(
        {
            "ts": [T0, T0, T0 + H, T0 + H],
            "exchange": ["okx", "okx", "okx", "okx"],
            "symbol": ["BTC/USDT:USDT", "BTC/USDC:USDC", "BTC/USDT:USDT", "BTC/USDC:USDC"],
            "rate": [0.0001, 0.0002, 0.0001, 0.0002],
        }
    )
    fig = po.plot_funding(o.annualised_funding(funding), window=win(**CTX))
    # one venue, one panel titled by the venue; its lines are the symbols
    assert len(fig.axes) == 1 and fig.axes[0].get_title(loc="left").startswith("OKX")
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_gid()]
    assert sorted(ln.get_label() for ln in lines) == ["BTC/USDC:USDC", "BTC/USDT:USDT"]
    assert sorted(ln.get_gid() for ln in lines) == [
        "funding:okx BTC/USDC:USDC",
        "funding:okx BTC/USDT:USDT",
    ]
