"""Figures and tables of the article's views, built on small frames and checked on their
artists (texts, gids, colours) and their HTML."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from factories import h, liquidation_bars, win
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from helpers import present_tables as pt
from helpers.metrics import imbalance as im
from helpers.metrics import price_heatmap as ph
from helpers.metrics import totals as tot
from helpers.metrics import venues as vn
from helpers.metrics import worst_hour as wh
from helpers.metrics.views_analysis import CoinHeatmap
from helpers.plots import annotate, price_heatmap, splits, style, venue_bars
from helpers.plots import imbalance as pim
from helpers.plots import outlook as pout
from helpers.plots import venues as pvn

# hour 0: binanceusdm 36M / okx 59M longs, shorts 3M + 0.5M; hour 1: okx only; hour 2:
# nobody (missing); hour 3: both, small
ROWS = [
    (0, "binanceusdm", 36e6, 3e6),
    (0, "okx", 59e6, 0.5e6),
    (1, "okx", 2e6, 1e6),
    (3, "binanceusdm", 1e6, 4e6),
    (3, "okx", 0.0, 2e6),
]
WINDOW = win(h(0), h(4), sources=["demo"])


@pytest.fixture
def bars() -> pd.DataFrame:
    return liquidation_bars(ROWS, counts=0)


@pytest.fixture
def table(bars) -> pd.DataFrame:
    return im.imbalance_table(bars, WINDOW)


def texts(fig: Figure, gid: str | None = None) -> list[str]:
    found = [t for ax in fig.axes for t in ax.texts] + list(fig.texts)
    return [t.get_text() for t in found if gid is None or t.get_gid() == gid]


def gids(fig: Figure) -> set[str]:
    return {str(a.get_gid()) for ax in fig.axes for a in [*ax.patches, *ax.lines, *ax.collections]}


def x_of(ts: pd.Timestamp) -> float:
    return float(mdates.date2num(ts.tz_convert("UTC").tz_localize(None).to_datetime64()))


def _spikes(times: list[pd.Timestamp], longs: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"long_usd": longs}, index=pd.DatetimeIndex(times, name="ts"))


WORST = (h(0), 95e6, 3.5e6)
WORST_TEXT = "worst hour 2025-11-10 00:00 UTC: longs $95.0M, shorts $3.50M"


def test_the_imbalance_chart_marks_the_worst_hour_and_the_spikes_with_their_figures(table):
    fig = pim.plot_mirrored_bars(table, WINDOW)
    out = annotate.mark_worst_and_spikes(fig, WINDOW, WORST, _spikes([h(0), h(3)], [95e6, 1e6]))
    assert out is fig
    assert texts(fig, "worst_bar_label") == [WORST_TEXT]
    # the worst bar is a spike too: it is labelled once, as the worst
    assert texts(fig, "spike_label") == ["$1.0M"]
    (marker,) = [ln for ln in fig.axes[0].lines if ln.get_gid() == "worst_bar"]
    assert marker.get_xdata()[0] == pytest.approx(x_of(h(0)) + 1 / 48)  # the bar's centre
    assert marker.get_ydata()[0] == 95e6
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "worst hour" in legend and "spike hours (2), longs" in legend
    assert fig.axes[0].get_ylim()[1] >= 95e6 * 1.4


def test_spikes_close_together_share_one_label_in_time_order(table):
    fig = pim.plot_mirrored_bars(table, WINDOW)
    annotate.mark_worst_and_spikes(fig, WINDOW, None, _spikes([h(3), h(1)], [1e6, 2e6]))
    assert texts(fig, "spike_label") == ["$2.0M \u00b7 $1.0M"]
    assert texts(fig, "worst_bar_label") == []
    assert sum(1 for ln in fig.axes[0].lines if ln.get_gid() == "spike") == 2


def test_the_what_to_watch_chart_marks_the_worst_hour_on_the_rolling_curve():
    frame = pd.DataFrame(
        {
            "ts": pd.date_range(h(0), periods=4, freq="h"),
            "long_usd_roll": [95e6, 97e6, 98e6, 3e6],
            "short_usd_roll": [3.5e6, 4e6, 4e6, 2e6],
            "range_frac": [0.01, 0.02, 0.02, 0.01],
            "total_usd": [1.0, 1.0, 1.0, 1.0],
            "close": [100.0, 99.0, 98.0, 99.0],
        }
    )
    fig = pout.plot_liquidations_vs_range(frame, WINDOW, rolling_window=2)
    heights = frame.set_index("ts")["long_usd_roll"]
    annotate.mark_worst_and_spikes(fig, WINDOW, WORST, _spikes([h(0)], [95e6]), heights)
    assert texts(fig, "worst_bar_label") == [WORST_TEXT]
    (marker,) = [ln for ln in fig.axes[0].lines if ln.get_gid() == "worst_bar"]
    assert marker.get_xdata()[0] == pytest.approx(x_of(h(0)))  # on the curve, at the open
    assert marker.get_ydata()[0] == 95e6


def test_stacked_venue_bars_put_longs_up_shorts_down_in_venue_colours(bars, table):
    fam = vn.venue_hourly(bars, WINDOW, "long_usd"), vn.venue_hourly(bars, WINDOW, "short_usd")
    fig = venue_bars.plot_venue_stacked(*fam, WINDOW, table, WORST)
    ax = fig.axes[0]

    def bars_of(gid: str) -> tuple[list[tuple[float, float]], object]:
        (coll,) = [c for c in ax.collections if c.get_gid() == gid]
        return [(p.vertices[0, 1], p.vertices[1, 1]) for p in coll.get_paths()], coll

    okx_long, longs = bars_of("long:okx")
    okx_short, shorts = bars_of("short:okx")
    # okx has rows at hours 0, 1, 3 (hour 2: no data, no bar); stacked on binanceusdm
    assert len(okx_long) == len(okx_short) == 3
    assert okx_long[0] == (36e6, 95e6)  # from Binance's 36M up by OKX's 59M
    assert okx_short[0] == (-3e6, -3.5e6)  # below Binance's 3M down by OKX's 0.5M
    assert mcolors.to_hex(longs.get_facecolor()[0]) == style.venue_color("okx")
    assert mcolors.to_hex(shorts.get_facecolor()[0]) == style.venue_color("okx")
    assert shorts.get_hatch() == venue_bars.SHORT_HATCH
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t for t in legend if not t.startswith(("no data", "partial"))] == ["Binance", "OKX"]
    assert texts(fig, "worst_bar_label") == [WORST_TEXT]
    assert any(p.get_gid() == "missing" for p in ax.patches)  # hour 2 shaded
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks and not any(t.startswith(("-", "\u2212")) for t in ticks)
    assert "\u25b2 longs liquidated" in texts(fig) and any("\u25bc shorts" in t for t in texts(fig))


def test_the_worst_hour_by_venue_chart_labels_each_venue_and_shows_missing(bars):
    split = wh.side_split(bars, win(h(0), h(4), ["binanceusdm", "okx", "gate"]), "venue", [h(0)])
    fig = venue_bars.plot_worst_by_venue(split, WINDOW, h(0))
    assert texts(fig, "long_label") == ["$36M", "$59M"]
    assert texts(fig, "short_label") == ["$3M", "$500K"]
    assert texts(fig, "no_data") == ["no data"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Binance", "Gate", "OKX"]
    assert {"long:okx", "short:okx", "long:binance"} <= gids(fig)
    assert "long:gate" not in gids(fig)
    assert "Worst hour by venue: 2025-11-10 00:00 UTC" in fig.get_suptitle()


def test_venue_colours_are_stable_per_family_and_never_a_side_colour():
    assert style.venue_color("binanceusdm") == style.venue_color("binance")
    assert style.venue_color("binancecoinm") == style.venue_color("binance")
    known = [style.venue_color(v) for v in style.VENUE_COLORS]
    assert len(set(known)) == len(known)
    assert style.venue_color("phemex") == style.venue_color("phemex")
    assert style.venue_color("phemex") in style.VENUE_FALLBACK_COLORS

    def hue(color: str) -> float:
        return float(mcolors.rgb_to_hsv(mcolors.to_rgb(color))[0]) * 360

    for color in [*known, *style.VENUE_FALLBACK_COLORS]:
        r, g, b = mcolors.to_rgb(color)
        saturated = mcolors.rgb_to_hsv((r, g, b))[1] > 0.25
        for side in (style.LONG_COLOR, style.SHORT_COLOR):
            distance = abs((hue(color) - hue(side) + 180) % 360 - 180)
            assert not (saturated and distance < 20), (color, side)


def test_venue_shares_use_the_venue_palette(bars):
    totals = vn.venue_totals(bars, WINDOW)
    fig = pvn.plot_venue_shares(totals, WINDOW)
    okx = [p for p in fig.axes[0].patches if p.get_gid() == "share:okx"]
    assert okx and mcolors.to_hex(okx[0].get_facecolor()) == style.venue_color("okx")


def test_signed_money_labels_are_positive_on_both_sides():
    assert [style.usd_short(v) for v in (50e6, -50e6, -2.5e6, 750e3, 0)] == [
        "$50M", "$50M", "$2.5M", "$750K", "$0"
    ]  # fmt: skip


def test_the_coin_split_chart_has_both_panels_with_figures():
    btc = liquidation_bars([(0, "okx", 30e6, 1e6)], counts=0)
    eth = liquidation_bars([(0, "okx", 10e6, 0.0), (1, "okx", 5e6, 2e6)], counts=0)
    eth = eth.assign(symbol="ETH/USDT:USDT", base="ETH")
    both = pd.concat([btc, eth], ignore_index=True)
    whole = wh.side_split(both, win(h(0), h(2)), "coin")
    worst = wh.side_split(both, win(h(0), h(2)), "coin", [h(1)])
    fig = splits.plot_coin_split(whole, WINDOW, worst, h(1))
    left, right = fig.axes[:2]
    assert [t.get_text() for t in left.get_xticklabels()] == ["BTC", "ETH"]
    assert [t.get_text() for t in left.texts if t.get_gid() == "long_label"] == ["$30M", "$15M"]
    assert [t.get_text() for t in right.texts if t.get_gid() == "no_data"] == ["no data"]
    assert right.get_title() == "worst hour, 2025-11-10 01:00 UTC"


def _heatmap() -> CoinHeatmap:
    window = win(h(0), h(3))
    cells = pd.DataFrame(
        {
            "ts": [h(0), h(0), h(1)],
            "bin": [880, 881, 879],
            "side": ["long", "short", "long"],
            "usd": [5e6, 1e6, 2e6],
            "n": [3, 1, 2],
        }
    )
    grids = {
        s: ph.heatmap_grid(cells, window, [h(0), h(1)], 100.0, (878, 882), s)
        for s in ("long", "short")
    }
    close = pd.Series([88_050.0, 87_950.0, np.nan], index=window.grid(), name="close")
    status = ph.heatmap_status("BTC", ["binanceusdm"], ["binanceusdm"])
    path = ph.PricePath(close, "binanceusdm", "BTC/USDT:USDT")
    return CoinHeatmap(status, grids["long"], grids["short"], 100.0, path)


def test_heatmap_grid_keeps_observed_zero_and_unobserved_missing():
    m = _heatmap()
    assert list(m.long_usd.index) == [87_800.0, 87_900.0, 88_000.0, 88_100.0, 88_200.0]
    assert m.long_usd.loc[88_000.0, h(0)] == 5e6 and m.long_usd.loc[87_900.0, h(1)] == 2e6
    assert m.long_usd.loc[88_100.0, h(0)] == 0.0  # observed, nothing there
    assert m.long_usd[h(2)].isna().all()  # no venue with events observed in hour 2
    assert np.nansum(m.short_usd.to_numpy()) == 1e6
    with pytest.raises(ValueError, match="outside price bins"):
        ph.heatmap_grid(pd.DataFrame({"ts": [h(0)], "bin": [1], "side": ["long"],
                                      "usd": [1.0], "n": [1]}),
                        win(h(0), h(3)), [h(0)], 100.0, (878, 882), "long")  # fmt: skip


def test_the_heatmap_figure_has_two_panels_and_the_price_path():
    fig = price_heatmap.plot_price_heatmap(_heatmap(), WINDOW)
    meshes = [c for ax in fig.axes for c in ax.collections if isinstance(c, QuadMesh)]
    assert sorted(str(m.get_gid()) for m in meshes if m.get_gid()) == ["long", "short"]
    prices = [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == "price"]
    assert len(prices) == 2
    assert prices[0].get_label() == "Binance USD-M BTC/USDT:USDT close"
    assert "BTC: realised liquidations by time and price" in fig.get_suptitle()
    assert "Binance USD-M" in fig.get_suptitle() and "SIMULATED DATA" in texts(fig)


def test_a_heatmap_from_bars_only_is_refused_with_the_reason():
    status = ph.heatmap_status("BTC", [], ["okx"], "Coinalyze")
    empty = ph.PricePath(pd.Series(dtype="float64"), None, None)
    with pytest.raises(ValueError, match="no time x price heatmap can be built"):
        price_heatmap.plot_price_heatmap(CoinHeatmap(status, None, None, None, empty), WINDOW)


def test_tables_show_dollars_with_separators_missing_as_a_dash_and_no_index(bars):
    split = wh.side_split(bars, win(h(0), h(4), ["binanceusdm", "okx", "gate"]), "venue", [h(0)])
    page = pt.split_table(split, "the hour's longs").to_html()
    assert "$36,000,000" in page and "$59,000,000" in page and "$95,000,000" in page
    assert "Share of the hour" in page and "Long share" in page
    assert "Binance" in page and "binanceusdm" not in page
    assert "SIMULATED (demo)" in page
    assert "row_heading" not in page  # no index column
    gate = page[page.index(">Gate<") :].split("</tr>")[0]
    assert gate.count(pt.MISSING) >= 5 and "$0" not in gate


def test_the_spike_table_is_spike_hour_by_venue(bars):
    wide = wh.spikes_by_venue(bars, win(h(0), h(4), ["binanceusdm", "okx"]), [h(0), h(2)])
    assert list(wide.columns.get_level_values(0).unique()) == ["binance", "okx"]
    assert wide.loc[h(0), ("okx", "long_usd")] == 59e6
    assert wide.loc[h(2)].isna().all()  # nobody reported in hour 2
    page = pt.spikes_venue_table(wide).to_html()
    assert "2025-11-10 00:00" in page and "$59,000,000" in page and pt.MISSING in page
    assert ">OKX<" in page and ">Longs<" in page


def test_totals_and_largest_event_tables_escape_text(bars):
    totals = tot.horizon_totals(bars, win(h(0), h(4)), "venue", ["1h", "4h"])
    page = pt.horizon_totals_table(totals).to_html()
    assert "Last 1h" in page and "Last 4h" in page and "All venues" in page
    assert "4h: 3 of 4 bars" in page  # okx observed in hours 0, 1, 3 only
    events = pd.DataFrame(
        {
            "ts": [h(0)],
            "exchange": ["binanceusdm"],
            "symbol": ["<b>BTC</b>"],
            "side": ["long"],
            "notional_usd": [1_234_567.0],
            "price": [88_345.817],
        }
    )
    page = pt.largest_events_table(events).to_html()
    assert "&lt;b&gt;BTC&lt;/b&gt;" in page and "<b>BTC" not in page
    assert "$1,234,567" in page and "$88,345.82" in page and "Binance USD-M" in page


@pytest.mark.parametrize("hour", [3, 60, 87, 110, 165])
def test_the_worst_hour_label_stays_inside_the_axes_wherever_the_bar_is(hour):
    window = win(h(0), h(168), sources=["demo"])
    rows = [(i, "okx", 1e6 + (95e6 if i == hour else 0.0), 1e5) for i in range(168)]
    fig = pim.plot_mirrored_bars(im.imbalance_table(liquidation_bars(rows), window), window)
    annotate.mark_worst_and_spikes(fig, window, (h(hour), 96e6, 1e5), _spikes([], []))
    fig.canvas.draw()
    (label,) = [t for t in fig.axes[0].texts if t.get_gid() == "worst_bar_label"]
    box, axes = label.get_window_extent(), fig.axes[0].get_window_extent()
    assert axes.x0 <= box.x0 and box.x1 <= axes.x1, (hour, box, axes)  # clear of the side notes
