"""Shared figure conventions: titles carry window, venues and source; axes carry units.

Every figure built on simulated data (``source == "demo"``) carries a SIMULATED DATA
watermark, so a figure copied out of a report cannot be mistaken for market data. Sides are
red (longs) and green (shorts); a venue has one colour on every page (:func:`venue_color`),
never a red or a green.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.precedence import source_name
from helpers.timegrid import SIMULATED_SOURCE, Window
from helpers.units import fmt_usd
from helpers.venues import family, market_name

__all__ = ["fmt_usd"]

LONG_COLOR = "#d62728"
SHORT_COLOR = "#2ca02c"
NEUTRAL_COLOR = "#4c72b0"

STYLE_SHEET = Path(__file__).with_name("liqnb.mplstyle")
"""seaborn's ``whitegrid`` / ``notebook`` theme as a matplotlib style sheet (no seaborn import)."""


def apply_style() -> None:
    """The project's matplotlib defaults (call once per notebook).

    In a notebook it also switches on inline figures, so a :class:`Figure` returned by a
    plot function is shown as an embedded PNG at twice ``figure.dpi``, drawn at its 1x size
    and with alt text naming what it shows (:func:`helpers.plots.inline.use_crisp_figures`).
    Text is never parsed as mathtext: a coin or venue name holding ``$...$`` is drawn as it
    is, never typeset or failing the figure. The theme is seaborn's ``whitegrid`` style in
    its ``notebook`` context, read from :data:`STYLE_SHEET`.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        from helpers.plots.inline import use_crisp_figures

        shell.run_line_magic("matplotlib", "inline")
        use_crisp_figures(shell)

    plt.style.use(STYLE_SHEET)
    plt.rcParams.update(
        {
            "figure.figsize": (11, 4.5),
            "figure.dpi": 100,
            "axes.titlesize": 12,
            "text.parse_math": False,
        }
    )


def window_label(start: pd.Timestamp | str, end: pd.Timestamp | str) -> str:
    """``2025-11-10 00:00 to 2025-11-17 00:00 UTC`` for a half-open window."""
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    return f"{s:%Y-%m-%d %H:%M} to {e:%Y-%m-%d %H:%M} UTC"


def venues_label(exchanges: Iterable[str] | None) -> str:
    """The selection as analysts name it (``binanceusdm, okx`` -> "Binance USD-M, OKX",
    :func:`helpers.venues.market_name`); "all venues" for None; a count beyond four."""
    return _names_label(market_name(str(e)) for e in exchanges or [])


def _names_label(names: Iterable[str]) -> str:
    shown = sorted(set(names))
    if not shown:
        return "all venues"
    return ", ".join(shown) if len(shown) <= 4 else f"{len(shown)} venues"


def sources_label(sources: Iterable[str]) -> str:
    """``source: Coinalyze, exchange REST history`` (:func:`helpers.precedence.source_name`),
    "SIMULATED (demo)" for the simulator alone, "no data" for none."""
    s = sorted({str(x) for x in sources})
    if s == [SIMULATED_SOURCE]:
        return "SIMULATED (demo)"
    names = sorted({source_name(x) for x in s})
    return "source: " + ", ".join(names) if names else "no data"


def figure_title(what: str, window: Window, venues: Iterable[str] | None = None) -> str:
    """Two-line title: what is shown, then window, venues (``window.exchanges`` by name,
    :func:`venues_label`, unless ``venues`` gives the text of what the figure covers
    instead) and source."""
    shown = venues_label(window.exchanges) if venues is None else _names_label(venues)
    where = " | ".join(
        (window_label(window.start, window.end), shown, sources_label(window.sources))
    )
    return f"{what}\n{where}"


def mark_simulated(fig: Figure, window: Window) -> None:
    """Watermark ``fig`` when any of the window's data is simulated."""
    if window.simulated:
        fig.text(
            0.5,
            0.5,
            "SIMULATED DATA",
            fontsize=40,
            color="grey",
            alpha=0.15,
            ha="center",
            va="center",
            rotation=20,
            transform=fig.transFigure,
            zorder=0,
        )


def finish_figure(
    fig: Figure, what: str, window: Window, venues: Iterable[str] | None = None
) -> Figure:
    """Title ``fig`` with what, window, venues and source; watermark simulated data."""
    fig.suptitle(figure_title(what, window, venues))
    mark_simulated(fig, window)
    return fig


def usd_millions_axis(ax: Axes, axis: str = "y") -> None:
    """Format an axis in US dollars millions (``$12M``)."""

    def label(v: float, _pos: int) -> str:
        return f"${v / 1e6:,.0f}M" if abs(v) >= 1e6 or v == 0 else f"${v / 1e6:,.2f}M"

    fmt = mticker.FuncFormatter(label)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def percent_axis(ax: Axes, axis: str = "y", decimals: int = 0) -> None:
    """Format an axis whose values are fractions (0.25) as percents (25%)."""
    fmt = mticker.PercentFormatter(xmax=1.0, decimals=decimals)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def utc_time_axis(ax: Axes, label: str = "time (UTC)") -> None:
    """Concise date ticks in UTC on the x axis, with an axis label saying so."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz="UTC")
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))
    ax.set_xlabel(label)


def true_runs(mask: Iterable[bool]) -> list[tuple[int, int]]:
    """``(first, last + 1)`` index pairs of the consecutive True runs in ``mask``."""
    import numpy as np

    m = np.asarray(list(mask), dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(int), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def shade_runs(
    ax: Axes,
    times: Iterable[pd.Timestamp],
    mask: Iterable[bool],
    step: pd.Timedelta,
    *,
    label: str,
    gid: str,
    facecolor: str = "none",
    edgecolor: str = "none",
    hatch: str | None = None,
    alpha: float = 1.0,
) -> int:
    """Shade each run of bars ``[ts, ts + step)`` where ``mask`` is True as one span.

    Only the first span carries ``label`` (for the legend); every span carries ``gid`` so
    tests and readers can find them. Returns the number of spans.
    """
    import matplotlib.dates as mdates

    ts = pd.DatetimeIndex(list(times))
    runs = true_runs(mask)
    for i, (a, b) in enumerate(runs):
        ax.axvspan(
            mdates.date2num(ts[a]),
            mdates.date2num(ts[b - 1] + step),
            facecolor=facecolor,
            edgecolor=edgecolor,
            hatch=hatch,
            alpha=alpha,
            linewidth=0,
            zorder=0,
            label=label if i == 0 else None,
            gid=gid,
        )
    return len(runs)


# ---- venue colours and signed money axes --------------------------------------------------
VENUE_COLORS: dict[str, str] = {
    "binance": "#e0a100",
    "okx": "#34495e",
    "bybit": "#8e44ad",
    "hyperliquid": "#17becf",
    "gate": "#1f5fbf",
    "htx": "#2b6f8f",
    "bitfinex": "#7f7f7f",
    "deribit": "#5a3fc0",
    "bitmex": "#e377c2",
    "kraken": "#c49c94",
    "kucoin": "#6baed6",
    "coinex": "#bc80bd",
    "bitget": "#00429d",
    "mexc": "#9c9ede",
    "dydx": "#393b79",
}
"""Family id -> colour, the same on every page. No colour is a red or a green, so a venue is
never read as a side (:data:`LONG_COLOR`, :data:`SHORT_COLOR`)."""

VENUE_FALLBACK_COLORS = (
    "#9edae5",
    "#c5b0d5",
    "#f7b6d2",
    "#c7c7c7",
    "#e7ba52",
    "#7b4173",
    "#5254a3",
    "#bd9e39",
    "#3182bd",
    "#636363",
)
"""Colours of venues :data:`VENUE_COLORS` does not list, picked by a stable hash of the id."""


def venue_color(venue: str) -> str:
    """The colour of a venue on every chart: a ccxt id is coloured as its family
    (``binanceusdm`` and ``binance`` alike, :func:`helpers.venues.family`); a venue not in
    :data:`VENUE_COLORS` (or an aggregate such as ``binance+okx``) gets a fallback colour
    from a CRC-32 of its id, so it is the same on every page and every run."""
    key = family(str(venue))
    if key in VENUE_COLORS:
        return VENUE_COLORS[key]
    return VENUE_FALLBACK_COLORS[zlib.crc32(key.encode()) % len(VENUE_FALLBACK_COLORS)]


def usd_short(value: float) -> str:
    """A compact US-dollar tick label of ``|value|``: ``$50M``, ``$2.5M``, ``$750K``, ``$0``
    (no sign: on a signed axis the side is told by the axis, not by a minus)."""
    v = abs(float(value))
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= div:
            number = f"{v / div:,.2f}".rstrip("0").rstrip(".")
            return f"${number}{suffix}"
    return f"${v:,.0f}"


def _nice_below(x: float) -> float:
    """The largest 1, 2, 2.5 or 5 x 10^k not above ``x`` (``x`` > 0)."""
    import math

    power = 10.0 ** math.floor(math.log10(x))
    return max(m * power for m in (1.0, 2.0, 2.5, 5.0) if m * power <= x)


class SignedLocator(mticker.MaxNLocator):
    """Ticks of a signed money axis: matplotlib's nice ticks, plus one nice tick on a side
    that would otherwise have none (shorts reaching -$40M under ticks every $50M), so both
    sides always carry a labelled amount. A side shorter than :attr:`MIN_SIDE` of the span
    gets no extra tick (its label would sit on the "$0")."""

    MIN_SIDE = 0.06

    def __init__(self) -> None:
        super().__init__(nbins="auto", steps=[1, 2, 2.5, 5, 10])

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        ticks = [float(t) for t in super().tick_values(vmin, vmax)]
        lo, hi = min(vmin, vmax), max(vmin, vmax)
        span = hi - lo
        if span <= 0:
            return ticks
        for side, reach in ((-1.0, -lo), (1.0, hi)):
            seen = any(0 < side * t <= reach for t in ticks)
            if not seen and reach > self.MIN_SIDE * span:
                ticks.append(side * _nice_below(reach * 0.9))
        return sorted(ticks)


def signed_usd_axis(
    ax: Axes,
    up: str = "longs",
    down: str = "shorts",
    axis: str = "y",
    corner: str = "left",
) -> None:
    """A money axis with one side above 0 and the other below: ticks as positive US dollars
    on both sides (``$50M`` above and below, never ``-50M``, :func:`usd_short`), at least one
    labelled tick on each side (:class:`SignedLocator`), a black zero line, and ``up`` /
    ``down`` written at the top and bottom: inside the axes in the ``corner`` (``left`` or
    ``right``) a legend does not take, or ``outside`` beside the right edge, where no mark
    of the data can cover them."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(SignedLocator())
    target.set_major_formatter(mticker.FuncFormatter(lambda v, _pos: usd_short(v)))
    ax.axhline(0, color="black", linewidth=0.8)
    x, ha = {"left": (0.005, "left"), "right": (0.995, "right"), "outside": (1.005, "left")}[corner]
    for y, va, text, gid in ((0.98, "top", f"\u25b2 {up}", "side_up"),
                             (0.02, "bottom", f"\u25bc {down}", "side_down")):  # fmt: skip
        ax.text(x, y, text, transform=ax.transAxes, fontsize="small", color="dimgrey",
                ha=ha, va=va, gid=gid)  # fmt: skip


def long_short_legend(fig: Figure) -> None:
    """The figure-wide legend of the long (red) and short (green) liquidation colours, below
    the panels."""
    from matplotlib.patches import Patch

    fig.legend(
        handles=[
            Patch(color=LONG_COLOR, label="longs liquidated"),
            Patch(color=SHORT_COLOR, label="shorts liquidated"),
        ],
        loc="outside lower center",
        ncols=2,
        fontsize="small",
    )
