"""Venue quirks in one table keyed by ccxt id: what each venue's API needs that ccxt does not
smooth over. Each entry's facts and their sources are in ``docs/venue-rules.md``; the side
and notional rule of each venue's liquidation payload is the dispatch table of
:mod:`helpers.sources.normalize` (one function per wire format).

Times are epoch milliseconds; page sizes are rows per request (a larger ``limit`` is refused
by the venue, not truncated, so these are its documented maxima).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

PAGE_LIMITS: Mapping[str, int] = {
    "liquidations": 500,
    "ohlcv": 1000,
    "open_interest": 500,
    "funding": 1000,
}
"""Rows per request for a venue with no stated maximum of its own."""

LiquidationRequest = Literal["since_until", "seconds_from_to", "oldest_first", "search_back"]
"""How ``fetch_liquidations`` is asked for ``[lo, hi)``: ``since_until`` (ccxt's own
``since`` + ``until``), ``seconds_from_to`` (Gate: ``from``/``to`` in SECONDS),
``oldest_first`` (Bitfinex: ``sort=1``, the venue defaults to newest first), ``search_back``
(Deribit: ``search_start_timestamp`` is the LATEST time searched back from)."""

LiveStream = Literal["per_symbol", "all_swaps", "all_markets"]
"""How a venue's liquidation stream is watched: one subscription per symbol (Bybit), every
swap at once (OKX), or the all-market stream (Binance ``!forceOrder@arr``)."""


@dataclass(frozen=True)
class VenueQuirks:
    """One venue's quirks; the defaults are ccxt's ordinary behaviour."""

    page_limits: Mapping[str, int] = field(default_factory=dict)
    """Rows per request, per table, where below :data:`PAGE_LIMITS`."""
    liquidation_window_ms: int | None = None
    """The longest time window the venue's liquidation query accepts."""
    time_resolution_ms: int = 1
    """Resolution of the venue's liquidation timestamps and time filters."""
    global_liquidation_feed: bool = False
    """The liquidation endpoint lists every market at once (ccxt keeps the symbol's rows)."""
    liquidation_request: LiquidationRequest = "since_until"
    funding_end_param: Literal["until", "after"] = "until"
    """How a funding window's end is sent: ccxt's ``until`` (inclusive), or OKX's own
    ``after`` (exclusive), since ccxt sends OKX's ``since`` as ``before`` only."""
    oi_value_in_usd: bool = False
    """Open-interest history carries a USD value even for inverse (coin-margined) contracts."""
    live_stream: LiveStream | None = None
    """The venue's ccxt.pro liquidation stream, when it has one."""

    def page_limit(self, table: str) -> int:
        return self.page_limits.get(table, PAGE_LIMITS[table])


_GATE = VenueQuirks(
    page_limits={"liquidations": 1000},
    liquidation_window_ms=3_600_000,
    time_resolution_ms=1000,
    liquidation_request="seconds_from_to",
    oi_value_in_usd=True,
)

VENUES: Mapping[str, VenueQuirks] = {
    "binanceusdm": VenueQuirks(live_stream="all_markets"),
    "okx": VenueQuirks(
        page_limits={"funding": 100},
        funding_end_param="after",
        oi_value_in_usd=True,
        live_stream="all_swaps",
    ),
    "bybit": VenueQuirks(
        page_limits={"funding": 200, "open_interest": 200},
        oi_value_in_usd=True,
        live_stream="per_symbol",
    ),
    "gate": _GATE,
    "gateio": _GATE,
    "htx": VenueQuirks(page_limits={"liquidations": 100}, liquidation_window_ms=2 * 3_600_000),
    "bitfinex": VenueQuirks(
        page_limits={"liquidations": 500},
        global_liquidation_feed=True,
        liquidation_request="oldest_first",
    ),
    "deribit": VenueQuirks(page_limits={"liquidations": 100}, liquidation_request="search_back"),
}
"""Every venue with a quirk, by ccxt id; any other venue gets :class:`VenueQuirks` defaults."""

_ORDINARY = VenueQuirks()


def quirks(exchange_id: str) -> VenueQuirks:
    """The quirks of ``exchange_id`` (ccxt id); defaults for a venue not in :data:`VENUES`."""
    return VENUES.get(exchange_id, _ORDINARY)


def live_venues() -> tuple[str, ...]:
    """ccxt ids of the venues with a liquidation stream, in table order."""
    return tuple(ex for ex, q in VENUES.items() if q.live_stream is not None)
