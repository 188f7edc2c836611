"""The market-cap heatmap: a treemap of the top coins, area by market cap, colour by 24h change.

Input is :func:`helpers.metrics.marketmap.top_by_cap`. Colours come from a diverging colormap
(red = down, green = up) through :class:`matplotlib.colors.TwoSlopeNorm` centred at 0 %,
with symmetric limits so equal moves up and down get equally strong colours. Coins without a
24h change are grey and hatched, never coloured as 0 %.
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import squarify
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, TwoSlopeNorm, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.typing import ColorType

from helpers.metrics.marketmap import is_history
from helpers.plots import style
from helpers.plots.imbalance import MISSING_COLOR
from helpers.plots.style import finish_figure
from helpers.timegrid import Window

CMAP = "RdYlGn"
WIDTH, HEIGHT = 100.0, 60.0
MIN_LABEL_AREA = 12.0
"""Tiles smaller than this (in the 100 x 60 layout units) get no label."""


def change_norm(changes: pd.Series) -> TwoSlopeNorm:
    """A norm centred at 0 % with limits +-(largest absolute known change), at least +-1 %."""
    known = changes.dropna()
    limit = max(float(known.abs().max()) if len(known) else 0.0, 1.0)
    return TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)


def tile_label(symbol: str, cap_usd: float, change_pct: float) -> str:
    """``BTC\\n$1.70T\\n-2.1%`` (``n/a`` for a missing change)."""
    change = "n/a" if pd.isna(change_pct) else f"{change_pct:+.1f}%".replace("+-", "-")
    return f"{symbol.upper()}\n{style.fmt_usd(cap_usd, 2)}\n{change}"


def treemap_rects(caps: Iterable[float]) -> list[dict[str, float]]:
    """Squarified tiles (x, y, dx, dy) for caps sorted largest first, filling 100 x 60."""
    sizes = squarify.normalize_sizes(list(caps), WIDTH, HEIGHT)
    return squarify.squarify(sizes, 0.0, 0.0, WIDTH, HEIGHT)


def text_color(facecolor: ColorType) -> str:
    """Black or white, whichever reads better on ``facecolor`` (by relative luminance)."""
    r, g, b = to_rgb(facecolor)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def _tile_color(change: float, cmap: Colormap, norm: TwoSlopeNorm) -> ColorType:
    return MISSING_COLOR if pd.isna(change) else cmap(norm(change))


def plot_market_treemap(
    top: pd.DataFrame,
    window: Window,
    coverage: str = "market-wide caps",
) -> Figure:
    """Treemap of ``top`` (largest first): tile area proportional to ``market_cap_usd``,
    colour by ``change_24h_pct`` on a diverging scale centred at 0, labels
    ``BTC / $1.70T / -2.1%``, colourbar in %. The snapshot time is in the title (for rows
    from a per-coin history, the span of their point times, and the title says history);
    ``coverage`` stands where the venues go in other titles."""
    fig = Figure(figsize=(11, 6.8), layout="constrained")
    ax = fig.subplots()
    cmap = mpl.colormaps[CMAP]
    norm = change_norm(top["change_24h_pct"])
    ordered = top.sort_values("market_cap_usd", ascending=False, kind="stable")
    rects = treemap_rects(ordered["market_cap_usd"]) if len(ordered) else []
    tiles = ordered[["symbol", "market_cap_usd", "change_24h_pct"]].itertuples(
        index=False, name=None
    )
    for rect, (symbol, cap_usd, change_pct) in zip(rects, tiles, strict=True):
        missing = pd.isna(change_pct)
        color = _tile_color(change_pct, cmap, norm)
        ax.add_patch(
            Rectangle(
                (rect["x"], rect["y"]),
                rect["dx"],
                rect["dy"],
                facecolor=color,
                edgecolor="white",
                linewidth=1.5,
                hatch="//" if missing else None,
                gid=f"tile:{symbol}",
            )
        )
        area = rect["dx"] * rect["dy"]
        if area >= MIN_LABEL_AREA:
            size = float(np.clip(np.sqrt(area) * 0.9, 6, 16))
            ax.text(
                rect["x"] + rect["dx"] / 2,
                rect["y"] + rect["dy"] / 2,
                tile_label(str(symbol), cap_usd, change_pct),
                ha="center",
                va="center",
                fontsize=size,
                color=text_color(color),
                gid=f"label:{symbol}",
            )
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(HEIGHT, 0)
    ax.set_axis_off()
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01)
    cbar.set_label("24h change (%)")
    cbar.ax.yaxis.set_major_formatter(mticker.PercentFormatter(xmax=100, decimals=0))
    if ordered["change_24h_pct"].isna().any():
        ax.legend(
            handles=[
                Rectangle((0, 0), 1, 1, facecolor=MISSING_COLOR, hatch="//", label="no 24h change")
            ],
            loc="upper left",
            bbox_to_anchor=(0, 0),
            fontsize="small",
            frameon=False,
        )
    what = f"Top {len(top)} coins by market cap, coloured by 24h change ({snapshot_label(top)})"
    return finish_figure(fig, what, window, venues=[coverage])


def snapshot_label(top: pd.DataFrame) -> str:
    """``snapshot 2025-03-04 14:45 UTC``, or for historical rows ``history, points
    2025-03-03 22:58 to 23:59 UTC`` (``no snapshot`` when empty)."""
    if top.empty:
        return "no snapshot"
    newest, oldest = pd.Timestamp(top["ts"].max()), pd.Timestamp(top["ts"].min())
    if not is_history(top["source"]).any():
        return f"snapshot {newest:%Y-%m-%d %H:%M} UTC"
    if newest.floor("min") == oldest.floor("min"):
        return f"history, point at {newest:%Y-%m-%d %H:%M} UTC"
    to = f"{newest:%H:%M}" if newest.date() == oldest.date() else f"{newest:%Y-%m-%d %H:%M}"
    return f"history, points {oldest:%Y-%m-%d %H:%M} to {to} UTC"
