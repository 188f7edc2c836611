"""What each venue is asked: the ccxt method of every table, the params of a window's
request, request windows cut to the longest a venue accepts, and the timestamps of every
row the venue sent (times in ms since the epoch, windows half-open ``[lo, hi)``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpers.sources.venue_rules import quirks


def split_window(a: int, b: int, longest: int | None) -> list[tuple[int, int]]:
    """``[a, b)`` cut into consecutive windows of at most ``longest`` ms (whole when None)."""
    if not longest:
        return [(a, b)]
    return [(t, min(t + longest, b)) for t in range(a, b, longest)]


def venue_row_stamps(exchange: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Timestamps of every liquidation in the venue's last response: ``rows`` themselves,
    except for a feed of every market (``global_liquidation_feed`` in
    :mod:`~helpers.sources.venue_rules`), whose whole
    payload is parsed again without ccxt's filter on the symbol."""
    if not quirks(exchange.id).global_liquidation_feed:
        return [int(r["timestamp"]) for r in rows]
    payload = exchange.last_json_response
    every = exchange.parse_liquidations(exchange.to_array(payload)) if payload else []
    return [int(r["timestamp"]) for r in every]


FETCH_METHOD = {
    "liquidations": ("fetchLiquidations", "fetch_liquidations"),
    "ohlcv": ("fetchOHLCV", "fetch_ohlcv"),
    "open_interest": ("fetchOpenInterestHistory", "fetch_open_interest_history"),
    "funding": ("fetchFundingRateHistory", "fetch_funding_rate_history"),
    "long_short_ratio": ("fetchLongShortRatioHistory", "fetch_long_short_ratio_history"),
}


def forward_request(exchange_id: str, table: str, hi: int) -> dict[str, Any]:
    """Params for ccxt's OHLCV, open-interest and funding fetches of a window ending at
    ``hi`` ms (exclusive): ``until`` = ``hi - 1`` (inclusive). okx funding: ccxt sends
    ``since`` as ``before`` only, and OKX then returns its latest records whatever the
    window, so the end is passed as OKX's own ``after`` (exclusive)."""
    if table == "funding" and quirks(exchange_id).funding_end_param == "after":
        return {"after": hi}
    return {"until": hi - 1}


def ratio_request(exchange_id: str, lo: int, hi: int) -> tuple[int | None, dict[str, Any]]:
    """(``since``, params) for ccxt ``fetch_long_short_ratio_history`` over ``[lo, hi)`` ms,
    by the venue's ``long_short_ratio.window`` (:data:`~helpers.sources.venue_rules.RatioWindow`):
    ccxt's ``since`` + ``until`` (inclusive); Bybit's own ``startTime``/``endTime``
    (inclusive, ccxt sends no time for it); nothing for a venue that takes no time."""
    rules = quirks(exchange_id).long_short_ratio
    style = rules.window if rules is not None else "since_until"
    if style == "start_end_params":
        return None, {"startTime": lo, "endTime": hi - 1}
    if style == "latest_only":
        return None, {}
    return lo, {"until": hi - 1}


def liquidation_request(exchange_id: str, lo: int, hi: int) -> tuple[int | None, dict[str, Any]]:
    """(``since``, params) for ccxt ``fetch_liquidations`` over ``[lo, hi)`` ms.

    gate: ccxt sends ``since`` unchanged as ``from``, but Gate's ``from``/``to`` are
    SECONDS, so the window is passed as seconds directly. bitfinex: ``sort=1`` (oldest
    first; the venue's default is newest first). deribit: ``search_start_timestamp`` is the
    LATEST time searched back from, so the window end is passed there."""
    style = quirks(exchange_id).liquidation_request
    if style == "seconds_from_to":
        return None, {"from": lo // 1000, "to": (hi - 1) // 1000}
    if style == "oldest_first":
        return lo, {"until": hi - 1, "sort": 1}
    if style == "search_back":
        return None, {"search_start_timestamp": hi - 1}
    return lo, {"until": hi - 1}
