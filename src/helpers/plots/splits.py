"""The split by coin: longs and shorts liquidated per coin over the window and in the worst
bar, as grouped bars (longs red, shorts green, :mod:`helpers.plots.style`) with their
US-dollar figures. A coin without data shows "no data", never a zero bar.

Input is :func:`helpers.metrics.worst_hour.side_split` by coin (index ``coin``).
"""

from __future__ import annotations

import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.plots import style
from helpers.plots.annotate import bar_word
from helpers.timegrid import Window

NO_DATA = "no data"


def _grouped(ax: Axes, split: pd.DataFrame, title: str) -> None:
    coins = [str(c) for c in split.index]
    x = np.arange(len(coins))
    width = 0.38
    for offset, col, color, side in (
        (-width / 2, "long_usd", style.LONG_COLOR, "long"),
        (width / 2, "short_usd", style.SHORT_COLOR, "short"),
    ):
        values = split[col].to_numpy(dtype="float64")
        has = ~np.isnan(values)
        ax.bar(x[has] + offset, values[has], width, color=color, gid=side)
        for i in np.flatnonzero(has):
            ax.annotate(style.usd_short(values[i]), (x[i] + offset, values[i]), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7,
                        gid=f"{side}_label")  # fmt: skip
    for i in np.flatnonzero(split["long_usd"].isna().to_numpy()):
        ax.text(x[i], 0, NO_DATA, ha="center", va="bottom", color="dimgrey",
                fontstyle="italic", gid="no_data")  # fmt: skip
    ax.set_xticks(x, coins)
    ax.set_title(title, fontsize="medium")
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: style.usd_short(v)))
    ax.set_ylabel("liquidated (US$)")
    top = float(np.nanmax(split[["long_usd", "short_usd"]].to_numpy(dtype="float64"), initial=0))
    if top > 0:
        ax.set_ylim(0, top * 1.15)


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
