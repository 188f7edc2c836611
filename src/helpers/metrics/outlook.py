"""What to watch: is liquidation stress turning into weakness, or being absorbed?

Inputs are canonical frames (:mod:`helpers.schema`). Hourly liquidations come from
``liquidation_bars``, whose rows are the OBSERVED (ts, exchange, symbol) bars: an hour with no
row is unobserved and stays NaN on the window grid, never zero. Totals over venues are NaN for
an hour unless every expected venue was observed, so a partial hour never passes for a
complete one; rolling sums are NaN when any hour of their window is missing.

``long_usd`` / ``short_usd`` are the notional (USD) of liquidated LONG / SHORT positions.
Changes, ranges and shares are fractions (``0.01`` = 1%). Bars are stamped at their open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.metrics.clusters import require_one_base
from helpers.metrics.liquidation_map import oi_on_grid
from helpers.timegrid import interval_timedelta, window_grid

TOTAL = "total"
REGIMES = ("new longs", "new shorts", "short covering", "long capitulation", "flat")
HOURS_PER_YEAR = 24 * 365


# ---- hourly liquidations on the window grid ---------------------------------------------------


def liquidations_on_grid(
    bars: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    interval: str = "1h",
    exchanges: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Liquidated notional (USD) per venue and bar over the window grid.

    One row per (grid ts, exchange) for ``exchanges`` (default: every exchange in ``bars``);
    a venue's symbols are summed, and a venue counts as observed in a bar when any of its
    symbols has a row there. A bar with no row for the venue is unobserved: NaN, never 0.
    Columns: ``ts``, ``exchange``, ``long_usd``, ``short_usd``, ``total_usd``.
    """
    grid = window_grid(start, end, interval)
    bars = bars[bars["interval"] == interval]
    venues = sorted(bars["exchange"].unique()) if exchanges is None else sorted(exchanges)
    sums = bars.groupby(["ts", "exchange"])[["long_usd", "short_usd"]].sum(min_count=1)
    full = pd.MultiIndex.from_product([grid, venues], names=["ts", "exchange"])
    out = sums.reindex(full).astype("float64").reset_index()
    out["exchange"] = out["exchange"].astype("string")
    return out.assign(total_usd=out["long_usd"] + out["short_usd"])


def total_liquidations(per_venue: pd.DataFrame) -> pd.DataFrame:
    """All venues summed per bar; NaN in a bar where any venue is unobserved.

    Input: :func:`liquidations_on_grid`. Columns: ``ts``, ``long_usd``, ``short_usd``,
    ``total_usd``, ``venues_observed``, ``venues_expected``.
    """
    grouped = per_venue.groupby("ts")
    out = grouped[["long_usd", "short_usd", "total_usd"]].sum(skipna=False)
    out["venues_observed"] = grouped["total_usd"].count()
    out["venues_expected"] = grouped.size()
    return out.reset_index()


def hourly_liquidations(
    bars: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    interval: str = "1h",
    exchanges: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`total_liquidations` of :func:`liquidations_on_grid`, one row per grid bar.

    With no venue at all (an empty frame and no ``exchanges``) every bar is NaN.
    """
    per_venue = liquidations_on_grid(bars, start, end, interval, exchanges)
    grid = pd.DataFrame({"ts": window_grid(start, end, interval)})
    totals = total_liquidations(per_venue)
    out = grid.merge(totals, on="ts", how="left")
    return out.fillna({"venues_observed": 0, "venues_expected": 0}).astype(
        {"venues_observed": "int64", "venues_expected": "int64"}
    )


# ---- rolling liquidations against the rolling range ------------------------------------------


def liquidations_vs_range(hourly: pd.DataFrame, grid: pd.DataFrame, window: int) -> pd.DataFrame:
    """Rolling liquidation volume against the rolling price range, per bar.

    ``hourly`` is :func:`hourly_liquidations`, ``grid`` the price grid of the same window
    (:func:`helpers.metrics.clusters.price_grid`). Over the ``window`` bars ending at each bar:

    * ``long_usd_roll``, ``short_usd_roll``, ``total_usd_roll``: sums of liquidated notional;
    * ``range_frac = (max high - min low) / close`` of the last bar, a fraction;
    * ``window_open``: the open of the window's first bar, the price when the window started.

    Each is NaN until ``window`` bars exist and whenever a bar inside the window is missing.
    """
    if window < 1:
        raise UserError(f"rolling window must be at least 1 bar, got {window}")
    px = grid.set_index("ts")
    liq = hourly.set_index("ts").reindex(px.index)
    roll = {
        f"{c}_roll": liq[c].rolling(window, min_periods=window).sum()
        for c in ("long_usd", "short_usd", "total_usd")
    }
    high = px["high"].rolling(window, min_periods=window).max()
    low = px["low"].rolling(window, min_periods=window).min()
    out = pd.DataFrame(
        {
            "long_usd": liq["long_usd"],
            "short_usd": liq["short_usd"],
            "total_usd": liq["total_usd"],
            **roll,
            "range_frac": (high - low) / px["close"],
            "close": px["close"],
            "window_open": px["open"].shift(window - 1),
        },
        index=px.index,
    )
    out.attrs["window"] = window
    return out.reset_index()


def _nullable(values: pd.Series, known: pd.Series) -> pd.Series:
    return values.astype("boolean").mask(~known)


def flag_stress_without_relief(frame: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Flag bars where long liquidations keep rising while the range narrows without recovery.

    On :func:`liquidations_vs_range` output, three tests at each bar t:

    * ``longs_rising``: ``long_usd_roll`` rose at each of the last ``k`` steps
      (``roll[t] > roll[t-1] > ... > roll[t-k]``);
    * ``range_narrowing``: ``range_frac[t] < range_frac[t-k]``;
    * ``no_recovery``: ``close[t] < window_open[t]`` (price below where the window started).

    ``stress_flag`` is their AND. Each column is a nullable boolean, NA where an input is
    missing, so a gap never reads as "no stress".
    """
    if k < 1:
        raise UserError(f"k must be at least 1 step, got {k}")
    roll = frame["long_usd_roll"]
    steps = roll.diff()
    known_steps = steps.notna().astype("float64").rolling(k, min_periods=k).sum() == k
    rising = (steps > 0).astype("float64").rolling(k, min_periods=k).sum() == k
    prior_range = frame["range_frac"].shift(k)
    narrowing = frame["range_frac"] < prior_range
    no_recovery = frame["close"] < frame["window_open"]
    out = frame.assign(
        longs_rising=_nullable(rising, known_steps),
        range_narrowing=_nullable(narrowing, frame["range_frac"].notna() & prior_range.notna()),
        no_recovery=_nullable(no_recovery, frame["close"].notna() & frame["window_open"].notna()),
    )
    out["stress_flag"] = out["longs_rising"] & out["range_narrowing"] & out["no_recovery"]
    out.attrs = dict(frame.attrs, k=k)
    return out


# ---- staged or single capitulation ------------------------------------------------------------


@dataclass(frozen=True)
class Concentration:
    """How concentrated liquidations are in time over a window.

    ``top_share`` is the top bar's share of the total; ``hhi`` the Herfindahl-Hirschman
    index of the bar shares (from ``1/n`` when spread evenly over n bars to 1 when all in one
    bar); ``effective_hours = 1 / hhi`` the number of equally sized bars that would give the
    same HHI. ``shape`` is ``'single'`` when ``top_share >= single_share``, else ``'staged'``;
    ``'none'`` when nothing was liquidated and ``'no data'`` when no bar was observed.
    Missing bars are left out of the shares and counted in ``missing_bars``.
    """

    column: str
    total_usd: float
    observed_bars: int
    missing_bars: int
    top_ts: pd.Timestamp | None
    top_usd: float
    top_share: float
    hhi: float
    effective_hours: float
    single_share: float
    shape: str


def concentration(
    hourly: pd.DataFrame, column: str = "long_usd", single_share: float = 0.5
) -> Concentration:
    """Staged deleveraging or one capitulation bar? See :class:`Concentration`.

    ``hourly`` has ``ts`` and ``column`` (USD per bar), e.g. :func:`hourly_liquidations`.
    """
    if not 0 < single_share <= 1:
        raise UserError(f"single-bar share threshold must be in (0, 1], got {single_share}")
    values = hourly.set_index("ts")[column]
    observed = values.dropna()
    total = float(observed.sum())
    missing = int(values.isna().sum())
    if observed.empty or total <= 0:
        nan = float("nan")
        return Concentration(
            column=column,
            total_usd=nan if observed.empty else total,
            observed_bars=len(observed),
            missing_bars=missing,
            top_ts=None,
            top_usd=nan,
            top_share=nan,
            hhi=nan,
            effective_hours=nan,
            single_share=single_share,
            shape="no data" if observed.empty else "none",
        )
    shares = observed / total
    hhi = float((shares**2).sum())
    top_ts = shares.idxmax()
    top_share = float(shares.max())
    return Concentration(
        column=column,
        total_usd=total,
        observed_bars=len(observed),
        missing_bars=missing,
        top_ts=top_ts,
        top_usd=float(observed[top_ts]),
        top_share=top_share,
        hhi=hhi,
        effective_hours=1 / hhi,
        single_share=single_share,
        shape="single" if top_share >= single_share else "staged",
    )


# ---- liquidations relative to open interest ---------------------------------------------------


def liquidations_to_oi(
    per_venue: pd.DataFrame,
    open_interest: pd.DataFrame,
    max_age: pd.Timedelta | str = "15min",
) -> pd.DataFrame:
    """Liquidated notional (long + short, USD) per bar over open interest at the bar's open.

    ``per_venue`` is :func:`liquidations_on_grid`; OI is taken as in
    :func:`helpers.metrics.liquidation_map.oi_on_grid`. One row per (ts, exchange) plus
    ``exchange == 'total'``, whose numerator and denominator are NaN unless every venue has
    both. ``ratio`` is a fraction, NaN where either is missing.
    Columns: ``ts``, ``exchange``, ``liquidations_usd``, ``oi_usd``, ``ratio``.
    """
    times = pd.DatetimeIndex(per_venue["ts"].unique())
    venues = sorted(per_venue["exchange"].unique())
    oi = oi_on_grid(open_interest, times, max_age, venues)
    rows = per_venue[["ts", "exchange", "total_usd"]].merge(oi, on=["ts", "exchange"], how="left")
    rows = rows.rename(columns={"total_usd": "liquidations_usd"})
    total = rows.groupby("ts")[["liquidations_usd", "oi_usd"]].sum(skipna=False).reset_index()
    total["exchange"] = TOTAL
    out = pd.concat([rows, total], ignore_index=True)
    out = out.assign(
        exchange=out["exchange"].astype("string"),
        ratio=out["liquidations_usd"] / out["oi_usd"],
    )
    return out.sort_values(["ts", "exchange"], ignore_index=True)


# ---- open interest against price --------------------------------------------------------------


def classify_oi_price(oi_change: pd.Series, price_change: pd.Series, deadband: float) -> pd.Series:
    """The positioning regime of each bar from its OI change and price change (fractions).

    ``flat`` when either move is within ``±deadband``; otherwise OI up & price up ``new
    longs``, OI up & price down ``new shorts``, OI down & price up ``short covering``, OI down
    & price down ``long capitulation``. NA where either change is missing.
    """
    if deadband < 0:
        raise UserError(f"dead band must be >= 0, got {deadband}")
    oi_up, px_up = oi_change > 0, price_change > 0
    regime = np.select(
        [
            (oi_change.abs() <= deadband) | (price_change.abs() <= deadband),
            oi_up & px_up,
            oi_up & ~px_up,
            ~oi_up & px_up,
        ],
        ["flat", "new longs", "new shorts", "short covering"],
        default="long capitulation",
    )
    out = pd.Series(regime, index=oi_change.index, dtype="string")
    return out.mask(oi_change.isna() | price_change.isna())


def oi_price_regimes(
    open_interest: pd.DataFrame,
    grid: pd.DataFrame,
    interval: str = "1h",
    deadband: float = 0.001,
    max_age: pd.Timedelta | str = "15min",
    exchanges: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per bar: open-interest change against price change, and the regime they imply.

    ``grid`` is the price grid (:func:`helpers.metrics.clusters.price_grid`) of the bars to
    classify.
    ``open_interest`` must be of the grid's coin (one base currency, else :class:`UserError`);
    it is summed over ``exchanges`` (default all in the frame) at the bar's open and at its
    close (the next open), each as in :func:`helpers.metrics.liquidation_map.oi_on_grid`; the
    sum is NaN if any venue is missing. ``oi_change = oi_end / oi_start - 1``,
    ``price_change = close / open - 1``, ``regime`` from :func:`classify_oi_price`.
    Columns: ``ts``, ``oi_start_usd``, ``oi_end_usd``, ``oi_change``, ``open``, ``close``,
    ``price_change``, ``regime``.
    """
    require_one_base(open_interest, "open interest")
    step = interval_timedelta(interval)
    opens = pd.DatetimeIndex(grid["ts"])
    per_venue = oi_on_grid(open_interest, opens.union(opens + step), max_age, exchanges)
    total = per_venue.groupby("ts")["oi_usd"].sum(skipna=False).astype("float64")
    oi_start = total.reindex(opens).set_axis(opens)
    oi_end = total.reindex(opens + step).set_axis(opens)
    px = grid.set_index("ts")
    oi_change = oi_end / oi_start - 1
    price_change = px["close"] / px["open"] - 1
    out = pd.DataFrame(
        {
            "oi_start_usd": oi_start,
            "oi_end_usd": oi_end,
            "oi_change": oi_change,
            "open": px["open"],
            "close": px["close"],
            "price_change": price_change,
            "regime": classify_oi_price(oi_change, price_change, deadband),
        },
        index=opens,
    )
    out.attrs["deadband"] = deadband
    return out.rename_axis("ts").reset_index()


# ---- funding ----------------------------------------------------------------------------------


PeriodHours = float | Mapping[str, float] | None


def funding_period_hours(funding: pd.DataFrame, period_hours: PeriodHours = None) -> pd.Series:
    """The funding period (hours) of each venue in ``funding``, indexed by exchange.

    ``period_hours`` is one number for every venue, or a mapping exchange -> hours for some
    venues (e.g. ``{"hyperliquid": 1}``); a venue without a given period gets the median
    spacing of consecutive funding timestamps of a symbol, NaN when no symbol has two.
    """
    venues = sorted(funding["exchange"].unique())
    if period_hours is not None and not isinstance(period_hours, Mapping):
        hours = pd.Series(float(period_hours), index=venues, dtype="float64")
    else:
        ordered = funding.sort_values("ts")
        spacing = ordered.groupby(["exchange", "symbol"])["ts"].diff()
        inferred = spacing.groupby(ordered["exchange"]).median() / pd.Timedelta("1h")
        hours = inferred.reindex(venues).astype("float64")
        for venue, given in (period_hours or {}).items():
            if venue in hours.index:
                hours[venue] = float(given)
    if (hours <= 0).any():
        raise UserError(f"funding period must be a positive number of hours: {hours.to_dict()}")
    return hours.rename("period_hours").rename_axis("exchange")


def annualised_funding(funding: pd.DataFrame, period_hours: PeriodHours = None) -> pd.DataFrame:
    """``funding`` with ``period_hours`` and ``annualised`` (a fraction per year) columns.

    ``rate`` is paid once per funding period (see :func:`funding_period_hours`);
    ``annualised = rate * 24 * 365 / period_hours``: simple, not compounded. Positive means
    longs pay shorts.
    """
    hours = funding["exchange"].map(funding_period_hours(funding, period_hours)).astype("float64")
    return funding.assign(period_hours=hours, annualised=funding["rate"] * HOURS_PER_YEAR / hours)


def funding_summary(funding: pd.DataFrame, period_hours: PeriodHours = None) -> pd.DataFrame:
    """Funding per venue and symbol over the frame: count, first and last time, mean and last.

    Rates are fractions per funding period; ``mean_annualised`` and ``last_annualised`` as
    in :func:`annualised_funding`. Columns: ``exchange``, ``symbol``, ``observations``,
    ``first_ts``, ``last_ts``, ``period_hours``, ``mean_rate``, ``last_rate``,
    ``mean_annualised``, ``last_annualised``. An empty frame gives no rows.
    """
    f = annualised_funding(funding, period_hours).sort_values("ts")
    grouped = f.groupby(["exchange", "symbol"])
    out = pd.DataFrame(
        {
            "observations": grouped["rate"].count().astype("int64"),
            "first_ts": grouped["ts"].min(),
            "last_ts": grouped["ts"].max(),
            "period_hours": grouped["period_hours"].first(),
            "mean_rate": grouped["rate"].mean(),
            "last_rate": grouped["rate"].last(),
        }
    )
    factor = HOURS_PER_YEAR / out["period_hours"]
    out = out.assign(
        mean_annualised=out["mean_rate"] * factor, last_annualised=out["last_rate"] * factor
    )
    return out.reset_index()
