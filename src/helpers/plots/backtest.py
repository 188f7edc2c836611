"""The ESTIMATED map's backtest as a figure: per day, the map's rank correlation and top-bin
share against the REALISED liquidations of the next 24 h, beside the naive distance
baseline's. A day without a map or without realised events has no bar (missing, not 0).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from helpers.metrics.map_backtest import BacktestResult
from helpers.plots import style
from helpers.timegrid import Window

MAP_COLOR = "#4c72b0"
BASELINE_COLOR = "#999999"


def plot_map_backtest(r: BacktestResult, window: Window) -> Figure:
    """Two panels over the scored days: Spearman rank correlation (-1..1) and the share of
    realised notional in the map's top bins (0..1), map and baseline side by side."""
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    axes = fig.subplots(1, 2)
    labels = r.days["day"].dt.strftime("%m-%d").tolist()
    x = np.arange(len(labels))
    panels = (
        ("rank_corr", "rank correlation (Spearman)", (-1.0, 1.0)),
        ("top_share", f"share of REALISED $ in the top {r.top_bins} bins", (0.0, 1.0)),
    )
    for ax, (name, title, limits) in zip(axes, panels, strict=True):
        for offset, who, color, label in (
            (-0.2, "map", MAP_COLOR, "ESTIMATED map"),
            (0.2, "baseline", BASELINE_COLOR, "distance baseline"),
        ):
            ax.bar(x + offset, r.days[f"{name}_{who}"], width=0.4, color=color, label=label)
        ax.set_xticks(x, labels)
        ax.set_ylim(*limits)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(title)
        ax.set_xlabel("day scored (UTC), next 24 h")
        if name == "top_share":
            style.percent_axis(ax)
        for i in np.flatnonzero(r.days["realised_usd"].isna() | r.days[f"{name}_map"].isna()):
            ax.text(x[i], limits[0] + 0.02 * (limits[1] - limits[0]), "no data",
                    rotation=90, ha="center", va="bottom", fontsize=8, color="grey")  # fmt: skip
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return style.finish_figure(
        fig, f"ESTIMATED {r.base} liquidation map vs REALISED next 24 h, by day", window
    )
