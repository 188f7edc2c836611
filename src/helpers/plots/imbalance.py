"""Figures for the liquidation-imbalance notebook: mirrored bars, dominance and net delta,
and cumulative sides.

Every function takes the tables of :mod:`helpers.metrics.imbalance` plus the window, venues and
sources for the title, and returns a :class:`matplotlib.figure.Figure` that is not registered
with pyplot (so a notebook shows it once, as the cell's value). Money axes are in US dollars
formatted as $M; time axes are bar OPEN times in UTC. Missing bars are shaded grey and
partial bars (not every venue and symbol reported) pale yellow; neither is drawn as a zero bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from helpers.plots import style
from helpers.plots.style import finish_figure
from helpers.timegrid import Window, interval_timedelta

MISSING_COLOR = "#b0b0b0"
PARTIAL_COLOR = "#f6e3a1"
MISSING_LABEL = "no data (no venue reported)"
PARTIAL_LABEL = "partial (not every venue and symbol reported)"


def new_figure(
    nrows: int = 1, height: float = 4.5, sharex: bool = True
) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure with ``nrows`` stacked axes, not managed by pyplot."""
    fig = Figure(figsize=(11, height), layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, list(axes)


def bar_times(frame: pd.DataFrame) -> pd.DatetimeIndex:
    """The bar open times (UTC) that a bar table such as an imbalance table is indexed by."""
    return cast(pd.DatetimeIndex, frame.index)


def date_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    """Matplotlib date numbers of UTC timestamps."""
    return mdates.date2num(index.tz_convert("UTC").tz_localize(None).to_numpy())


def bar_width(interval: str) -> float:
    """The width of one bar of ``interval`` in matplotlib date units (days)."""
    return interval_timedelta(interval) / pd.Timedelta("1D")


def window_xlim(ax: Axes, index: pd.DatetimeIndex, interval: str) -> None:
    """Limit the x axis to the window: first bar open to last bar close."""
    if len(index):
        x = date_numbers(index)
        ax.set_xlim(x[0], x[-1] + bar_width(interval))


def utc_time_axis(ax: Axes) -> None:
    """Date ticks in UTC on the x axis, labelled as bar open times."""
    style.utc_time_axis(ax, "bar open time (UTC)")


def shade_bars(
    ax: Axes,
    index: pd.DatetimeIndex,
    mask: Iterable[bool],
    interval: str,
    color: str,
    label: str,
    hatch: str | None = None,
) -> int:
    """Shade the bars of ``index`` where ``mask`` is True (consecutive bars as one span).

    Returns the number of spans drawn; only the first carries ``label`` (for the legend).
    """
    return style.shade_runs(
        ax,
        index,
        mask,
        interval_timedelta(interval),
        label=label,
        gid="missing" if label == MISSING_LABEL else "partial",
        facecolor=color,
        hatch=hatch,
        alpha=0.6,
    )


def shade_coverage(ax: Axes, table: pd.DataFrame, interval: str) -> None:
    """Grey spans over missing bars and pale spans over partial bars of an imbalance table."""
    shade_bars(ax, bar_times(table), table["missing"], interval, MISSING_COLOR, MISSING_LABEL, "//")
    if "partial" in table:
        shade_bars(ax, bar_times(table), table["partial"], interval, PARTIAL_COLOR, PARTIAL_LABEL)


def plot_mirrored_bars(
    table: pd.DataFrame,
    window: Window,
) -> Figure:
    """Longs liquidated as bars up, shorts as bars down (US dollars, axis in $M), per bar.

    Only observed bars are drawn; missing bars are shaded grey, partial bars pale yellow.
    """
    fig, (ax,) = new_figure()
    seen = table[~table["missing"]]
    x = date_numbers(bar_times(seen))
    width = bar_width(window.interval) * 0.9
    ax.bar(
        x,
        seen["long_usd"],
        width,
        align="edge",
        color=style.LONG_COLOR,
        label="longs liquidated",
        gid="long",
    )
    ax.bar(
        x,
        -seen["short_usd"],
        width,
        align="edge",
        color=style.SHORT_COLOR,
        label="shorts liquidated (drawn below 0)",
        gid="short",
    )
    shade_coverage(ax, table, window.interval)
    window_xlim(ax, bar_times(table), window.interval)
    style.signed_usd_axis(ax, "longs", "shorts", corner="outside")
    ax.set_ylabel("liquidated per bar ($M; shorts below 0)")
    utc_time_axis(ax)
    ax.legend(loc="upper left", fontsize="small")
    return finish_figure(fig, f"Long vs short liquidations per {window.interval} bar", window)


DOMINANCE_MIN_TOTAL_USD = 1_000_000.0
"""Default of ``min_total_usd`` in :func:`plot_dominance_delta`: a bar with less than $1M
liquidated (longs + shorts, all venues) gets no dominance bar, so a quiet bar's 100 % does
not look like a flush's."""

DOMINANCE_MIN_ALPHA = 0.25
"""Opacity of the smallest drawn dominance bar; the largest is opaque."""


def dominance_alpha(total_usd: pd.Series, min_total_usd: float) -> np.ndarray:
    """Opacity per dominance bar, growing with the square root of the bar's total US dollars
    from :data:`DOMINANCE_MIN_ALPHA` (at ``min_total_usd``) to 1 (at the window's largest
    bar), so a $0.5M bar is faint beside a $200M one."""
    total = total_usd.to_numpy(dtype="float64")
    if not len(total):
        return total
    top = float(np.nanmax(total))
    if not top > min_total_usd:
        return np.ones_like(total)
    lo, hi = np.sqrt(max(min_total_usd, 0.0)), np.sqrt(top)
    frac = np.clip((np.sqrt(total) - lo) / (hi - lo), 0.0, 1.0)
    return DOMINANCE_MIN_ALPHA + (1 - DOMINANCE_MIN_ALPHA) * frac


def plot_dominance_delta(
    table: pd.DataFrame,
    window: Window,
    *,
    min_total_usd: float = DOMINANCE_MIN_TOTAL_USD,
) -> Figure:
    """Top: long dominance L/(L+S) per bar in %, drawn as bars up or down from the 50 % line,
    only for bars whose total L + S is at least ``min_total_usd`` (US dollars; default
    :data:`DOMINANCE_MIN_TOTAL_USD`), each bar's opacity growing with its size
    (:func:`dominance_alpha`); the legend states both. No bar where dominance is undefined or
    the bar is missing. Bottom: net delta L - S per bar in US dollars on a signed axis (more
    longs up, more shorts down, both labelled as positive amounts)."""
    fig, (top, bottom) = new_figure(2, height=6.5)
    width = bar_width(window.interval)
    defined = table[table["long_dominance"].notna()]
    small = defined["total_usd"] < min_total_usd
    shown = defined[~small]
    dominance = shown["long_dominance"]
    colors = np.where(dominance >= 0.5, style.LONG_COLOR, style.SHORT_COLOR)
    alphas = dominance_alpha(shown["total_usd"], min_total_usd)
    rgba = [to_rgba(c, a) for c, a in zip(colors, alphas, strict=True)]
    top.bar(
        date_numbers(bar_times(shown)),
        dominance - 0.5,
        width * 0.9,
        bottom=0.5,
        align="edge",
        color=rgba,
        label=(
            "long share of liquidated USD (darker = larger bar; "
            f"bars under {style.usd_short(min_total_usd)} not drawn)"
        ),
        gid="dominance",
    )
    top.axhline(0.5, color="black", linewidth=0.8, linestyle="--", label="50 % (balanced)")
    if small.any():
        top.text(
            0.995,
            0.02,
            f"{int(small.sum())} bars under {style.usd_short(min_total_usd)} liquidated: no bar",
            transform=top.transAxes,
            ha="right",
            va="bottom",
            fontsize="small",
            color="dimgrey",
            gid="dominance_masked",
        )
    top.set_ylim(0, 1)
    style.percent_axis(top)
    top.set_ylabel("long dominance L/(L+S) (%)")
    seen = table[~table["missing"]]
    net = seen["net_usd"]
    colors = np.where(net >= 0, style.LONG_COLOR, style.SHORT_COLOR)
    bottom.bar(
        date_numbers(bar_times(seen)), net, width * 0.9, align="edge", color=colors, gid="net"
    )
    style.signed_usd_axis(bottom, "more longs liquidated", "more shorts liquidated")
    bottom.set_ylabel("net delta L - S per bar ($M)")
    for ax in (top, bottom):
        shade_coverage(ax, table, window.interval)
        window_xlim(ax, bar_times(table), window.interval)
    utc_time_axis(bottom)
    top.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, fontsize="small", frameon=False)
    return finish_figure(fig, f"Long dominance and net delta per {window.interval} bar", window)


def plot_cumulative(
    cumulative: pd.DataFrame,
    window: Window,
) -> Figure:
    """Running long and short US dollars over the window ($M), from
    :func:`helpers.metrics.imbalance.cumulative_sides`, as steps: each bar's total applies from the
    bar's CLOSE. Missing bars are shaded; they add nothing, so the line runs flat through them."""
    fig, (ax,) = new_figure()
    x_edges = date_numbers(bar_times(cumulative))
    if len(x_edges):
        x_edges = np.append(x_edges, x_edges[-1] + bar_width(window.interval))
    for side, color in (("long", style.LONG_COLOR), ("short", style.SHORT_COLOR)):
        running = cumulative[f"cum_{side}_usd"].to_numpy(dtype="float64")
        first = np.nan if len(running) == 0 or np.isnan(running[0]) else 0.0
        ax.step(
            x_edges,
            np.concatenate([[first], running])[: len(x_edges)],
            where="post",
            color=color,
            label=f"{side}s liquidated, cumulative",
            gid=f"cum_{side}",
        )
    shade_bars(
        ax,
        bar_times(cumulative),
        cumulative["missing"],
        window.interval,
        MISSING_COLOR,
        MISSING_LABEL,
        "//",
    )
    window_xlim(ax, bar_times(cumulative), window.interval)
    style.usd_millions_axis(ax)
    ax.set_ylabel("cumulative liquidated ($M)")
    utc_time_axis(ax)
    ax.legend(loc="upper left", fontsize="small")
    return finish_figure(fig, "Cumulative long vs short liquidations", window)


def no_data_background(ax: Axes, x0: float, y0: float, width: float, height: float) -> None:
    """Hatch grey under a heatmap's cells, so a cell left transparent (no data) reads as
    missing, not as zero."""
    from matplotlib.patches import Rectangle

    ax.add_patch(
        Rectangle(
            (x0, y0),
            width,
            height,
            facecolor=MISSING_COLOR,
            edgecolor="dimgrey",
            hatch="//",
            linewidth=0,
            zorder=0,
            gid="no_data_background",
        )
    )
