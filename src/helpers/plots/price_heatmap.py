"""The time x price heatmap of REALISED liquidations: one panel for longs (reds) and one for
shorts (greens), a cell per bar and price bin coloured by liquidated US dollars (log scale),
with the coin's close drawn over both.

Input is a :class:`helpers.metrics.views_analysis.CoinHeatmap` built from single events
(the only data with prices). A bar in which no venue with events was observed is hatched
grey (missing); an observed bar without liquidations in a bin is white. Time is the bar
OPEN time in UTC; prices are in the quote currency (read as US dollars).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from helpers.plots import style
from helpers.plots.imbalance import bar_width, date_numbers, no_data_background, utc_time_axis
from helpers.timegrid import Window
from helpers.venues import market_name

if TYPE_CHECKING:
    from helpers.metrics.views_analysis import CoinHeatmap

PRICE_COLOR = "black"
SIDE_MAPS = (("long", "Reds", "longs liquidated"), ("short", "Greens", "shorts liquidated"))


def _norm(values: np.ndarray) -> LogNorm:
    positive = values[np.isfinite(values) & (values > 0)]
    vmin, vmax = (positive.min(), positive.max()) if positive.size else (1.0, 10.0)
    if vmax <= vmin:
        vmin, vmax = vmin / 10, vmin * 10
    return LogNorm(vmin, vmax)


def _panel(ax: Axes, grid: pd.DataFrame, x_edges: np.ndarray, y_edges: np.ndarray,
           cmap_name: str, norm: LogNorm, side: str) -> mpl.collections.QuadMesh:  # fmt: skip
    no_data_background(
        ax, x_edges[0], y_edges[0], x_edges[-1] - x_edges[0], y_edges[-1] - y_edges[0]
    )
    values = grid.to_numpy(dtype="float64")
    cmap = mpl.colormaps[cmap_name].with_extremes(under="white", bad=(0, 0, 0, 0))
    floor = float(norm.vmin or 1.0) / 10
    shown = np.ma.masked_invalid(np.where(values == 0, floor, values))
    return ax.pcolormesh(x_edges, y_edges, shown, cmap=cmap, norm=norm, zorder=1, gid=side)


def plot_price_heatmap(heatmap: CoinHeatmap, window: Window) -> Figure:
    """Longs (top) and shorts (bottom) liquidated per bar and price bin, with the close of
    ``heatmap.price`` over both panels; each panel has its own colour bar in US dollars.
    Raises ``ValueError`` for a heatmap that was not built (``heatmap.built`` False: only
    bars, or no data), whose ``status.note`` says why."""
    if not heatmap.built or heatmap.long_usd is None or heatmap.short_usd is None:
        raise ValueError(heatmap.status.note)
    grids = {"long": heatmap.long_usd, "short": heatmap.short_usd}
    width = float(heatmap.bin_width or 0.0)
    times = pd.DatetimeIndex(heatmap.long_usd.columns)
    x = date_numbers(times)
    x_edges = np.append(x, x[-1] + bar_width(window.interval))
    lows = heatmap.long_usd.index.to_numpy(dtype="float64")
    y_edges = np.append(lows, lows[-1] + width)
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True, sharey=True)
    close = heatmap.price.close.reindex(times)
    digits = 0 if width >= 1 else 2
    for ax, (side, cmap_name, label) in zip(axes, SIDE_MAPS, strict=True):
        grid = grids[side]
        norm = _norm(grid.to_numpy(dtype="float64"))
        mesh = _panel(ax, grid, x_edges, y_edges, cmap_name, norm, side)
        ax.plot(x + (x_edges[1] - x_edges[0]) / 2, close.to_numpy(dtype="float64"),
                color=PRICE_COLOR, linewidth=1.2, label=heatmap.price.label,
                gid="price")  # fmt: skip
        cbar = fig.colorbar(mesh, ax=ax, extend="min", pad=0.01)
        cbar.set_label(f"{label} per cell (US$, log)")
        cbar.ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: style.usd_short(v)))
        ax.set_ylabel(f"{heatmap.base} price (bins of {style.usd_short(width)})")
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: f"${v:,.{digits}f}"))
        ax.set_title(label, fontsize="medium", loc="left")
        ax.legend(loc="upper right", fontsize="small")
    axes[0].set_xlim(x_edges[0], x_edges[-1])
    axes[0].set_ylim(y_edges[0], y_edges[-1])
    utc_time_axis(axes[1])
    what = f"{heatmap.base}: realised liquidations by time and price"
    names = [market_name(e) for e in heatmap.status.event_venues]
    return style.finish_figure(fig, what, window, venues=names)
