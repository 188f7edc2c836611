"""Figures for the venue-breakdown notebook: long/short per venue, each venue's share, and a
coverage strip where missing bars look different from bars with zero liquidations.

Inputs are the tables of :mod:`helpers.metrics.venues`. Money in US dollars (axes in $M),
shares in %,
time as bar OPEN times in UTC. A venue without data is labelled "no data", never drawn as 0.
Venues are labelled as analysts name them (:func:`helpers.venues.market_name`: a family id
``binance`` is "Binance", a ccxt id ``binanceusdm`` "Binance USD-M"), never by ccxt ids;
artists' ``gid`` keep the ids.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.plots import style
from helpers.plots.grouped import NO_DATA, grouped_long_short
from helpers.plots.imbalance import (
    MISSING_COLOR,
    bar_times,
    bar_width,
    date_numbers,
    new_figure,
    no_data_background,
    utc_time_axis,
    window_xlim,
)
from helpers.plots.style import finish_figure
from helpers.timegrid import Window
from helpers.venues import market_name

ZERO_COLOR = "white"


def _grouped_long_short(ax: Axes, totals: pd.DataFrame, title: str) -> None:
    venues = list(totals.index)
    partial = totals["observed_bars"] < totals["bars"]
    labels = [
        f"{market_name(str(v))}\n({o} of {b} bars)" if p else market_name(str(v))
        for v, o, b, p in zip(venues, totals["observed_bars"], totals["bars"], partial, strict=True)
    ]
    grouped_long_short(ax, totals, labels)
    ax.set_title(title, fontsize="medium")
    style.usd_millions_axis(ax)
    ax.set_ylabel("liquidated ($M)")


def plot_venue_totals(
    totals: pd.DataFrame,
    window: Window,
    spike_totals: pd.DataFrame | None = None,
) -> Figure:
    """Grouped bars of long and short US dollars per venue ($M) from
    :func:`helpers.metrics.venues.venue_totals`; with ``spike_totals`` a second panel shows the same
    inside the spike bars. Venues observed in fewer bars than asked show "(k of n bars)";
    venues with no data show "no data" and no bar."""
    panels = 1 if spike_totals is None else 2
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    _grouped_long_short(axes[0], totals, "whole window")
    if spike_totals is not None:
        n = int(spike_totals["bars"].iloc[0]) if len(spike_totals) else 0
        _grouped_long_short(axes[1], spike_totals, f"inside the {n} spike bars")
    style.long_short_legend(fig)
    return finish_figure(fig, "Liquidations by venue", window)


def plot_venue_shares(
    totals: pd.DataFrame,
    window: Window,
) -> Figure:
    """Each venue's share of liquidated longs and of liquidated shorts (%), as two 100 %
    stacked horizontal bars from :func:`helpers.metrics.venues.venue_totals`, each venue in its
    colour (:func:`helpers.plots.style.venue_color`). Venues without data are named in the
    legend as "no data" and take no share."""
    fig, (ax,) = new_figure(height=3.5)
    rows = [("longs", "long_share"), ("shorts", "short_share")]
    for j, venue in enumerate(totals.index):
        shares = [totals.loc[venue, col] for _, col in rows]
        if all(pd.isna(s) for s in shares):
            ax.barh([0], [0], color=MISSING_COLOR, label=f"{market_name(venue)} ({NO_DATA})")
            continue
        lefts = [float(totals[col].iloc[:j].fillna(0).sum()) for _, col in rows]
        widths = [0.0 if pd.isna(s) else float(s) for s in shares]
        bars = ax.barh(
            [r for r, _ in rows],
            widths,
            left=lefts,
            color=style.venue_color(str(venue)),
            label=market_name(venue),
            gid=f"share:{venue}",
        )
        for rect, w in zip(bars, widths, strict=True):
            if w >= 0.06:
                ax.text(
                    rect.get_x() + w / 2,
                    rect.get_y() + rect.get_height() / 2,
                    f"{w:.0%}",
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white",
                )
    ax.set_xlim(0, 1)
    style.percent_axis(ax, "x")
    ax.set_xlabel("share of liquidated USD across venues with data (%)")
    ax.invert_yaxis()
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return finish_figure(fig, "Venue shares of liquidations", window)


def plot_coverage_strip(
    hourly: pd.DataFrame,
    window: Window,
    gap_mask: pd.DataFrame | None = None,
) -> Figure:
    """One row per venue, one cell per bar, coloured by liquidated US dollars (log scale).

    ``hourly`` is :func:`helpers.metrics.venues.venue_hourly` (NaN = no data). Bars with no data are
    left uncoloured over a grey hatched background; bars observed with zero liquidations are
    white; with ``gap_mask`` (:func:`helpers.metrics.venues.venue_gap_mask`) recorded gaps are
    outlined in black.
    """
    venues = list(hourly.columns)
    fig, (ax,) = new_figure(height=1.6 + 0.45 * max(len(venues), 1))
    width = bar_width(window.interval)
    x = date_numbers(bar_times(hourly))
    x_edges = np.append(x, x[-1] + width) if len(x) else np.array([0.0, 1.0])
    y_edges = np.arange(len(venues) + 1)
    values = hourly.to_numpy(dtype="float64").T
    positive = values[values > 0]
    vmin, vmax = (positive.min(), positive.max()) if positive.size else (1.0, 10.0)
    if vmax <= vmin:
        vmin, vmax = vmin / 10, vmin * 10
    cmap = mpl.colormaps["viridis"].with_extremes(under=ZERO_COLOR, bad=(0, 0, 0, 0))
    shown = np.ma.masked_invalid(
        np.where(values > 0, values, np.where(values == 0, vmin / 10, values))
    )
    no_data_background(ax, x_edges[0], 0, x_edges[-1] - x_edges[0], len(venues))
    mesh = ax.pcolormesh(
        x_edges, y_edges, shown, cmap=cmap, norm=LogNorm(vmin, vmax), edgecolors="face", zorder=1
    )
    if gap_mask is not None:
        for row, venue in enumerate(venues):
            if venue not in gap_mask:
                continue
            col = gap_mask[venue].reindex(hourly.index, fill_value=False).to_numpy()
            for i in np.flatnonzero(col):
                ax.add_patch(
                    Rectangle(
                        (x[i], row),
                        width,
                        1,
                        fill=False,
                        edgecolor="black",
                        linewidth=0.8,
                        zorder=2,
                        gid="gap",
                    )
                )
    ax.set_yticks(y_edges[:-1] + 0.5, [market_name(str(v)) for v in venues])
    ax.set_ylim(0, max(len(venues), 1))
    ax.invert_yaxis()
    window_xlim(ax, bar_times(hourly), window.interval)
    utc_time_axis(ax)
    cbar = fig.colorbar(mesh, ax=ax, extend="min", pad=0.01)
    cbar.set_label("liquidated per bar (US$, log)")
    cbar.ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: style.fmt_usd(v, 0)))
    ax.legend(
        handles=[
            Rectangle(
                (0, 0),
                1,
                1,
                facecolor=MISSING_COLOR,
                hatch="//",
                edgecolor="dimgrey",
                label="no data (not observed)",
            ),
            Rectangle(
                (0, 0),
                1,
                1,
                facecolor=ZERO_COLOR,
                edgecolor="grey",
                label="observed, no liquidations",
            ),
            *(
                [Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", label="recorded gap")]
                if gap_mask is not None
                else []
            ),
        ],
        loc="upper left",
        bbox_to_anchor=(0, -0.25),
        ncols=3,
        fontsize="small",
        frameon=False,
    )
    return finish_figure(fig, f"Coverage per venue and {window.interval} bar", window)
