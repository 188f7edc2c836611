"""The split by coin: longs and shorts liquidated per coin over the window and in the worst
bar, as grouped bars (longs red, shorts green, :mod:`helpers.plots.style`) with their
US-dollar figures. A coin without data shows "no data", never a zero bar.

Input is :func:`helpers.metrics.worst_hour.side_split` by coin (index ``coin``).
"""

from __future__ import annotations

import matplotlib.ticker as mticker
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.plots import style
from helpers.plots.annotate import bar_word
from helpers.plots.grouped import grouped_long_short
from helpers.timegrid import Window


def _grouped(ax: Axes, split: pd.DataFrame, title: str) -> None:
    grouped_long_short(ax, split, [str(c) for c in split.index], value_labels=True)
    ax.set_title(title, fontsize="medium")
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: style.usd_short(v)))
    ax.set_ylabel("liquidated (US$)")


def plot_coin_split(
    window_split: pd.DataFrame,
    window: Window,
    worst_split: pd.DataFrame | None = None,
    worst_ts: pd.Timestamp | None = None,
) -> Figure:
    """Longs and shorts per coin over the window and, with ``worst_split``, in the worst
    bar opening at ``worst_ts`` (a second panel)."""
    panels = 1 if worst_split is None or worst_ts is None else 2
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    _grouped(axes[0], window_split, "whole window")
    if worst_split is not None and worst_ts is not None:
        word = bar_word(window.interval)
        _grouped(axes[1], worst_split.reindex(window_split.index),
                 f"worst {word}, {pd.Timestamp(worst_ts):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    style.long_short_legend(fig)
    return style.finish_figure(fig, "Liquidations by coin", window)
