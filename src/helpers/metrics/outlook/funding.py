"""Funding per venue: its period, rates annualised (simple, not compounded), and a summary.

Rates are fractions per funding period; positive means longs pay shorts.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helpers.errors import UserError

HOURS_PER_YEAR = 24 * 365

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
        spacing: pd.Series[pd.Timedelta] = ordered.groupby(["exchange", "symbol"])["ts"].diff()
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
