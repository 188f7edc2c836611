"""Builders shared by the tests (imported as ``factories``; pytest puts tests/ on sys.path)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from helpers.timegrid import Window

T0 = pd.Timestamp("2025-11-10", tz="UTC")
H = pd.Timedelta(hours=1)


def win(
    start: pd.Timestamp,
    end: pd.Timestamp,
    exchanges: Iterable[str] | None = None,
    sources: Iterable[str] = (),
    interval: str = "1h",
) -> Window:
    """The plot/metric context of a test: a window with its venues and sources."""
    ex = None if exchanges is None else tuple(exchanges)
    return Window(start, end, ex, None, interval, tuple(sources))
