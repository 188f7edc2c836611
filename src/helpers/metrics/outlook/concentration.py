"""Staged deleveraging or a single capitulation bar: how concentrated liquidations are in time
(conventions: :mod:`helpers.metrics.outlook`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pandas as pd

from helpers.errors import UserError
from helpers.metrics.parameters import OutlookParameters

_D = OutlookParameters()
"""Defaults of the knobs (:mod:`helpers.metrics.parameters`)."""


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
    hourly: pd.DataFrame, column: str = "long_usd", single_share: float = _D.single_share
) -> Concentration:
    """Staged deleveraging or one capitulation bar? See :class:`Concentration`.

    ``hourly`` has ``ts`` and ``column`` (USD per bar), e.g.
    :func:`helpers.metrics.outlook.hourly_liquidations`.
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
    top_ts = cast(pd.Timestamp, shares.idxmax())  # ``hourly`` is indexed by ts above
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
