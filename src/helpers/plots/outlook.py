"""Figures for what to watch: rolling liquidations vs range, OI vs price, funding.

Built with :class:`matplotlib.figure.Figure` (not pyplot); missing data is hatched or left
as a gap in a line, never drawn as zero.
"""

from __future__ import annotations

import matplotlib.dates as mdates
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


def _stress_label(min_usd: float | None) -> str:
    if min_usd is None:
        return "stress without relief"
    return f"stress without relief (rolling longs of {style.usd_short(min_usd)} or more)"


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
                    label=(
                        _stress_label(frame.attrs.get("min_usd"))
                        if i == 0 and ax is ax_liq
                        else None
                    ),
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


CLIP_QUANTILE = 0.98
"""The quadrant chart's axes reach this quantile of the absolute changes (times
:data:`CLIP_PAD`); points beyond are drawn at the edge as arrows and counted on the chart."""
CLIP_PAD = 2.0


def robust_limit(values: np.ndarray, quantile: float = CLIP_QUANTILE, floor: float = 0.0) -> float:
    """A symmetric axis limit for ``values``: the ``quantile`` of ``|values|`` (the nearest
    observed value at or below it, so one outlier in a small sample is not averaged in)
    times :data:`CLIP_PAD`, at least ``floor``, and never more than the largest value plus a
    margin (nothing clipped when nothing is far out)."""
    v = np.abs(values[np.isfinite(values)])
    if not len(v):
        return max(floor, 1e-3)
    largest = float(v.max()) * 1.08
    robust = float(np.quantile(v, quantile, method="lower")) * CLIP_PAD
    return max(min(largest, robust), floor, 1e-6)


_EDGE_MARKERS = {(1, 0): ">", (-1, 0): "<", (0, 1): "^", (0, -1): "v"}


def _edge_marker(dx: int, dy: int) -> str:
    return _EDGE_MARKERS.get((dx, dy), "D")


def plot_oi_price_quadrants(
    regimes: pd.DataFrame,
    window: Window,
    *,
    deadband: float | None = None,
    clip_quantile: float = CLIP_QUANTILE,
) -> Figure:
    """Each bar's open-interest change against its price change, coloured by regime.

    ``regimes`` is :func:`helpers.metrics.outlook.oi_price_regimes`; the dead band (default: its
    ``attrs["deadband"]``) is drawn as a grey box around the origin. Bars with a missing
    change cannot be placed; their count is written on the chart. The axes are symmetric
    and robust (:func:`robust_limit` at ``clip_quantile``): a bar beyond them is drawn at
    the edge as an arrow pointing out (``gid="clipped"``, in its regime's colour) and the
    chart says how many were clipped, so one outlier does not squash the rest.
    """
    if deadband is None:
        deadband = regimes.attrs.get("deadband", 0.0)
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = fig.subplots()
    known = regimes.dropna(subset=["oi_change", "price_change", "regime"])
    xs = known["price_change"].to_numpy("float64")
    ys = known["oi_change"].to_numpy("float64")
    floor = 2 * float(deadband or 0.0)
    xlim = robust_limit(xs, clip_quantile, floor)
    ylim = robust_limit(ys, clip_quantile, floor)
    dx = np.sign(xs) * (np.abs(xs) > xlim)
    dy = np.sign(ys) * (np.abs(ys) > ylim)
    clipped = (dx != 0) | (dy != 0)
    for regime, color in REGIME_COLORS.items():
        mine = (known["regime"] == regime).to_numpy()
        if not mine.any():
            continue
        inside = mine & ~clipped
        ax.scatter(
            xs[inside],
            ys[inside],
            color=color,
            s=22,
            alpha=0.85,
            label=f"{regime} ({int(mine.sum())})",
            gid=regime,
        )
        for i in np.flatnonzero(mine & clipped):
            ax.scatter(
                [np.clip(xs[i], -xlim * 0.97, xlim * 0.97)],
                [np.clip(ys[i], -ylim * 0.97, ylim * 0.97)],
                color=color,
                marker=_edge_marker(int(dx[i]), int(dy[i])),
                s=60,
                edgecolors="black",
                linewidths=0.6,
                gid="clipped",
                zorder=3,
            )
    ax.set_xlim(-xlim, xlim)
    ax.set_ylim(-ylim, ylim)
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
    notes = []
    missing = len(regimes) - len(known)
    if missing:
        notes.append(f"{missing} of {len(regimes)} bars missing OI or price (not plotted)")
    if clipped.any():
        notes.append(
            f"{int(clipped.sum())} of {len(known)} bars beyond the axes: drawn at the edge as "
            "arrows (axes at the "
            f"{clip_quantile:.0%} quantile of |change| x {CLIP_PAD:g})"
        )
    if notes:
        ax.text(
            0.5,
            1.01,
            "\n".join(notes),
            transform=ax.transAxes,
            ha="center",
            va="bottom",
            fontsize=8,
            color="grey",
            gid="chart_notes",
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


COIN_COLORS = ("#ff7f0e", "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")
"""Line colours of the coins in the funding panels, by sorted base (the same coin, the same
colour in every panel; never the long/short red or green)."""
FUNDING_COLUMNS = 3
"""Panels per row of the funding small multiples."""
LINE_STYLES = ("-", "--", ":")
"""Line styles of a coin's second and third symbol on one venue (BTC/USDT and BTC/USDC)."""


def _base(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC``."""
    return str(symbol).split("/")[0]


def plot_funding(
    funding: pd.DataFrame,
    window: Window,
) -> Figure:
    """Funding annualised (simple) as small multiples: one panel per venue (ccxt id, titled
    by :func:`helpers.venues.market_name` with the venue's mean rate over the window), one
    line per symbol inside it, coloured by coin (the same in every panel), all panels on
    the same axes; gaps break the line. A line's ``gid`` is ``funding:<exchange>``
    (``funding:<exchange> <symbol>`` when a venue has several symbols), its label the coin
    (``BTC``), or the symbol when the venue lists a coin twice (``BTC/USDT:USDT`` and
    ``BTC/USDC:USDC``, told apart by line style).

    ``funding`` is :func:`helpers.metrics.outlook.annualised_funding`. A gap longer than 1.5 funding
    periods is drawn as a break, not interpolated. Positive: longs pay shorts.
    """
    venues = sorted(str(v) for v in funding["exchange"].unique()) if len(funding) else []
    coins = sorted({_base(s) for s in funding["symbol"].unique()}) if len(funding) else []
    colors = {c: COIN_COLORS[i % len(COIN_COLORS)] for i, c in enumerate(coins)}
    ncols = max(1, min(FUNDING_COLUMNS, len(venues)))
    nrows = max(1, -(-len(venues) // ncols))
    fig = Figure(figsize=(11, 1.4 + 2.4 * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    axes = list(grid.ravel())
    for ax, exchange in zip(axes, venues, strict=False):
        rows = funding[funding["exchange"] == exchange]
        symbols = sorted(str(s) for s in rows["symbol"].unique())
        bases = [_base(s) for s in symbols]
        repeated = len(set(bases)) < len(bases)
        for symbol in symbols:
            line = _with_gaps(rows[rows["symbol"] == symbol])
            key = f"{exchange} {symbol}" if len(symbols) > 1 else exchange
            nth = [s for s in symbols if _base(s) == _base(symbol)].index(symbol)
            ax.plot(
                line["ts"],
                line["annualised"],
                marker="o",
                ms=2,
                lw=1.1,
                ls=LINE_STYLES[nth % len(LINE_STYLES)],
                label=symbol if repeated else _base(symbol),
                color=colors[_base(symbol)],
                gid=f"funding:{key}",
            )
        mean = float(rows["annualised"].mean())
        ax.set_title(f"{market_name(exchange)}: mean {mean:+.1%}/yr", fontsize="medium", loc="left")
        ax.axhline(0, color="black", lw=0.8)
        style.percent_axis(ax, decimals=0)
        if len(symbols) > 1 or len(coins) > 1:
            ax.legend(loc="upper left", fontsize=7, ncols=len(symbols), frameon=False)
    used = max(len(venues), 1)
    for ax in axes[used:]:
        ax.remove()
    for ax in grid[:, 0]:
        ax.set_ylabel("funding, annualised\n(% per year, simple)", fontsize="small")
    for col in range(min(ncols, used)):
        lowest = grid[(used - 1 - col) // ncols, col]
        lowest.xaxis.set_tick_params(labelbottom=True)
        locator = mdates.AutoDateLocator(tz="UTC", minticks=3, maxticks=5)
        lowest.xaxis.set_major_locator(locator)
        lowest.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))
    fig.supxlabel("time (UTC)", fontsize="small")
    if not venues:
        axes[0].text(
            0.5, 0.5, "no funding data", transform=axes[0].transAxes, ha="center", color="grey"
        )
    return style.finish_figure(fig, "Funding rate by venue (one panel per venue)", window)
