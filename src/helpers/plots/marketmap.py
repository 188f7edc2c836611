"""The market-cap heatmap: a treemap of the top coins, area by market cap, colour by 24h change.

Input is :func:`helpers.metrics.marketmap.top_by_cap`. Colours come from a diverging colormap
(red = down, green = up) through :class:`matplotlib.colors.TwoSlopeNorm` centred at 0 %,
with symmetric limits clipped at +-:data:`CHANGE_CLIP_PCT` so equal moves up and down get
equally strong colours and one outlier does not wash the rest out to neutral. Coins without a
24h change are grey and hatched, never coloured as 0 %; stablecoins are flat grey.
"""

from __future__ import annotations

import textwrap
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

from helpers.metrics.marketmap import is_history, is_stablecoin
from helpers.plots import style
from helpers.plots.imbalance import MISSING_COLOR
from helpers.plots.style import finish_figure
from helpers.timegrid import Window

CMAP = "RdYlGn"
WIDTH, HEIGHT = 100.0, 60.0
MIN_LABEL_AREA = 12.0
"""Tiles smaller than this (in the 100 x 60 layout units) are listed under the map instead
of labelled."""
CHANGE_CLIP_PCT = 3.0
"""Default colour limit (percent): 24h changes of +-3 % or more take the full red or green,
as on the common market maps, so a -0.9 % coin is visibly red beside a -15 % outlier."""
CLIP_QUANTILE = 0.8
"""With ``clip_pct=None``, the colour limit is this quantile of the absolute changes."""
STABLE_COLOR = "#d9d9d9"
"""Stablecoin tiles: a flat light grey, distinct from the hatched grey of a missing change."""


def change_norm(changes: pd.Series, clip_pct: float | None = CHANGE_CLIP_PCT) -> TwoSlopeNorm:
    """A norm centred at 0 % with symmetric limits +-``clip_pct`` (percent); a change beyond
    them saturates at the end colour. ``clip_pct=None`` takes the limit from the data: the
    :data:`CLIP_QUANTILE` quantile of the absolute known changes, at least 1 %."""
    if clip_pct is None:
        known = changes.dropna().abs()
        clip_pct = max(float(known.quantile(CLIP_QUANTILE)) if len(known) else 0.0, 1.0)
    if not clip_pct > 0:
        raise ValueError(f"clip_pct must be a positive percent, got {clip_pct}")
    return TwoSlopeNorm(vcenter=0.0, vmin=-clip_pct, vmax=clip_pct)


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


def _tile_text(symbol: str, cap_usd: float, change_pct: float, stable: bool) -> str:
    if stable:
        return f"{symbol.upper()}\n{style.fmt_usd(cap_usd, 2)}\nstablecoin"
    return tile_label(symbol, cap_usd, change_pct)


def plot_market_treemap(
    top: pd.DataFrame,
    window: Window,
    coverage: str = "market-wide caps",
    *,
    clip_pct: float | None = CHANGE_CLIP_PCT,
) -> Figure:
    """Treemap of ``top`` (largest first): tile area proportional to ``market_cap_usd``,
    colour by ``change_24h_pct`` on a diverging scale centred at 0 and clipped at
    +-``clip_pct`` percent (:func:`change_norm`; larger moves saturate, the colourbar's arrows
    say so), labels ``BTC / $1.70T / -2.1%``. Stablecoins
    (:data:`helpers.metrics.marketmap.STABLECOINS`) are grey, labelled "stablecoin" and
    never red or green. A tile too small for its label is listed under the map
    (``gid="small_tiles"``) with its cap and change, so every coin is named. The snapshot
    time is in the title (for rows from a per-coin history, the span of their point times,
    and the title says history); ``coverage`` stands where the venues go in other titles."""
    fig = Figure(figsize=(11, 6.8), layout="constrained")
    ax = fig.subplots()
    cmap = mpl.colormaps[CMAP]
    ordered = top.sort_values("market_cap_usd", ascending=False, kind="stable")
    stable = is_stablecoin(ordered["symbol"]).to_numpy()
    norm = change_norm(ordered["change_24h_pct"][~stable], clip_pct)
    rects = treemap_rects(ordered["market_cap_usd"]) if len(ordered) else []
    tiles = ordered[["symbol", "market_cap_usd", "change_24h_pct"]].itertuples(
        index=False, name=None
    )
    unlabelled: list[str] = []
    for rect, (symbol, cap_usd, change_pct), is_stable in zip(rects, tiles, stable, strict=True):
        missing = pd.isna(change_pct) and not is_stable
        color = STABLE_COLOR if is_stable else _tile_color(change_pct, cmap, norm)
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
        text = _tile_text(str(symbol), cap_usd, change_pct, bool(is_stable))
        area = rect["dx"] * rect["dy"]
        if area >= MIN_LABEL_AREA:
            size = float(np.clip(np.sqrt(area) * 0.9, 6, 16))
            ax.text(
                rect["x"] + rect["dx"] / 2,
                rect["y"] + rect["dy"] / 2,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color=text_color(color),
                gid=f"label:{symbol}",
            )
        else:
            unlabelled.append(text.replace("\n", " "))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(HEIGHT, 0)
    ax.set_axis_off()
    cbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01, extend="both"
    )
    cbar.set_label(f"24h change (%), clipped at \u00b1{norm.vmax:g} %")
    cbar.ax.yaxis.set_major_formatter(mticker.PercentFormatter(xmax=100, decimals=0))
    handles = []
    if stable.any():
        handles.append(
            Rectangle((0, 0), 1, 1, facecolor=STABLE_COLOR, label="stablecoin (not red/green)")
        )
    if (ordered["change_24h_pct"].isna().to_numpy() & ~stable).any():
        handles.append(
            Rectangle((0, 0), 1, 1, facecolor=MISSING_COLOR, hatch="//", label="no 24h change")
        )
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0, 0),
            ncols=len(handles),
            fontsize="small",
            frameon=False,
        )
    if unlabelled:
        listing = "Tiles too small to label: " + "; ".join(unlabelled)
        small = fig.supxlabel(textwrap.fill(listing, 150), fontsize=8, color="dimgrey", x=0.5)
        small.set_gid("small_tiles")
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
