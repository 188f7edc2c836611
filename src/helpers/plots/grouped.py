"""Grouped long/short bars: one pair per row of a table (a venue, a coin), longs red and
shorts green (:mod:`helpers.plots.style`), "no data" where a row has no figure, never a zero
bar. Shared by the venue and coin splits.

Input: a frame with ``long_usd`` and ``short_usd`` (US dollars liquidated; a long is a long
POSITION liquidated), one row per group, in the order to draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from helpers.plots import style

NO_DATA = "no data"
WIDTH = 0.38


def grouped_long_short(
    ax: Axes, values: pd.DataFrame, labels: Sequence[str], *, value_labels: bool = False
) -> None:
    """Draw the pairs on ``ax`` with ``labels`` under them; ``value_labels`` writes each
    bar's US-dollar figure on top of it (``gid`` ``long_label`` / ``short_label``). Bars
    carry ``gid`` ``long`` / ``short``, the "no data" texts ``no_data``."""
    x = np.arange(len(values))
    for offset, col, color, side in (
        (-WIDTH / 2, "long_usd", style.LONG_COLOR, "long"),
        (WIDTH / 2, "short_usd", style.SHORT_COLOR, "short"),
    ):
        heights = values[col].to_numpy(dtype="float64")
        has = ~np.isnan(heights)
        ax.bar(x[has] + offset, heights[has], WIDTH, color=color, gid=side,
               label=f"{side}s liquidated")  # fmt: skip
        if value_labels:
            for i in np.flatnonzero(has):
                ax.annotate(style.usd_short(heights[i]), (x[i] + offset, heights[i]),
                            xytext=(0, 2), textcoords="offset points", ha="center",
                            va="bottom", fontsize=7, gid=f"{side}_label")  # fmt: skip
    for i in np.flatnonzero(values["long_usd"].isna().to_numpy()):
        ax.text(x[i], 0, NO_DATA, ha="center", va="bottom", color="dimgrey",
                fontstyle="italic", gid="no_data")  # fmt: skip
    ax.set_xticks(x, list(labels))
    if value_labels:
        both = values[["long_usd", "short_usd"]].to_numpy(dtype="float64")
        top = float(np.nanmax(both, initial=0))
        if top > 0:
            ax.set_ylim(0, top * 1.15)
