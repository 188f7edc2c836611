"""Figures for what to watch: rolling liquidations vs range, OI vs price, funding.

Built with :class:`matplotlib.figure.Figure` (not pyplot); missing data is hatched or left
as a gap in a line, never drawn as zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.plots import style
from helpers.plots.clusters import shade_missing
from helpers.timegrid import Window, interval_timedelta
from helpers.venues import market_name

STRESS_COLOR = "#ff7f0e"
REGIME_COLORS = {
    "new longs": "#1f77b4",
    "new shorts": "#9467bd",
    "short covering": style.SHORT_COLOR,
    "long capitulation": style.LONG_COLOR,
    "flat": "#7f7f7f",
}
QUADRANT_LABELS = (
    (0.98, 0.98, "new longs\n(OI up, price up)", "right", "top"),
    (0.02, 0.98, "new shorts\n(OI up, price down)", "left", "top"),
    (0.98, 0.02, "short covering\n(OI down, price up)", "right", "bottom"),
    (0.02, 0.02, "long capitulation\n(OI down, price down)", "left", "bottom"),
)


def _runs(ts: pd.Series, flags: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) timestamps of each run of True in ``flags`` (NA counts as False)."""
    f = flags.fillna(False).to_numpy(dtype=bool)
    times = pd.DatetimeIndex(ts)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], f.astype(int), [0]])))
    return [(times[a], times[b - 1]) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def plot_liquidations_vs_range(
    frame: pd.DataFrame,
    window: Window,
    *,
    rolling_window: int,
) -> Figure:
    """Rolling long and short liquidations (top) against the rolling price range (bottom).

    ``frame`` is :func:`helpers.metrics.outlook.liquidations_vs_range`, optionally passed through
    :func:`helpers.metrics.outlook.flag_stress_without_relief` (flagged bars shaded). Bars with no
    liquidation or price data are hatched.
    """
    step = interval_timedelta(window.interval)
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax_liq, ax_rng = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    ax_liq.plot(
        frame["ts"],
        frame["long_usd_roll"],
        color=style.LONG_COLOR,
        label="longs liquidated",
        gid="long_roll",
    )
    ax_liq.plot(
        frame["ts"],
        frame["short_usd_roll"],
        color=style.SHORT_COLOR,
        label="shorts liquidated",
        gid="short_roll",
    )
    ax_rng.plot(
        frame["ts"],
        frame["range_frac"],
        color=style.NEUTRAL_COLOR,
        label="range (max high - min low) / close",
        gid="range",
    )
    shade_missing(ax_liq, frame["ts"], frame["total_usd"].isna(), step)
    shade_missing(ax_rng, frame["ts"], frame["close"].isna(), step)
    if "stress_flag" in frame.columns:
        for i, (a, b) in enumerate(_runs(frame["ts"], frame["stress_flag"])):
            for ax in (ax_liq, ax_rng):
                ax.axvspan(
                    a,
                    b + step,
                    color=STRESS_COLOR,
                    alpha=0.25,
                    lw=0,
                    gid="stress",
                    label="stress without relief" if i == 0 and ax is ax_liq else None,
                )
    style.usd_millions_axis(ax_liq)
    ax_liq.set_ylabel(f"liquidated, rolling {rolling_window} bars ($M)")
    style.percent_axis(ax_rng, decimals=1)
    ax_rng.set_ylabel(f"rolling {rolling_window}-bar range (% of close)")
    style.utc_time_axis(ax_rng)
    ax_liq.legend(loc="upper left", fontsize=8)
    ax_rng.legend(loc="upper left", fontsize=8)
    what = (
        f"Rolling liquidations vs rolling price range ({rolling_window} x {window.interval} window)"
    )
    return style.finish_figure(fig, what, window)


def plot_oi_price_quadrants(
    regimes: pd.DataFrame,
    window: Window,
    *,
    deadband: float | None = None,
) -> Figure:
    """Each bar's open-interest change against its price change, coloured by regime.

    ``regimes`` is :func:`helpers.metrics.outlook.oi_price_regimes`; the dead band (default: its
    ``attrs["deadband"]``) is drawn as a grey box around the origin. Bars with a missing
    change cannot be placed; their count is written on the chart.
    """
    if deadband is None:
        deadband = regimes.attrs.get("deadband", 0.0)
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = fig.subplots()
    known = regimes.dropna(subset=["oi_change", "price_change", "regime"])
    for regime, color in REGIME_COLORS.items():
        rows = known[known["regime"] == regime]
        if len(rows):
            ax.scatter(
                rows["price_change"],
                rows["oi_change"],
                color=color,
                s=22,
                alpha=0.85,
                label=f"{regime} ({len(rows)})",
                gid=regime,
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    if deadband:
        ax.add_patch(
            Rectangle(
                (-deadband, -deadband),
                2 * deadband,
                2 * deadband,
                facecolor="grey",
                alpha=0.15,
                lw=0,
                label=f"dead band ±{deadband:.2%}",
                gid="deadband",
            )
        )
    for x, y, text, ha, va in QUADRANT_LABELS:
        ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=8, color="dimgrey")
    missing = len(regimes) - len(known)
    if missing:
        ax.text(
            0.5,
            0.99,
            f"{missing} of {len(regimes)} bars missing OI or price (not plotted)",
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=8,
            color="grey",
            gid="missing",
        )
    style.percent_axis(ax, "x", decimals=1)
    style.percent_axis(ax, "y", decimals=1)
    ax.set_xlabel("price change over the bar (% of open)")
    ax.set_ylabel("open-interest change over the bar (%)")
    if len(known):
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    else:
        ax.text(0.5, 0.5, "no bar with both OI and price", transform=ax.transAxes, ha="center")
    what = "Open-interest change vs price change per bar"
    return style.finish_figure(fig, what, window)


def _with_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with a NaN row inserted wherever two fundings are over 1.5 periods apart."""
    rows = rows.sort_values("ts")
    period = pd.to_timedelta(rows["period_hours"], unit="h")
    gap = rows["ts"].diff() > 1.5 * period
    if not gap.any():
        return rows
    breaks = rows.loc[gap, ["ts"]].assign(ts=lambda d: d["ts"] - pd.Timedelta(1, "s"))
    breaks["annualised"] = np.nan
    return pd.concat([rows[["ts", "annualised"]], breaks], ignore_index=True).sort_values("ts")


def plot_funding(
    funding: pd.DataFrame,
    window: Window,
) -> Figure:
    """Funding annualised (simple), one line per venue (and symbol); gaps break the line.
    Lines are labelled by :func:`helpers.venues.market_name` (a rate is per market, never
    summed over a family) and, with one symbol per venue, drawn in the venue's colour
    (:func:`helpers.plots.style.venue_color`); their ``gid`` keeps the ccxt id.

    ``funding`` is :func:`helpers.metrics.outlook.annualised_funding`. A gap longer than 1.5 funding
    periods is drawn as a break, not interpolated. Positive: longs pay shorts.
    """
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    ax = fig.subplots()
    several_symbols = bool(funding.groupby("exchange")["symbol"].nunique().gt(1).any())
    for (exchange, symbol), rows in funding.groupby(["exchange", "symbol"], sort=True):
        key = f"{exchange} {symbol}" if several_symbols else str(exchange)
        venue = market_name(str(exchange))
        line = _with_gaps(rows)
        ax.plot(
            line["ts"],
            line["annualised"],
            marker="o",
            ms=3,
            lw=1.2,
            label=f"{venue} {symbol}" if several_symbols else venue,
            color=None if several_symbols else style.venue_color(str(exchange)),
            gid=f"funding:{key}",
        )
    ax.axhline(0, color="black", lw=0.8)
    style.percent_axis(ax, decimals=0)
    ax.set_ylabel("funding, annualised (% per year, simple)")
    style.utc_time_axis(ax)
    if len(funding):
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no funding data", transform=ax.transAxes, ha="center", color="grey")
    return style.finish_figure(fig, "Funding rate by venue", window)
