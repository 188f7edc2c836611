"""Figures for liquidation clusters and support: realised by price, and the ESTIMATED map.

Figures are built with :class:`matplotlib.figure.Figure` (not pyplot), so they are not kept
alive by pyplot and a notebook shows each one once, when it is returned or displayed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.plots import style
from helpers.timegrid import Window, interval_timedelta

MISSING_LABEL = "no data (missing, not zero)"
SUPPORT_COLOR = "#8c564b"


def shade_missing(ax: Axes, ts: pd.Series, missing: pd.Series, step: pd.Timedelta) -> int:
    """Hatch each run of missing bars ``[ts, ts + step)`` on ``ax``; returns the run count."""
    return style.shade_runs(
        ax, ts, missing, step, label=MISSING_LABEL, gid="missing", edgecolor="grey", hatch="xx"
    )


def _draw_supports(axes: Iterable[Axes], supports: pd.DataFrame | None) -> None:
    if supports is None:
        return
    for ax in axes:
        zones = supports[["level", "zone_low", "zone_high"]].itertuples(index=False, name=None)
        for i, (level, zone_low, zone_high) in enumerate(zones):
            label = "support (swing lows)" if i == 0 else None
            if zone_high > zone_low:
                ax.axhspan(zone_low, zone_high, color=SUPPORT_COLOR, alpha=0.15, lw=0)
            ax.axhline(level, color=SUPPORT_COLOR, ls=":", lw=1.2, label=label, gid="support")


def _draw_last_price(axes: Iterable[Axes], last_price: float | None) -> None:
    if last_price is None or pd.isna(last_price):
        return
    for ax in axes:
        ax.axhline(
            last_price,
            color="black",
            ls="--",
            lw=1,
            label=f"last price {last_price:,.2f}",
            gid="last_price",
        )


def _bin_width(by_price: pd.DataFrame) -> float:
    widths = (by_price["bin_high"] - by_price["bin_low"]).to_numpy()
    return float(widths[0]) if len(widths) else float("nan")


def _barh_sides(ax: Axes, by_price: pd.DataFrame, *, estimated: bool) -> None:
    height = _bin_width(by_price)
    kind = "ESTIMATED" if estimated else "realised"
    long_usd = by_price["long_usd"].to_numpy("float64")
    style_long: dict[str, Any] = {"color": style.LONG_COLOR, "alpha": 0.85}
    style_short: dict[str, Any] = {"color": style.SHORT_COLOR, "alpha": 0.85}
    if estimated:
        style_long = {"facecolor": "none", "edgecolor": style.LONG_COLOR, "hatch": "///"}
        style_short = {"facecolor": "none", "edgecolor": style.SHORT_COLOR, "hatch": "\\\\\\"}
    ax.barh(
        by_price["bin_mid"],
        long_usd,
        height=height,
        label=f"longs ({kind})",
        gid="long",
        **style_long,
    )
    ax.barh(
        by_price["bin_mid"],
        by_price["short_usd"].to_numpy("float64"),
        height=height,
        left=np.nan_to_num(long_usd),
        label=f"shorts ({kind})",
        gid="short",
        **style_short,
    )


def plot_liquidations_by_price(
    grid: pd.DataFrame,
    by_price: pd.DataFrame,
    window: Window,
    *,
    supports: pd.DataFrame | None = None,
    last_price: float | None = None,
) -> Figure:
    """Price path (left) beside REALISED liquidation notional by price bin (right).

    ``grid`` is the price grid (:func:`helpers.metrics.clusters.price_grid`; missing bars
    hatched), ``by_price`` is :func:`helpers.metrics.clusters.liquidations_by_price` (longs and
    shorts stacked, one bar per price bin), ``supports`` is
    :func:`helpers.metrics.clusters.support_zones`. The two
    panels share the price axis; support levels/zones and the last price cross both.
    """
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax_px, ax_liq = fig.subplots(1, 2, sharey=True, width_ratios=[3, 1])
    ax_px.fill_between(
        grid["ts"],
        grid["low"],
        grid["high"],
        color=style.NEUTRAL_COLOR,
        alpha=0.2,
        lw=0,
        label="bar high-low",
    )
    ax_px.plot(grid["ts"], grid["close"], color=style.NEUTRAL_COLOR, lw=1.2, label="close")
    shade_missing(ax_px, grid["ts"], grid["close"].isna(), interval_timedelta(window.interval))
    ax_px.set_ylabel("price (USD)")
    style.utc_time_axis(ax_px)
    if len(by_price):
        _barh_sides(ax_liq, by_price, estimated=False)
    else:
        ax_liq.text(
            0.5,
            0.5,
            "no liquidations\nin window",
            transform=ax_liq.transAxes,
            ha="center",
            va="center",
            color="grey",
        )
    style.usd_millions_axis(ax_liq, "x")
    ax_liq.set_xlabel("realised liquidations ($M)")
    _draw_supports((ax_px, ax_liq), supports)
    _draw_last_price((ax_px, ax_liq), last_price)
    ax_px.legend(loc="best", fontsize=8)
    if len(by_price):
        ax_liq.legend(loc="best", fontsize=8)
    width = _bin_width(by_price)
    what = "Realised liquidations by price beside the price path"
    if not np.isnan(width):
        what += f" (bins of {width:,.2f} USD)"
    return style.finish_figure(fig, what, window)


def plot_estimated_liquidation_map(
    est_map: pd.DataFrame,
    window: Window,
    *,
    last_price: float | None = None,
    supports: pd.DataFrame | None = None,
) -> Figure:
    """The ESTIMATED open liquidation levels by price bin: hatched, titled as a model.

    ``est_map`` is :func:`helpers.metrics.liquidation_map.estimated_liquidation_map`; its
    ``attrs["model"]``
    (every assumption) is printed under the chart. Long levels sit below the price, short
    levels above; ``last_price`` defaults to the map's own.
    """
    if last_price is None:
        last_price = est_map.attrs.get("last_price")
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    if len(est_map):
        _barh_sides(ax, est_map, estimated=True)
    else:
        ax.text(
            0.5,
            0.5,
            "no estimated levels",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="grey",
        )
    _draw_supports((ax,), supports)
    _draw_last_price((ax,), last_price)
    style.usd_millions_axis(ax, "x")
    ax.set_xlabel("ESTIMATED notional that would be liquidated ($M)")
    ax.set_ylabel("liquidation price (USD)")
    ax.legend(loc="best", fontsize=8)
    fig.suptitle(
        style.figure_title(
            "ESTIMATED open liquidation levels (a model, not observed liquidations)",
            window,
        )
    )
    model = est_map.attrs.get("model")
    if model:
        fig.supxlabel(textwrap.fill(model, 130), fontsize=7, color="dimgrey", ha="center")
    style.mark_simulated(fig, window)
    return fig
