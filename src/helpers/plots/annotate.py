"""Marks on a time chart: the worst bar and the spike bars, each a marker with a label giving
its US-dollar figure, so the bar a page talks about is found on the chart.

The functions draw on an existing figure (for example
:func:`helpers.plots.imbalance.plot_mirrored_bars` or
:func:`helpers.plots.outlook.plot_liquidations_vs_range`) and return it. Markers sit at the
CENTRE of the bar (open time + half an interval) in UTC; artists carry ``gid`` ``worst_bar``
and ``spike`` (markers) and ``worst_bar_label`` / ``spike_label`` (labels).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.plots import style
from helpers.timegrid import Window
from helpers.units import fmt_usd_sig

WORST_COLOR = "black"
SPIKE_COLOR = "#6a3d9a"
LABEL_GAP_BARS = 8
"""Spikes closer than this many bars share one label."""
LABEL_LEVELS = 2
"""Neighbouring spike labels alternate between this many rows."""
SPIKE_SEPARATOR = " \u00b7 "


def bar_word(interval: str) -> str:
    """``hour`` for 1h bars, ``day`` for 1d, otherwise ``<interval> bar``."""
    return {"1h": "hour", "1d": "day"}.get(interval, f"{interval} bar")


def _x(ts: pd.Timestamp, window: Window, at_open: bool = False) -> float:
    t = pd.Timestamp(ts).tz_convert("UTC").tz_localize(None)
    return float(mdates.date2num((t if at_open else t + window.step / 2).to_datetime64()))


def worst_label(ts: pd.Timestamp, long_usd: float, short_usd: float, interval: str) -> str:
    """``worst hour 2025-11-13 14:00 UTC: longs $242.7M, shorts $3.82M``: the digits of the
    key figures (:func:`helpers.units.fmt_usd_sig`), so chart and table agree."""
    return (
        f"worst {bar_word(interval)} {pd.Timestamp(ts):%Y-%m-%d %H:%M} UTC: "
        f"longs {fmt_usd_sig(long_usd)}, shorts {fmt_usd_sig(short_usd)}"
    )


def mark_worst_bar(
    ax: Axes,
    ts: pd.Timestamp,
    long_usd: float,
    short_usd: float,
    window: Window,
    y: float | None = None,
    at_open: bool = False,
) -> None:
    """A black downward triangle over the worst bar at height ``y`` (default: its
    ``long_usd``), a dotted line through the bar, and a boxed label :func:`worst_label` near
    the top of the axes, joined to the marker; the y axis grows to fit it."""
    height = long_usd if y is None else y
    x = _x(ts, window, at_open)
    ax.plot([x], [height], marker="v", color=WORST_COLOR, markersize=9, zorder=5, gid="worst_bar")
    ax.axvline(x, color=WORST_COLOR, linewidth=0.7, linestyle=":", zorder=1, gid="worst_bar_line")
    _headroom(ax, height, 1.45)
    x0, x1 = ax.get_xlim()
    ax.annotate(
        worst_label(ts, long_usd, short_usd, window.interval),
        xy=(x, height),
        xytext=(x, 0.95),
        textcoords=("data", "axes fraction"),
        ha=_label_alignment((x - x0) / (x1 - x0)),
        va="top",
        fontsize="small",
        fontweight="bold",
        parse_math=False,
        bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "alpha": 0.9, "lw": 0.5},
        arrowprops={"arrowstyle": "-", "color": WORST_COLOR, "lw": 0.6},
        zorder=6,
        gid="worst_bar_label",
    )


def _label_alignment(at: float) -> str:
    """How the worst bar's label (about half the axes wide) sits on the bar at ``at`` (its
    fraction of the x axis) so it stays inside the figure: starting at the bar in the left
    part, ending there in the right part, centred on it in the middle fifth."""
    if at < 0.4:
        return "left"
    return "right" if at > 0.6 else "center"


def _clusters(xs: Sequence[float], gap: float) -> list[list[int]]:
    """Indices of ``xs`` (ascending) grouped where neighbours are closer than ``gap``."""
    groups: list[list[int]] = []
    for i, x in enumerate(xs):
        if groups and x - xs[groups[-1][-1]] < gap:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def mark_spikes(
    ax: Axes,
    times: Sequence[pd.Timestamp],
    values: Sequence[float],
    window: Window,
    heights: Sequence[float] | None = None,
    skip: pd.Timestamp | None = None,
    at_open: bool = False,
) -> int:
    """A purple marker over each spike bar at height ``heights`` (default ``values``) and a
    small label with ``values`` as US dollars (``$21.6M``). Spikes closer than
    :data:`LABEL_GAP_BARS` bars share one label over the highest of them, their figures in
    time order (``$17.2M · $218.1M · $40.8M``); neighbouring labels alternate between two
    rows so they do not overlap. ``skip`` (the worst bar, labelled on its own) gets no
    mark. Returns the number of spikes marked."""
    ys = list(values if heights is None else heights)
    keep = [
        (pd.Timestamp(t), float(v), float(y))
        for t, v, y in zip(times, values, ys, strict=True)
        if not (pd.isna(v) or pd.isna(y)) and (skip is None or pd.Timestamp(t) != skip)
    ]
    keep.sort(key=lambda item: item[0])
    xs = [_x(t, window, at_open) for t, _, _ in keep]
    for i, (_, _, y) in enumerate(keep):
        ax.plot([xs[i]], [y], marker="v", color=SPIKE_COLOR, markersize=6, zorder=4, gid="spike")
    gap = LABEL_GAP_BARS * (window.step / pd.Timedelta("1D"))
    for n, group in enumerate(_clusters(xs, gap)):
        top = max(keep[i][2] for i in group)
        ax.annotate(
            SPIKE_SEPARATOR.join(style.fmt_usd(keep[i][1]) for i in group),
            xy=(sum(xs[i] for i in group) / len(group), top),
            xytext=(0, 6 + 10 * (n % LABEL_LEVELS)),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            color=SPIKE_COLOR,
            parse_math=False,
            zorder=4,
            gid="spike_label",
        )
    if keep:
        _headroom(ax, max(y for _, _, y in keep), 1.3)
    return len(keep)


def _headroom(ax: Axes, top: float, factor: float) -> None:
    lo, hi = ax.get_ylim()
    if np.isfinite(top) and top * factor > hi:
        ax.set_ylim(lo, top * factor)


def mark_worst_and_spikes(
    fig: Figure,
    window: Window,
    worst: tuple[pd.Timestamp, float, float] | None,
    spikes: pd.DataFrame,
    heights: pd.Series | None = None,
    ax_index: int = 0,
) -> Figure:
    """Mark the worst bar ``(ts, long_usd, short_usd)`` and the spike bars (a
    :func:`helpers.metrics.imbalance.spike_bars` frame: its index and ``long_usd``) on
    axes ``ax_index`` of ``fig``, and add both to its legend.

    ``heights`` (indexed by bar open time) places the markers on a curve other than the
    bars' longs, such as a rolling sum drawn at bar open times (the marks then sit at the
    bar's open, on the curve); labels still give the bar's own figures."""
    ax = fig.axes[ax_index]

    def at(ts: pd.Timestamp, fallback: float) -> float:
        if heights is None:
            return fallback
        value = heights.get(ts, np.nan)
        return float(value) if pd.notna(value) else fallback

    times = list(pd.DatetimeIndex(spikes.index))
    longs = [float(v) for v in spikes["long_usd"]] if len(spikes) else []
    skip = worst[0] if worst is not None else None
    ys = [at(t, v) for t, v in zip(times, longs, strict=True)]
    on_curve = heights is not None
    mark_spikes(ax, times, longs, window, ys, skip, on_curve)
    if worst is not None:
        ts, long_usd, short_usd = worst
        mark_worst_bar(ax, ts, long_usd, short_usd, window, at(ts, long_usd), on_curve)
    _legend_marks(ax, worst is not None, len(times), window.interval)
    return fig


def _legend_marks(ax: Axes, worst: bool, spikes: int, interval: str) -> None:
    from matplotlib.lines import Line2D

    handles, _labels = ax.get_legend_handles_labels()
    extra = []
    if worst:
        label = f"worst {bar_word(interval)}"
        extra.append(Line2D([], [], color=WORST_COLOR, marker="v", linestyle="", label=label))
    if spikes:
        label = f"spike {bar_word(interval)}s ({spikes}), longs"
        extra.append(Line2D([], [], color=SPIKE_COLOR, marker="v", linestyle="", label=label))
    if extra:
        ax.legend(handles=[*handles, *extra], loc="upper left", fontsize="small")
