"""Notebook 05, what to watch: liquidations vs range, concentration, liquidations vs OI,
OI/price regimes and funding, in one call, and the key figures it reports.

Conventions (missing is None, never 0; money in US dollars; shares as fractions, reported in
percent points in key figures): :mod:`helpers.metrics.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics.figures import num_or_none, pct_or_none, rows_of_base
from helpers.metrics.parameters import OutlookParameters
from helpers.present import KeyFigure
from helpers.units import fmt_usd

if TYPE_CHECKING:
    from helpers.metrics.outlook import Concentration

_D = OutlookParameters()
"""Defaults of this analysis's knobs (helpers.metrics.parameters)."""


@dataclass(frozen=True)
class OutlookResult:
    """Rolling liquidations vs range, stress flag, concentration, liquidations/OI, regimes,
    funding."""

    base: str
    window: int
    vs_range: pd.DataFrame
    concentration: Concentration
    to_oi: pd.DataFrame
    regimes: pd.DataFrame
    funding: pd.DataFrame
    funding_rows: pd.DataFrame

    @property
    def stress(self) -> pd.DataFrame:
        """The flagged bars, one row each (:func:`helpers.metrics.outlook.stress_bars`)."""
        from helpers.metrics.outlook import stress_bars

        return stress_bars(self.vs_range)


def outlook_analysis(
    ds: Dataset,
    base: str = _D.base,
    rolling_window: int = _D.rolling_window,
    rising_steps: int = _D.rising_steps,
    stress_min_usd: float = _D.stress_min_usd,
    single_share: float = _D.single_share,
    deadband: float = _D.deadband,
) -> OutlookResult:
    from helpers.metrics import clusters, outlook

    bars, window = ds.bars(), ds.window
    hourly = outlook.hourly_liquidations(bars, window)
    ohlcv = rows_of_base(ds.ohlcv(), base)
    if ohlcv.empty:
        grid = pd.DataFrame()
        vs_range = pd.DataFrame()
        regimes = pd.DataFrame()
    else:
        grid = clusters.price_grid(clusters.reference_bars(ohlcv, window), window)
        vs_range = outlook.flag_stress_without_relief(
            outlook.liquidations_vs_range(hourly, grid, rolling_window),
            rising_steps,
            stress_min_usd,
        )
        later = ds.store.read(
            "open_interest", ds.start, ds.end + pd.Timedelta(hours=1), ds.exchanges, ds.symbols
        )
        regimes = outlook.oi_price_regimes(rows_of_base(later, base), grid, window, deadband)
    per_venue = outlook.liquidations_on_grid(bars, window)
    funding = ds.funding()
    return OutlookResult(
        base=base,
        window=rolling_window,
        vs_range=vs_range,
        concentration=outlook.concentration(hourly, "long_usd", single_share),
        to_oi=outlook.liquidations_to_oi(per_venue, ds.open_interest()),
        regimes=regimes,
        funding=outlook.funding_summary(funding) if len(funding) else pd.DataFrame(),
        funding_rows=outlook.annualised_funding(funding) if len(funding) else funding,
    )


def outlook_figures(r: OutlookResult) -> list[KeyFigure]:
    c = r.concentration
    flags = r.vs_range["stress_flag"] if "stress_flag" in r.vs_range else pd.Series(dtype=bool)
    flagged = int(flags.fillna(False).astype(bool).sum())
    minimum = r.vs_range.attrs.get("min_usd")
    last_flag = (
        None if flags.empty or pd.isna(flags.iloc[-1]) else ("yes" if flags.iloc[-1] else "no")
    )
    regime_counts = r.regimes["regime"].value_counts() if "regime" in r.regimes else pd.Series()
    funding_mean = (
        pct_or_none(r.funding["mean_annualised"].mean()) if "mean_annualised" in r.funding else None
    )
    return [
        KeyFigure("deleveraging_shape", c.shape, "", "Single capitulation or staged", "realised"),
        KeyFigure(
            "top_bar_share_pct",
            pct_or_none(c.top_share),
            "%",
            "Share of the window's long liquidations in its top bar",
            "realised",
        ),
        KeyFigure(
            "effective_bars",
            num_or_none(c.effective_hours),
            "bars",
            "Effective number of bars (1/HHI)",
            "realised",
        ),
        KeyFigure(
            "stress_flag_bars",
            flagged,
            "count",
            f"Bars flagged: rolling longs of {fmt_usd(minimum)} or more, rising, range "
            "narrowing, no recovery"
            if minimum is not None
            else "Bars flagged: longs rising, range narrowing, no recovery",
            "realised",
        ),
        KeyFigure("stress_flag_last_bar", last_flag, "", "Flag on the last bar", "realised"),
        KeyFigure(
            "long_capitulation_bars",
            int(regime_counts.get("long capitulation", 0)),
            "count",
            f"{r.base} bars with OI down and price down",
            "realised",
        ),
        KeyFigure(
            "new_shorts_bars",
            int(regime_counts.get("new shorts", 0)),
            "count",
            f"{r.base} bars with OI up and price down",
            "realised",
        ),
        KeyFigure(
            "mean_funding_annualised_pct",
            funding_mean,
            "%",
            "Mean funding, annualised (simple), across venues and symbols",
            "realised",
        ),
    ]
