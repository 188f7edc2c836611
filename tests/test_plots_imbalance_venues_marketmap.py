"""Figures for imbalance, venues and the market map: built on small frames, checked on artists."""

from __future__ import annotations

from functools import partial

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from factories import coverage_gaps, hours_after, liquidation_bars, win
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers import schema
from helpers.metrics import imbalance as im
from helpers.metrics import marketmap as mm
from helpers.metrics import venues as vn
from helpers.plots import imbalance as pim
from helpers.plots import marketmap as pmm
from helpers.plots import venues as pvn

T0 = pd.Timestamp("2025-11-10 00:00", tz="UTC")
END = T0 + pd.Timedelta(hours=4)
WINDOW = "2025-11-10 00:00 to 2025-11-10 04:00 UTC"


h = hours_after(T0)


def x_of(ts: pd.Timestamp) -> float:
    return float(mdates.date2num(ts.tz_convert("UTC").tz_localize(None).to_datetime64()))


# hours after this file's T0 (WINDOW and the bar times asserted below spell its date)
_bars = partial(liquidation_bars, t0=T0, counts=0)


# hour 0: both venues; hour 1: nobody (missing); hour 2: okx only (partial); hour 3: both
ROWS = [
    (0, "binanceusdm", 30e6, 2e6),
    (0, "okx", 10e6, 1e6),
    (2, "okx", 0.0, 0.0),
    (3, "binanceusdm", 5e6, 8e6),
    (3, "okx", 1e6, 0.0),
]
EXCHANGES = ["binanceusdm", "okx"]


@pytest.fixture
def table() -> pd.DataFrame:
    return im.imbalance_table(_bars(ROWS), win(T0, END, EXCHANGES))


def bars_by_gid(fig: Figure, gid: str) -> list[Rectangle]:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def spans(fig: Figure, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def covers(patch, x: float) -> bool:
    xs = patch.get_path().transformed(patch.get_patch_transform()).vertices[:, 0]
    return xs.min() <= x < xs.max()


def assert_title_and_watermark(fig: Figure, *what: str) -> None:
    title = fig.get_suptitle()
    assert WINDOW in title
    assert "SIMULATED (demo)" in title
    for w in what:
        assert w in title
    assert any(t.get_text() == "SIMULATED DATA" for t in fig.texts)


def test_figures_are_not_registered_with_pyplot(table):
    before = plt.get_fignums()
    pim.plot_mirrored_bars(table, win(T0, END, EXCHANGES, ["demo"]))
    assert plt.get_fignums() == before


def test_mirrored_bars_heights_are_the_data_and_missing_hours_are_shaded(table):
    fig = pim.plot_mirrored_bars(table, win(T0, END, EXCHANGES, ["demo"]))
    longs, shorts = bars_by_gid(fig, "long"), bars_by_gid(fig, "short")
    # observed hours 0, 2, 3: longs 30 + 10 = 40M, 0, 5 + 1 = 6M; shorts drawn negative
    assert [b.get_height() for b in longs] == [40e6, 0.0, 6e6]
    assert [b.get_height() for b in shorts] == [-3e6, -0.0, -8e6]
    starts = [b.get_x() for b in longs]
    assert starts == pytest.approx([x_of(h(0)), x_of(h(2)), x_of(h(3))])
    assert not any(abs(x - x_of(h(1))) < 1e-9 for x in starts)  # hour 1: no bar at all
    missing = spans(fig, "missing")
    assert len(missing) == 1 and covers(missing[0], x_of(h(1)) + 0.01)
    partial = spans(fig, "partial")
    assert len(partial) == 1 and covers(partial[0], x_of(h(2)) + 0.01)
    assert_title_and_watermark(fig, "Long vs short liquidations")
    ax = fig.axes[0]
    assert ax.yaxis.get_major_formatter()(-5e6, 0) == "$5M"  # shorts labelled as amounts
    assert "UTC" in ax.get_xlabel() and "$M" in ax.get_ylabel()


def test_real_source_has_no_simulated_watermark(table):
    fig = pim.plot_mirrored_bars(table, win(T0, END, EXCHANGES, ["binance-ws"]))
    assert "source: binance-ws" in fig.get_suptitle()
    assert not any(t.get_text() == "SIMULATED DATA" for t in fig.texts)


def test_dominance_bars_start_at_fifty_percent_and_net_bars_are_the_delta(table):
    fig = pim.plot_dominance_delta(table, win(T0, END, EXCHANGES, ["demo"]))
    dom = bars_by_gid(fig, "dominance")
    # hour 0: 40 / (40 + 3) ; hour 2: 0 / 0 undefined (no bar); hour 3: 6 / (6 + 8)
    assert [b.get_y() for b in dom] == [0.5, 0.5]
    assert [b.get_height() for b in dom] == pytest.approx([40 / 43 - 0.5, 6 / 14 - 0.5])
    net = bars_by_gid(fig, "net")
    assert [b.get_height() for b in net] == [37e6, 0.0, -2e6]  # 40-3, 0-0, 6-8
    assert len(spans(fig, "missing")) == 2  # one per panel
    assert_title_and_watermark(fig, "Long dominance and net delta")


def test_cumulative_lines_step_at_bar_close_and_run_flat_through_missing(table):
    fig = pim.plot_cumulative(im.cumulative_sides(table), win(T0, END, EXCHANGES, ["demo"]))
    ax = fig.axes[0]
    long_line = next(line for line in ax.lines if line.get_gid() == "cum_long")
    # edges at 00, 01, 02, 03, 04: 0 at the start, then 40, 40 (missing), 40, 46 (M)
    assert list(long_line.get_xdata()) == pytest.approx([x_of(h(i)) for i in range(5)])
    assert list(long_line.get_ydata()) == [0.0, 40e6, 40e6, 40e6, 46e6]
    short_line = next(line for line in ax.lines if line.get_gid() == "cum_short")
    assert list(short_line.get_ydata()) == [0.0, 3e6, 3e6, 3e6, 11e6]
    assert len(spans(fig, "missing")) == 1
    assert_title_and_watermark(fig, "Cumulative")


def test_plots_of_an_all_missing_window_draw_no_bars():
    t = im.imbalance_table(schema.empty("liquidation_bars"), win(T0, END))
    for fig in (
        pim.plot_mirrored_bars(t, win(T0, END, None, [])),
        pim.plot_dominance_delta(t, win(T0, END, None, [])),
        pim.plot_cumulative(im.cumulative_sides(t), win(T0, END, None, [])),
    ):
        assert not bars_by_gid(fig, "long") and not bars_by_gid(fig, "net")
        assert spans(fig, "missing")  # the whole window is shaded as missing
        assert "no data" in fig.get_suptitle()
        fig.canvas.draw()


def test_one_hour_window_plots():
    t = im.imbalance_table(_bars([(0, "okx", 2e6, 1e6)]), win(T0, h(1)))
    fig = pim.plot_mirrored_bars(t, win(T0, h(1), ["okx"], ["demo"]))
    assert [b.get_height() for b in bars_by_gid(fig, "long")] == [2e6]
    fig.canvas.draw()


# ---- venues -----------------------------------------------------------------------------
def test_venue_totals_bars_and_no_data_label():
    bars = _bars(ROWS)
    window = win(T0, END, [*EXCHANGES, "gate"])
    totals = vn.venue_totals(bars, window)
    spikes = vn.venue_totals(bars, window, at=[h(3)])
    fig = pvn.plot_venue_totals(totals, win(T0, END, EXCHANGES, ["demo"]), spike_totals=spikes)
    whole, inside = fig.axes[0], fig.axes[1]

    def heights(ax, gid):
        return [p.get_height() for p in ax.patches if p.get_gid() == gid]

    # binanceusdm long 30 + 5 = 35M, okx 10 + 0 + 1 = 11M; gate has no data: no bar
    assert heights(whole, "long") == [35e6, 11e6]
    assert heights(whole, "short") == [10e6, 1e6]  # 2 + 8, 1 + 0 + 0
    assert heights(inside, "long") == [5e6, 1e6]
    assert [t.get_text() for t in whole.texts if t.get_gid() == "no_data"] == ["no data"]
    labels = [t.get_text() for t in whole.get_xticklabels()]
    assert labels == ["Binance USD-M\n(2 of 4 bars)", "Gate\n(0 of 4 bars)", "OKX\n(3 of 4 bars)"]
    assert "inside the 1 spike bars" in inside.get_title()
    assert_title_and_watermark(fig, "Liquidations by venue")


def test_venue_shares_are_stacked_fractions():
    totals = vn.venue_totals(_bars(ROWS), win(T0, END, [*EXCHANGES, "gate"]))
    fig = pvn.plot_venue_shares(totals, win(T0, END, EXCHANGES, ["demo"]))
    ax = fig.axes[0]
    b = [p for p in ax.patches if p.get_gid() == "share:binanceusdm"]
    o = [p for p in ax.patches if p.get_gid() == "share:okx"]
    # longs 35 / 46 and 11 / 46; shorts 10 / 11 and 1 / 11; okx stacked after binanceusdm
    assert [p.get_width() for p in b] == pytest.approx([35 / 46, 10 / 11])
    assert [p.get_width() for p in o] == pytest.approx([11 / 46, 1 / 11])
    assert [p.get_x() for p in o] == pytest.approx([35 / 46, 10 / 11])
    assert "Gate (no data)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert_title_and_watermark(fig, "Venue shares")


def test_coverage_strip_shows_missing_differently_from_zero():
    bars = _bars(ROWS)
    hourly = vn.venue_hourly(bars, win(T0, END, EXCHANGES))
    gaps = coverage_gaps([(1, 3, "binanceusdm", None, "liquidations", "outage")], t0=T0)
    mask = vn.venue_gap_mask(gaps, win(T0, END, EXCHANGES))
    fig = pvn.plot_coverage_strip(hourly, win(T0, END, EXCHANGES, ["demo"]), gap_mask=mask)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    data = mesh.get_array().reshape(2, 4)
    # binanceusdm row: 32M, missing, missing, 13M; okx row: 11M, missing, 0 (observed), 1M
    assert list(np.ma.getmaskarray(data)[0]) == [False, True, True, False]
    assert list(np.ma.getmaskarray(data)[1]) == [False, True, False, False]
    assert data[0, 0] == 32e6 and data[1, 3] == 1e6
    norm = mesh.norm
    assert data[1, 2] < norm.vmin  # observed zero: drawn in the "under" colour
    assert tuple(mesh.cmap.get_under()[:3]) == (1.0, 1.0, 1.0)  # white
    assert mesh.cmap.get_bad()[3] == 0.0  # missing: transparent over the hatched background
    background = [p for p in ax.patches if p.get_gid() == "no_data_background"]
    assert len(background) == 1 and background[0].get_hatch() == "//"
    assert len([p for p in ax.patches if p.get_gid() == "gap"]) == 2  # hours 1 and 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Binance USD-M", "OKX"]
    assert_title_and_watermark(fig, "Coverage per venue")
    fig.canvas.draw()


def test_coverage_strip_of_an_empty_window_draws():
    hourly = vn.venue_hourly(schema.empty("liquidation_bars"), win(T0, END, ["okx"]))
    fig = pvn.plot_coverage_strip(hourly, win(T0, END, ["okx"], []))
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    assert np.ma.getmaskarray(mesh.get_array()).all()
    fig.canvas.draw()


# ---- market map -------------------------------------------------------------------------
@pytest.fixture
def top() -> pd.DataFrame:
    ts = pd.Timestamp("2025-11-17", tz="UTC")
    caps, bad = schema.validate(
        "market_caps",
        pd.DataFrame(
            {
                "ts": ts,
                "coin": ["bitcoin", "ethereum", "solana", "ripple"],
                "symbol": ["btc", "eth", "sol", "xrp"],
                "name": ["Bitcoin", "Ethereum", "Solana", "XRP"],
                "price_usd": [85000.0, 2800.0, 140.0, 2.1],
                "market_cap_usd": [1.70e12, 0.34e12, 0.08e12, 0.12e12],
                "change_24h_pct": [-2.1, 3.0, None, -6.0],
                "source": "test",
            }
        ),
    )
    assert bad.empty
    return mm.top_by_cap(caps, n=4)


def test_treemap_areas_colours_and_labels(top):
    fig = pmm.plot_market_treemap(top, win(T0, END, None, ["demo"]))
    ax = fig.axes[0]
    tiles = {
        p.get_gid().split(":")[1]: p for p in ax.patches if str(p.get_gid()).startswith("tile:")
    }
    assert set(tiles) == {"btc", "eth", "sol", "xrp"}
    area = {k: p.get_width() * p.get_height() for k, p in tiles.items()}
    # areas fill 100 x 60 in proportion to cap: btc 1.70 / (1.70 + 0.34 + 0.12 + 0.08)
    assert sum(area.values()) == pytest.approx(6000)
    assert area["btc"] == pytest.approx(6000 * 1.70 / 2.24)
    assert area["eth"] / area["xrp"] == pytest.approx(0.34 / 0.12)
    # diverging colours centred at 0, clipped at +-3 %: xrp's -6 % saturates at the end colour
    norm = pmm.change_norm(top["change_24h_pct"])
    assert (norm.vmin, norm.vcenter, norm.vmax) == (-3.0, 0.0, 3.0)
    cmap = matplotlib.colormaps[pmm.CMAP]
    assert tiles["btc"].get_facecolor() == pytest.approx(cmap(norm(-2.1)))
    assert tiles["eth"].get_facecolor() == pytest.approx(cmap(1.0))
    assert tiles["xrp"].get_facecolor() == pytest.approx(cmap(0.0))
    assert tiles["sol"].get_hatch() == "//"  # missing change: grey, hatched, not 0 %
    assert tiles["sol"].get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb("#b0b0b0"))
    labels = {t.get_gid(): t.get_text() for t in ax.texts}
    assert labels["label:btc"] == "BTC\n$1.70T\n-2.1%"
    assert labels["label:eth"] == "ETH\n$340.00B\n+3.0%"
    assert labels["label:sol"] == "SOL\n$80.00B\nn/a"
    colourbar = fig.axes[1]
    assert "%" in colourbar.get_ylabel()
    title = fig.get_suptitle()
    assert "Top 4 coins" in title and "snapshot 2025-11-17 00:00 UTC" in title
    assert_title_and_watermark(fig)
    fig.canvas.draw()


def test_tile_label_and_norm_edge_cases():
    assert pmm.tile_label("eth", 3.4e11, -0.04) == "ETH\n$340.00B\n-0.0%"
    norm = pmm.change_norm(pd.Series([np.nan, np.nan]), clip_pct=None)
    assert (norm.vmin, norm.vmax) == (-1.0, 1.0)
    # data-derived: the 80 % quantile of |change|, so one -40 % coin does not set the scale
    norm = pmm.change_norm(pd.Series([-0.5, 1.0, -2.0, 2.5, -40.0]), clip_pct=None)
    assert norm.vmax == pytest.approx(np.quantile([0.5, 1.0, 2.0, 2.5, 40.0], 0.8))
    with pytest.raises(ValueError):
        pmm.change_norm(pd.Series([1.0]), clip_pct=0)


def test_treemap_of_an_empty_snapshot_draws():
    fig = pmm.plot_market_treemap(
        mm.top_by_cap(schema.empty("market_caps")), win(T0, END, None, [])
    )
    assert "no snapshot" in fig.get_suptitle()
    fig.canvas.draw()


@pytest.mark.parametrize(
    ("sources", "venues", "tail", "watermarked"),
    [
        (("demo",), None, "Binance USD-M, OKX | SIMULATED (demo)", True),
        (
            ("demo", "coinalyze"),
            None,
            "Binance USD-M, OKX | source: Coinalyze, SIMULATED (demo)",
            True,
        ),
        (("coinalyze",), ["top 10 by cap"], "top 10 by cap | source: Coinalyze", False),
    ],
)
def test_finish_figure_titles_from_the_window_and_watermarks_only_simulated_data(
    sources: tuple[str, ...], venues: list[str] | None, tail: str, watermarked: bool
) -> None:
    from helpers.plots import style

    fig = Figure()
    window = win(T0, END, ["okx", "binanceusdm"], sources)
    style.finish_figure(fig, "What", window, venues)
    assert fig.get_suptitle() == f"What\n{WINDOW} | {tail}"
    assert any(t.get_text() == "SIMULATED DATA" for t in fig.texts) is watermarked
