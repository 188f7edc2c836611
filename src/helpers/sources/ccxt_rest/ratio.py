"""The ``long_short_ratio`` table over ccxt REST: which venues and periods can be fetched,
how far back, the request of one window, and the one page of a venue that only serves its
latest rows (times in ms since the epoch, windows half-open ``[lo, hi)``).

Every venue's rules are in :data:`helpers.sources.venue_rules.VENUES` (``long_short_ratio``,
:class:`~helpers.sources.venue_rules.RatioRules`); the ratio is the ALL-ACCOUNTS one
(accounts net long / accounts net short), never a top-trader or position-size ratio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from helpers import schema
from helpers.sources.ccxt_rest.frames import ratio_frame
from helpers.sources.ccxt_rest.venue_requests import ratio_request
from helpers.sources.venue_rules import quirks

TABLE = "long_short_ratio"


def skip_reason(exchange_id: str, interval: str) -> str | None:
    """Why ``exchange_id``'s ratio of ``interval`` cannot be fetched; None when it can."""
    rules = quirks(exchange_id).long_short_ratio
    if rules is None:
        return "no verified long/short ratio rule for this venue (docs/venue-rules.md)"
    if interval not in rules.periods:
        return f"the venue publishes no {interval} ratio (periods: {', '.join(rules.periods)})"
    return None


def earliest(exchange_id: str, start: int, now: int, step: int) -> tuple[int, str]:
    """``start`` moved to the oldest period start (a multiple of ``step`` ms) the venue
    still keeps, and a note when it moved."""
    rules = quirks(exchange_id).long_short_ratio
    if rules is None or rules.history_ms is None or start >= now - rules.history_ms:
        return start, ""
    kept = now - rules.history_ms
    kept += -kept % step
    days = rules.history_ms // 86_400_000
    when = pd.Timestamp(kept, unit="ms", tz="UTC")
    return kept, f"the venue keeps {days} days: from {when:%Y-%m-%d %H:%M} UTC"


def latest_only(exchange_id: str) -> bool:
    """Whether the venue takes no time window and returns its latest rows (Bitget)."""
    rules = quirks(exchange_id).long_short_ratio
    return rules is not None and rules.window == "latest_only"


def fetch_args(
    exchange: Any, symbol: str, interval: str, lo: int, hi: int, limit: int
) -> tuple[Any, tuple[Any, ...]]:
    """ccxt's ``fetch_long_short_ratio_history`` and its arguments for ``[lo, hi)``."""
    rules = quirks(exchange.id).long_short_ratio
    timeframe = rules.periods[interval] if rules is not None else interval
    since, params = ratio_request(exchange.id, lo, hi)
    return exchange.fetch_long_short_ratio_history, (symbol, timeframe, since, limit, params)


def latest_page(
    rows: Sequence[Mapping[str, Any]],
    exchange_id: str,
    symbol: str,
    interval: str,
    lo: int,
    hi: int,
    step: int,
) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """The rows of a latest-only answer inside ``[lo, hi)`` (canonical frame) and the span
    they certainly cover: from ``lo`` when the venue also sent an older row, else from its
    first row; to ``hi`` when it also sent a newer row, else one period past its last. What
    lies before the venue's oldest row is not covered (a later run asks again); an answer
    with no row in the window covers nothing."""
    stamps = [int(r["timestamp"]) for r in rows]
    inside = sorted(
        (r for r in rows if lo <= int(r["timestamp"]) < hi), key=lambda r: r["timestamp"]
    )
    if not inside:
        return schema.empty(TABLE), None
    first = lo if min(stamps) < lo else int(inside[0]["timestamp"])
    last = hi if max(stamps) >= hi else min(int(inside[-1]["timestamp"]) + step, hi)
    return ratio_frame(inside, exchange_id, symbol, interval), (first, last)
