"""The venues' account long/short ratio per bar, under the liquidations of the same bars.

Takes :func:`helpers.metrics.positioning.hourly_ratio` (and, for the top panel, the
imbalance table of :func:`helpers.metrics.imbalance.imbalance_table`) and returns a
:class:`matplotlib.figure.Figure` not registered with pyplot. The ratio is accounts net long
/ accounts net short as each venue publishes it (1 = as many long as short accounts); a bar
where a venue published nothing is a break in its line, and a bar where no venue published
anything is shaded grey, never drawn as a value. Time axes are bar OPEN times in UTC.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.metrics.positioning import series_label
from helpers.plots import style
from helpers.plots.imbalance import (
    MISSING_COLOR,
    bar_times,
    bar_width,
    date_numbers,
    new_figure,
    shade_bars,
    shade_coverage,
    utc_time_axis,
    window_xlim,
)
from helpers.timegrid import Window

NO_RATIO_LABEL = "no ratio published"
LINESTYLES = ("-", "--", ":", "-.")


def plot_long_short_ratio(
    hourly: pd.DataFrame, window: Window, imbalance: pd.DataFrame | None = None
) -> Figure:
    """Top (when ``imbalance`` is given): longs liquidated up, shorts down, per bar ($M).
    Bottom: each (venue, symbol) ratio per bar, one line each in the venue's colour and the
    symbol's line style, with the 1.0 line (balanced accounts) and the legend below; no data
    at all reads "no data"."""
    panels = 2 if imbalance is not None else 1
    fig, axes = new_figure(panels, height=6.5 if panels == 2 else 4.0)
    ax = axes[-1]
    grid = window.grid()
    if imbalance is not None:
        _liquidations(axes[0], imbalance, window)
    drawn = 0
    styles = {
        sym: LINESTYLES[i % len(LINESTYLES)]
        for i, sym in enumerate(sorted(set(hourly["symbol"].astype(str))))
    }
    for (exchange, symbol), one in hourly.groupby(["exchange", "symbol"]):
        one = one.set_index("ts").reindex(grid)
        x = date_numbers(pd.DatetimeIndex(one.index)) + bar_width(window.interval) / 2
        ax.plot(
            x,
            one["long_short_ratio"].to_numpy(dtype=float),
            color=style.venue_color(str(exchange)),
            linestyle=styles[str(symbol)],
            marker="." if one["long_short_ratio"].notna().sum() < 3 else None,
            label=series_label(str(exchange), str(symbol)),
            gid=f"ratio {exchange} {symbol}",
        )
        drawn += 1
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="1.0 (balanced)")
    wide = _published(hourly, grid)
    shade_bars(ax, grid, ~wide, window.interval, MISSING_COLOR, NO_RATIO_LABEL, "//")
    if not drawn:
        ax.text(0.5, 0.5, "no data: no venue published a long/short ratio in this window",
                ha="center", va="center", transform=ax.transAxes, gid="no-data")  # fmt: skip
    window_xlim(ax, grid, window.interval)
    ax.set_ylabel("accounts long / accounts short")
    utc_time_axis(ax)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize="small", ncols=4)
    sources = set(window.sources) | set(hourly["source"].dropna().astype(str))
    shown = window.with_sources(sources)
    return finish(fig, shown)


def finish(fig: Figure, window: Window) -> Figure:
    return style.finish_figure(
        fig, f"Account long/short ratio per {window.interval} bar, under the liquidations", window
    )


def _published(hourly: pd.DataFrame, grid: pd.DatetimeIndex) -> pd.Series:
    """Per grid bar: whether any series has a ratio there."""
    if hourly.empty:
        return pd.Series(False, index=grid)
    seen = hourly[hourly["long_short_ratio"].notna()]["ts"]
    return pd.Series(grid.isin(pd.DatetimeIndex(seen)), index=grid)


def _liquidations(ax: Axes, table: pd.DataFrame, window: Window) -> None:
    """Longs liquidated up, shorts down ($M), missing and partial bars shaded."""
    seen = table[~table["missing"]]
    x = date_numbers(bar_times(seen))
    width = bar_width(window.interval) * 0.9
    ax.bar(x, seen["long_usd"], width, align="edge", color=style.LONG_COLOR,
           label="longs liquidated", gid="long")  # fmt: skip
    ax.bar(x, -seen["short_usd"], width, align="edge", color=style.SHORT_COLOR,
           label="shorts liquidated (below 0)", gid="short")  # fmt: skip
    shade_coverage(ax, table, window.interval)
    window_xlim(ax, bar_times(table), window.interval)
    style.signed_usd_axis(ax)
    ax.set_ylabel("liquidated per bar ($M)")
    ax.legend(loc="upper right", fontsize="small")
