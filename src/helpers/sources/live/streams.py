"""The streams: which ccxt.pro subscription each live venue needs, and the ``watch*`` call
that waits on it (the kind of stream is ``live_stream`` in :mod:`helpers.sources.venue_rules`).

``binanceusdm`` and ``okx`` are one all-market stream each; ``bybit`` is one stream per symbol.
A watch call returns the stream's cached liquidations ``since`` a time in ms; the collector
asks from ``SINCE_MARGIN_MS`` before the newest event it has, and ccxt caches at most
``CACHE_LIMIT`` of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from helpers.errors import UserError
from helpers.sources.venue_rules import live_venues, quirks

LIVE_EXCHANGES = live_venues()
SINCE_MARGIN_MS = 5_000
CACHE_LIMIT = 10_000
TABLE = "liquidations"


def source_label(exchange_id: str) -> str:
    """``source`` of streamed events: ``ccxt.pro:<exchange>``."""
    return f"ccxt.pro:{exchange_id}"


@dataclass(frozen=True)
class Stream:
    """One subscription: ``symbol`` None for an all-market stream."""

    exchange: str
    symbol: str | None

    @property
    def label(self) -> str:
        return f"{self.exchange} {self.symbol or '(all markets)'}"


Watch = Callable[[Any, int | None], Awaitable[list[dict[str, Any]]]]
"""A ccxt.pro call: (exchange, since ms) -> the stream's cached liquidations since then."""


def watcher(stream: Stream) -> Watch:
    """The ccxt.pro call that waits for ``stream``'s next liquidations (since ``since`` ms)."""
    style = quirks(stream.exchange).live_stream
    if style == "per_symbol":
        symbol = stream.symbol
        if symbol is None:
            raise UserError(f"{stream.exchange} streams liquidations per symbol: configure symbols")
        return lambda ex, since: ex.watch_liquidations(symbol, since)
    if style == "all_swaps":
        return lambda ex, since: ex.watch_liquidations_for_symbols(
            None, since, None, {"type": "swap"}
        )
    if style == "all_markets":
        return lambda ex, since: ex.watch_liquidations_for_symbols(None, since)
    raise UserError(
        f"no live liquidation stream for {stream.exchange!r}; choose from {LIVE_EXCHANGES}"
    )


def streams_for(exchange_id: str, config: Any) -> list[Stream]:
    """The streams collected for ``exchange_id``: one all-market stream, or one per symbol."""
    if exchange_id not in LIVE_EXCHANGES:
        raise UserError(
            f"no live liquidation stream for {exchange_id!r}; choose from {LIVE_EXCHANGES}"
        )
    if quirks(exchange_id).live_stream != "per_symbol":
        return [Stream(exchange_id, None)]
    entry = config.exchange(exchange_id)
    symbols = entry.collect.get("symbols") or list(entry.symbols)
    if not symbols:
        raise UserError(
            f"{exchange_id} streams liquidations per symbol: list exchanges.{exchange_id}.symbols"
        )
    return [Stream(exchange_id, str(s)) for s in symbols]
