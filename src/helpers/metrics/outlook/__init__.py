"""What to watch: is liquidation stress turning into weakness, or being absorbed?

Inputs are canonical frames (:mod:`helpers.schema`). Hourly liquidations come from
``liquidation_bars``, whose rows are the OBSERVED (ts, exchange, symbol) bars: an hour with no
row is unobserved and stays NaN on the window grid, never zero. Totals over venues are NaN for
an hour unless every expected venue was observed, so a partial hour never passes for a
complete one; rolling sums are NaN when any hour of their window is missing.

``long_usd`` / ``short_usd`` are the notional (USD) of liquidated LONG / SHORT positions.
Changes, ranges and shares are fractions (``0.01`` = 1%). Bars are stamped at their open.

* :mod:`~helpers.metrics.outlook.liquidations`: liquidations per venue and bar on the window
  grid, summed over venues, and against open interest;
* :mod:`~helpers.metrics.outlook.stress`: rolling liquidations against the rolling range,
  and the stress-without-relief flag;
* :mod:`~helpers.metrics.outlook.concentration`: staged or single capitulation;
* :mod:`~helpers.metrics.outlook.regimes`: open interest against price;
* :mod:`~helpers.metrics.outlook.funding`: funding periods, annualised rates, summary.
"""

from __future__ import annotations

from helpers.metrics.outlook.concentration import Concentration, concentration
from helpers.metrics.outlook.funding import (
    HOURS_PER_YEAR,
    PeriodHours,
    annualised_funding,
    funding_period_hours,
    funding_summary,
)
from helpers.metrics.outlook.liquidations import (
    TOTAL,
    hourly_liquidations,
    liquidations_on_grid,
    liquidations_to_oi,
    total_liquidations,
)
from helpers.metrics.outlook.regimes import REGIMES, classify_oi_price, oi_price_regimes
from helpers.metrics.outlook.stress import (
    flag_stress_without_relief,
    liquidations_vs_range,
    stress_bars,
)

__all__ = [
    "HOURS_PER_YEAR",
    "REGIMES",
    "TOTAL",
    "Concentration",
    "PeriodHours",
    "annualised_funding",
    "classify_oi_price",
    "concentration",
    "flag_stress_without_relief",
    "funding_period_hours",
    "funding_summary",
    "hourly_liquidations",
    "liquidations_on_grid",
    "liquidations_to_oi",
    "liquidations_vs_range",
    "oi_price_regimes",
    "stress_bars",
    "total_liquidations",
]
