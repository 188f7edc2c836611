"""Coarser liquidation bars from finer stored ones, only where every finer bar was observed.

A vendor's hourly bars serve a 4h or 1d report: :func:`helpers.aggregate.load_bars` reads
the requested interval and the finer ones that divide it, and for each (``exchange``,
``symbol``, ``source``) that has no bar at all at the requested interval in the window it
builds them from that source's FINEST stored interval that divides the requested one
(:func:`roll_up`). A coarse bar exists only when ALL of its finer bars are stored (observed):
a 4h bar from four observed hours; with one hour missing the 4h bar is missing, never a
partial sum. USD is summed; counts are summed and NA when any finer count is NA. Coarse bars
open on the interval's UTC grid (a 4h bar at 00:00, 04:00...; a 1d bar at midnight).
"""

from __future__ import annotations

import pandas as pd

from helpers.schema import INTERVALS
from helpers.timegrid import INTERVAL_SECONDS, interval_timedelta

_GROUP = ["exchange", "symbol", "source"]
_SUMS = ["long_usd", "short_usd", "long_count", "short_count"]


def finer_intervals(interval: str) -> list[str]:
    """The stored intervals finer than ``interval`` that divide it, finest first
    (``4h`` -> ``1m, 5m, 15m, 1h``)."""
    secs = INTERVAL_SECONDS[interval]
    return [i for i in INTERVALS if INTERVAL_SECONDS[i] < secs and secs % INTERVAL_SECONDS[i] == 0]


def roll_up(fine: pd.DataFrame, interval: str) -> pd.DataFrame:
    """``liquidation_bars`` rows of ONE finer interval per (exchange, symbol, source) as bars
    of ``interval``: one row per coarse bar in which every finer bar has a row (module
    docstring), ``interval`` set to the coarse one; columns as in ``fine``."""
    if fine.empty:
        return fine.assign(interval=pd.Series(dtype="string"))
    need = INTERVAL_SECONDS[interval] // fine["interval"].map(INTERVAL_SECONDS)
    rows = fine.assign(
        ts=fine["ts"].dt.floor(interval_timedelta(interval)),
        _need=need.astype("int64"),
        **{f"_na_{c}": fine[c].isna() for c in _SUMS},
    )
    keys = [*_GROUP, "base", "ts"]
    out = rows.groupby(keys, observed=True, sort=False, dropna=False).agg(
        **{c: (c, "sum") for c in _SUMS},
        **{f"_na_{c}": (f"_na_{c}", "max") for c in _SUMS},
        _rows=("_need", "size"),
        _need=("_need", "first"),
    )
    for c in _SUMS:
        out[c] = out[c].where(~out[f"_na_{c}"].astype(bool))
    complete = out[out["_rows"] == out["_need"]].reset_index()
    complete["interval"] = interval
    return complete[list(fine.columns)]


def with_rolled_up(bars: pd.DataFrame, interval: str) -> pd.DataFrame:
    """``bars`` (``liquidation_bars`` rows of ``interval`` and of :func:`finer_intervals`)
    as bars of ``interval`` only: each (exchange, symbol, source) with a row of
    ``interval`` keeps those rows; every other one is rolled up from its finest interval
    (:func:`roll_up`)."""
    at = bars["interval"] == interval
    direct = bars[at]
    fine = bars[~at]
    if fine.empty:
        return direct
    served = direct[_GROUP].drop_duplicates().assign(_served=True)
    fine = fine.merge(served, on=_GROUP, how="left")
    fine = fine[fine["_served"].isna()].drop(columns="_served")
    seconds = fine["interval"].map(INTERVAL_SECONDS)
    finest = seconds.groupby([fine[c] for c in _GROUP], dropna=False).transform("min")
    rolled = roll_up(fine[(seconds == finest).to_numpy()], interval)
    if rolled.empty:
        return direct
    return pd.concat([direct, rolled], ignore_index=True)
