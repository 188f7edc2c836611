"""Time bounds, bar intervals, and the window every metric and plot works on.

One type for a time bound: inside the package every bound is a tz-aware UTC
``pd.Timestamp``; :data:`TimeLike` (ISO text, ``datetime``, ``Timestamp``) is what the edges
accept and :func:`to_utc` is the one conversion (a naive value is taken as UTC).

A window is half-open, ``start <= ts < end``, in UTC; bars are stamped at their open time.
:class:`Window` carries the window with its selection (exchanges, symbols), bar interval and
the sources its data came from: the context every metric and plot function takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from helpers.errors import UserError

TimeLike = str | datetime | pd.Timestamp
"""A time bound as the edges accept it; converted once by :func:`to_utc`."""

SIMULATED_SOURCE = "demo"
"""The ``source`` of every row the simulator writes."""

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


def require_utc(value: TimeLike, name: str) -> pd.Timestamp:
    """``value`` as a UTC timestamp; a :class:`UserError` naming ``name`` if it has no timezone."""
    t = pd.Timestamp(value)
    if t.tzinfo is None:
        raise UserError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return t.tz_convert("UTC")


def window_grid(start: TimeLike, end: TimeLike, interval: str = "1h") -> pd.DatetimeIndex:
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


def as_utc(value: TimeLike) -> pd.Timestamp:
    """``value`` as a UTC timestamp; a naive value is taken to be UTC already."""
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def to_utc(value: TimeLike | None) -> pd.Timestamp | None:
    """:func:`as_utc`, passing ``None`` (an open bound) through."""
    return None if value is None else as_utc(value)


def _names(values: Iterable[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return tuple(values)


@dataclass(frozen=True)
class Window:
    """The half-open window ``[start, end)`` (UTC) on ``exchanges`` and ``symbols`` (``None``:
    all), in bars of ``interval``, and the ``sources`` of the data shown (``("demo",)`` for
    the simulator): what a metric or plot needs besides its table."""

    start: pd.Timestamp
    end: pd.Timestamp
    exchanges: tuple[str, ...] | None = None
    symbols: tuple[str, ...] | None = None
    interval: str = "1h"
    sources: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        start: TimeLike,
        end: TimeLike,
        exchanges: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        interval: str = "1h",
        sources: Iterable[str] = (),
    ) -> Window:
        """A checked window: UTC bounds with ``start < end`` and a known ``interval``
        (one-line :class:`UserError` otherwise)."""
        try:
            s, e = as_utc(start), as_utc(end)
        except (ValueError, TypeError) as exc:
            raise UserError(f"bad start/end: {exc}") from None
        if s is pd.NaT or e is pd.NaT or e <= s:
            raise UserError(f"the window needs start < end, got {start!r} .. {end!r}")
        check_interval(interval)
        return cls(s, e, _names(exchanges), _names(symbols), interval, tuple(sources))

    @property
    def step(self) -> pd.Timedelta:
        """The length of one bar."""
        return interval_timedelta(self.interval)

    def grid(self) -> pd.DatetimeIndex:
        """Bar open times of the window (:func:`window_grid`)."""
        return window_grid(self.start, self.end, self.interval)

    def extended(self, bars: int) -> Window:
        """The same selection starting ``bars`` intervals earlier."""
        return replace(self, start=self.start - bars * self.step)

    def with_sources(self, sources: Iterable[str]) -> Window:
        """The same window, showing data from ``sources``."""
        return replace(self, sources=tuple(sorted({str(s) for s in sources})))

    @property
    def simulated(self) -> bool:
        """True when any of the data shown is simulated."""
        return SIMULATED_SOURCE in self.sources
