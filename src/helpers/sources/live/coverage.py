"""Coverage of the streams: the gaps (``dropped``, ``silent``, ``failed``) written to the
``gaps`` table, what each exchange's streams delivered, and where each stream is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.sources.live.healing import Link
from helpers.sources.live.streams import TABLE, Stream


@dataclass
class Gap:
    """A stretch of a stream without coverage; ``end`` None while it lasts."""

    stream: Stream
    start: pd.Timestamp
    reason: str
    end: pd.Timestamp | None = None

    def row(self, now: pd.Timestamp) -> dict[str, Any]:
        end = self.end if self.end is not None else now
        return {
            "start": self.start,
            "end": max(end, self.start),
            "exchange": self.stream.exchange,
            "symbol": self.stream.symbol,
            "table_name": TABLE,
            "reason": self.reason,
            "ts": self.start,
        }


@dataclass
class Stats:
    """What one exchange's streams delivered: events stored, their time span, gaps."""

    events: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    gaps: list[Gap] = field(default_factory=list)

    def add(self, ts: pd.Series) -> None:
        if ts.empty:
            return
        lo, hi = ts.min(), ts.max()
        self.first = lo if self.first is None else min(self.first, lo)
        self.last = hi if self.last is None else max(self.last, hi)


@dataclass
class StreamState:
    """Where one stream is: the ``since`` (ms) of its next watch call, event ids seen lately,
    the last message time, whether it is reconnecting, the last cache item taken, the end of
    its last poll (``awake``, s), the newest event time taken (ms, the venue's clock), and the
    URL and connection (:class:`~helpers.sources.live.healing.Link`) it is on."""

    last_message: pd.Timestamp
    since: int | None = None
    seen: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    reconnecting: bool = False
    last_item: Any = None
    awake: float = field(default_factory=time.time)
    newest_ms: int | None = None
    url: str | None = None
    link: Link | None = None
