"""Time windows of the fetcher: the window still to fetch, the check that a venue kept to
it, and ms conversions (times in ms since the epoch, windows half-open ``[lo, hi)``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.sources.retry import JunkResponse

UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}


@dataclass(frozen=True)
class _Window:
    """A time window still to fetch; the flags say whether a row is already known just
    before ``lo`` and at ``hi`` (for bars, an empty window between two is a gap)."""

    lo: int
    hi: int
    row_before: bool = False
    row_at_end: bool = False


def _reject_outside_window(
    exchange_id: str, table: str, symbol: str, stamps: Sequence[int], w: _Window
) -> None:
    """Raise :class:`JunkResponse` when the venue ignored the window: rows all before its
    start, or, for the first request of a range, all at or after its end (a venue that
    returns its latest rows whatever the window). A later window's rows past its end are
    those of a venue paging forward past an empty stretch: the window is empty."""
    if max(stamps) < w.lo:
        where = f"before the requested start {_iso(w.lo)}"
    elif min(stamps) >= w.hi and not (w.row_before or w.row_at_end):
        where = f"at or after the requested end {_iso(w.hi)}"
    else:
        return
    raise JunkResponse(
        f"{exchange_id} {table} {symbol}: rows all {where} (the venue ignored the time window)"
    )


def _ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


def interval_ms(interval: str) -> int:
    """Length of a bar interval (``1m`` ... ``1d``) in milliseconds."""
    return int(interval[:-1]) * UNIT_MS[interval[-1]]


def _now_ms() -> int:
    return _ms(pd.Timestamp.now(tz="UTC"))


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _err(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:400]
