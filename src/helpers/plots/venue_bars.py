"""Figures of liquidations BY VENUE in colour: per-venue stacked bars per bar (longs up,
shorts down) and the worst bar split by venue.

Every venue has its colour on every page (:func:`helpers.plots.style.venue_color`), none of
them a red or a green, so the side is told by the direction (longs above 0, shorts below;
axis labels are positive dollars on both sides, :func:`helpers.plots.style.signed_usd_axis`)
and shorts are hatched. Venues are labelled by display name (:func:`helpers.venues.display_name`);
artists' ``gid`` keep the ids (``long:binance``). A venue bar without data is not drawn
(missing, not zero); bars where no venue reported are shaded as on the imbalance page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from helpers.plots import style
from helpers.plots.annotate import bar_word, mark_worst_bar
from helpers.plots.grouped import NO_DATA
from helpers.plots.imbalance import (
    bar_times,
    bar_width,
    date_numbers,
    new_figure,
    shade_coverage,
    utc_time_axis,
    window_xlim,
)
from helpers.timegrid import Window
from helpers.venues import display_name

SHORT_HATCH = "////"


def bar_collection(
    x: np.ndarray, bottom: np.ndarray, height: np.ndarray, width: float, **style_kw: object
) -> PolyCollection:
    """Bars ``[x, x + width] x [bottom, bottom + height]`` as ONE artist (a
    :class:`~matplotlib.collections.PolyCollection`, one rectangle per bar): hundreds of bars
    draw in a fraction of the time of one patch each."""
    x1 = x + width
    top = bottom + height
    verts = np.stack(
        [np.column_stack(p) for p in ((x, bottom), (x, top), (x1, top), (x1, bottom))], axis=1
    )
    return PolyCollection(list(verts), **style_kw)  # type: ignore[arg-type]


def _stack(values: pd.DataFrame) -> pd.DataFrame:
    """The bottom of each venue's segment: the sum of the venues before it (missing as 0)."""
    filled = values.fillna(0.0)
    return filled.cumsum(axis=1) - filled


def plot_venue_stacked(
    long_hourly: pd.DataFrame,
    short_hourly: pd.DataFrame,
    window: Window,
    table: pd.DataFrame | None = None,
    worst: tuple[pd.Timestamp, float, float] | None = None,
) -> Figure:
    """Per-venue stacked bars per bar: each venue's longs stacked upwards and its shorts
    downwards (hatched), in the venue's colour, US dollars.

    ``long_hourly`` / ``short_hourly`` are :func:`helpers.metrics.venues.venue_hourly` of
    the family bars (NaN: not observed, not drawn). ``table`` (the imbalance table) shades
    missing and partial bars; ``worst`` ``(ts, long_usd, short_usd)`` marks the worst bar.
    """
    fig, (ax,) = new_figure(height=5.0)
    venues = [str(v) for v in long_hourly.columns]
    x = date_numbers(bar_times(long_hourly))
    width = bar_width(window.interval) * 0.9
    shorts = short_hourly.reindex(index=long_hourly.index, columns=long_hourly.columns)
    up, down = _stack(long_hourly), _stack(shorts)
    for venue in venues:
        color = style.venue_color(venue)
        for side, values, bottoms, sign in (
            ("long", long_hourly[venue], up[venue], 1.0),
            ("short", shorts[venue], down[venue], -1.0),
        ):
            seen = values.notna().to_numpy()
            bars = bar_collection(
                x[seen],
                sign * bottoms.to_numpy()[seen],
                sign * values.to_numpy()[seen],
                width,
                facecolor=color,
                hatch=SHORT_HATCH if side == "short" else None,
                edgecolor="white" if side == "short" else "none",
                linewidth=0,
                gid=f"{side}:{venue}",
            )
            if side == "long":
                bars.set_label(display_name(venue))
            ax.add_collection(bars, autolim=True)
    ax.autoscale_view()
    if table is not None:
        shade_coverage(ax, table, window.interval)
    window_xlim(ax, bar_times(long_hourly), window.interval)
    style.signed_usd_axis(ax, "longs liquidated", "shorts liquidated (hatched)")
    ax.set_ylabel(f"liquidated per {bar_word(window.interval)} (US$)")
    utc_time_axis(ax)
    if worst is not None:
        ts, long_usd, short_usd = worst
        mark_worst_bar(ax, ts, long_usd, short_usd, window)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", title="venue")
    what = f"Liquidations per {bar_word(window.interval)} by venue (longs up, shorts down)"
    return style.finish_figure(fig, what, window)


def plot_worst_by_venue(split: pd.DataFrame, window: Window, ts: pd.Timestamp) -> Figure:
    """The worst bar by venue: each venue's longs as a bar up and its shorts as a hatched bar
    down, in the venue's colour, each labelled with its US-dollar figure; a venue without
    data in that bar shows "no data" and no bar. ``split`` is
    :func:`helpers.metrics.worst_hour.side_split` of that bar (index ``venue``)."""
    fig, (ax,) = new_figure(height=4.5, sharex=False)
    venues = [str(v) for v in split.index]
    x = np.arange(len(venues))
    has = split["long_usd"].notna().to_numpy()
    colors = [style.venue_color(v) for v in venues]
    longs = split["long_usd"].to_numpy(dtype="float64")
    shorts = split["short_usd"].to_numpy(dtype="float64")
    for i, venue in enumerate(venues):
        if not has[i]:
            ax.text(x[i], 0, NO_DATA, ha="center", va="bottom", color="dimgrey",
                    fontstyle="italic", gid="no_data")  # fmt: skip
            continue
        ax.bar(x[i], longs[i], 0.6, color=colors[i], gid=f"long:{venue}")
        ax.bar(x[i], -shorts[i], 0.6, color=colors[i], hatch=SHORT_HATCH, edgecolor="white",
               linewidth=0, gid=f"short:{venue}")  # fmt: skip
        ax.annotate(style.usd_short(longs[i]), (x[i], longs[i]), xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize="small",
                    gid="long_label")  # fmt: skip
        ax.annotate(style.usd_short(shorts[i]), (x[i], -shorts[i]), xytext=(0, -3),
                    textcoords="offset points", ha="center", va="top", fontsize="small",
                    gid="short_label")  # fmt: skip
    top = np.nanmax(longs) if has.any() else 1.0
    bottom = np.nanmax(shorts) if has.any() else 0.0
    span = max(top, bottom, 1.0)
    ax.set_ylim(-max(bottom, 0.12 * span) * 1.3, max(top, 0.12 * span) * 1.3)
    ax.set_xticks(x, [display_name(v) for v in venues])
    style.signed_usd_axis(ax, "longs liquidated", "shorts liquidated")
    ax.set_ylabel(f"liquidated in the {bar_word(window.interval)} (US$)")
    ax.legend(
        handles=[
            Patch(facecolor="grey", label="longs (above 0)"),
            Patch(facecolor="grey", hatch=SHORT_HATCH, edgecolor="white", label="shorts (below 0)"),
        ],
        loc="upper right",
        fontsize="small",
    )
    what = f"Worst {bar_word(window.interval)} by venue: {pd.Timestamp(ts):%Y-%m-%d %H:%M} UTC"
    return style.finish_figure(fig, what, window)
