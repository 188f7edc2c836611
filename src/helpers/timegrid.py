"""Bar intervals and the window grid every metric lays its bars on.

A window is half-open, ``start <= ts < end``, in UTC; bars are stamped at their open time.
"""

from __future__ import annotations

import pandas as pd

from helpers.errors import UserError

INTERVAL_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
"""Bar interval (ccxt notation) -> its length in seconds."""


def check_interval(interval: str) -> str:
    """``interval`` itself when known; a one-line :class:`UserError` otherwise."""
    if interval not in INTERVAL_SECONDS:
        raise UserError(f"unknown interval {interval!r}; choose one of {list(INTERVAL_SECONDS)}")
    return interval


def interval_timedelta(interval: str) -> pd.Timedelta:
    """The length of one bar of ``interval`` (``"1h"`` -> one hour; ``"1m"`` is a minute)."""
    return pd.Timedelta(seconds=INTERVAL_SECONDS[check_interval(interval)])


def require_utc(value: pd.Timestamp | str, name: str) -> pd.Timestamp:
    """``value`` as a UTC timestamp; a :class:`UserError` naming ``name`` if it has no timezone."""
    t = pd.Timestamp(value)
    if t.tzinfo is None:
        raise UserError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return t.tz_convert("UTC")


def window_grid(
    start: pd.Timestamp | str, end: pd.Timestamp | str, interval: str = "1h"
) -> pd.DatetimeIndex:
    """Bar open times of the half-open window ``[start, end)`` in steps of ``interval`` (UTC).

    ``start`` must sit on the interval grid (for ``1h``: a whole hour) so that bar open times
    line up with stored bars.
    """
    s, e = require_utc(start, "start"), require_utc(end, "end")
    step = interval_timedelta(interval)
    if e <= s:
        raise UserError(f"empty window: end {e} is not after start {s}")
    if s != s.floor(step):
        raise UserError(f"start {s} is not on the {interval} grid")
    return pd.date_range(s, e, freq=step, inclusive="left", name="ts").as_unit("us")


def as_utc(value: pd.Timestamp | str) -> pd.Timestamp:
    """``value`` as a UTC timestamp; a naive value is taken to be UTC already."""
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
