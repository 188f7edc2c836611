"""Open interest against price: the positioning regime of each bar (new longs, new shorts,
short covering, long capitulation, flat). Changes are fractions (``0.01`` = 1%)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.metrics.clusters import require_one_base
from helpers.metrics.liquidation_map import oi_on_grid
from helpers.metrics.parameters import OutlookParameters
from helpers.timegrid import Window

_D = OutlookParameters()
"""Defaults of the knobs (:mod:`helpers.metrics.parameters`)."""

REGIMES = ("new longs", "new shorts", "short covering", "long capitulation", "flat")


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
    window: Window,
    deadband: float = _D.deadband,
    max_age: pd.Timedelta | str = "15min",
) -> pd.DataFrame:
    """Per bar: open-interest change against price change, and the regime they imply.

    ``grid`` is the price grid (:func:`helpers.metrics.clusters.price_grid`) of the bars to
    classify, bars of the window's interval.
    ``open_interest`` must be of the grid's coin (one base currency, else :class:`UserError`);
    it is summed over the window's ``exchanges`` (None: all in the frame) at the bar's open
    and at its close (the next open), each as in
    :func:`helpers.metrics.liquidation_map.oi_on_grid`; the sum is NaN if any venue is missing.
    ``oi_change = oi_end / oi_start - 1``, ``price_change = close / open - 1``, ``regime``
    from :func:`classify_oi_price`.
    Columns: ``ts``, ``oi_start_usd``, ``oi_end_usd``, ``oi_change``, ``open``, ``close``,
    ``price_change``, ``regime``.
    """
    require_one_base(open_interest, "open interest")
    step = window.step
    opens = pd.DatetimeIndex(grid["ts"])
    per_venue = oi_on_grid(open_interest, opens.union(opens + step), max_age, window.exchanges)
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
