"""Response checks: junk (an HTTP 2xx body that is not JSON, a payload that is not a list,
rows without timestamps or prices) raises :class:`~helpers.sources.retry.JunkResponse`
before anything is stored, and fixes to ccxt parsers that drop a field."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from helpers.sources.rate_limits import LAST_STATUS_ATTR
from helpers.sources.retry import JunkResponse
from helpers.sources.venue_rules import ParserFix, quirks


def install_parser_fixes(exchange: Any) -> None:
    """Mend the ccxt 4.5.90 parsers that drop a field the venue sends, as the venue's
    ``parser_fixes`` in :data:`helpers.sources.venue_rules.VENUES` name them."""
    for fix in quirks(exchange.id).parser_fixes:
        _PARSER_FIXES[fix](exchange)


def _oi_history_time_at_index_0(exchange: Any) -> None:
    """Bitfinex: ``parse_open_interest`` reads the time at index 1, but the rows of
    ``status/deriv/{key}/hist`` (23 fields, no key) have it at index 0 (bitfinex.py line
    3538); every history row would come back without a timestamp."""
    original = exchange.parse_open_interest

    def parse_open_interest(interest: Any, market: Any = None) -> Any:
        parsed = original(interest, market)
        if isinstance(interest, list) and len(interest) == 23 and parsed["timestamp"] is None:
            parsed["timestamp"] = exchange.safe_integer(interest, 0)
            parsed["datetime"] = exchange.iso8601(parsed["timestamp"])
        return parsed

    exchange.parse_open_interest = parse_open_interest


_PARSER_FIXES: Mapping[ParserFix, Callable[[Any], None]] = {
    "oi_history_time_at_index_0": _oi_history_time_at_index_0,
}


def install_response_check(exchange: Any) -> None:
    """Make ``exchange`` refuse junk instead of passing it on silently.

    * any HTTP 2xx whose body is not JSON (an HTML page, truncated JSON) raises
      :class:`JunkResponse` before ccxt's parsers see the text;
    * ccxt's since-filters drop parsed rows without a timestamp without a word: they now
      raise :class:`JunkResponse` instead;
    * the last JSON body is kept, so an empty result can be told apart from a payload of the
      wrong shape (see :func:`check_empty_payload`);
    * the last answer's HTTP status is kept (:func:`helpers.sources.rate_limits.last_status`),
      so a rate-limit answer is known whatever class ccxt raises for it.
    """
    original = exchange.on_rest_response
    exchange.enableLastJsonResponse = True

    def on_rest_response(
        code: Any, reason: Any, url: str, method: str, headers: Any, body: Any, *rest: Any
    ) -> Any:
        body = original(code, reason, url, method, headers, body, *rest)
        status = int(code) if code is not None else 0
        setattr(exchange, LAST_STATUS_ATTR, status)
        if 200 <= status < 300:
            try:
                json.loads(body)
            except (TypeError, ValueError):
                start = " ".join(str(body)[:60].split())
                raise JunkResponse(
                    f"{exchange.id} {method} {url}: HTTP {status} body is not JSON "
                    f"(starts {start!r})"
                ) from None
        return body

    def checked(filter_fn: Callable[..., Any], key_arg: int) -> Callable[..., Any]:
        def run(array: Any, *args: Any, **kwargs: Any) -> Any:
            key = kwargs.get("key", args[key_arg] if len(args) > key_arg else "timestamp")
            for entry in exchange.to_array(array) if array is not None else []:
                value = entry[key] if isinstance(entry, list) else exchange.safe_value(entry, key)
                if not _is_ts(value):
                    raise JunkResponse(f"{exchange.id}: a parsed row has no timestamp: {entry}")
            return filter_fn(array, *args, **kwargs)

        return run

    exchange.on_rest_response = on_rest_response
    exchange.filter_by_since_limit = checked(exchange.filter_by_since_limit, 2)
    exchange.filter_by_value_since_limit = checked(exchange.filter_by_value_since_limit, 4)


def check_empty_payload(exchange: Any, rows: list[Any], what: str) -> None:
    """An empty result must come from an empty list in the venue's JSON (``[]``,
    ``{"data": []}``...); a payload with no list at all is the wrong shape."""
    if not rows and not _has_list(getattr(exchange, "last_json_response", None)):
        body = " ".join(json.dumps(exchange.last_json_response, default=str)[:80].split())
        raise JunkResponse(f"{what}: expected a list of rows, got {body}")


def _has_list(payload: Any) -> bool:
    if isinstance(payload, list):
        return True
    if isinstance(payload, Mapping):
        return any(_has_list(v) for v in payload.values())
    return False


def check_rows(table: str, rows: Any, what: str) -> list[Any]:
    """``rows`` if every row has what ``table`` needs, else :class:`JunkResponse`.

    ohlcv: ``[ts, open, high, low, close, volume]`` with an integer timestamp and positive
    finite prices; funding: a timestamp and a numeric ``fundingRate``; open_interest: a
    timestamp and an amount or value; liquidations: a timestamp and the raw ``info``;
    long_short_ratio: a timestamp and a positive finite ``longShortRatio``."""
    if not isinstance(rows, list):
        raise JunkResponse(f"{what}: expected a list of rows, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        problem = _row_problem(table, row)
        if problem:
            raise JunkResponse(f"{what}: row {i} {problem}; response rejected")
    return rows


def _row_problem(table: str, row: Any) -> str | None:
    if table == "ohlcv":
        if not isinstance(row, list | tuple) or len(row) < 6:
            return "is not [ts, open, high, low, close, volume]"
        if not _is_ts(row[0]):
            return "has no timestamp"
        if not all(_finite(v) and float(v) > 0 for v in row[1:5]):
            return "has a missing or non-positive price"
        return None
    if not isinstance(row, Mapping):
        return f"is a {type(row).__name__}, not a record"
    if not _is_ts(row.get("timestamp")):
        return "has no timestamp"
    if table == "funding" and not _finite(row.get("fundingRate")):
        return "has no funding rate"
    if table == "open_interest" and not (
        _finite(row.get("openInterestValue")) or _finite(row.get("openInterestAmount"))
    ):
        return "has neither open-interest amount nor value"
    if table == "liquidations" and row.get("info") is None:
        return "has no raw info"
    if table == "long_short_ratio" and not (
        _finite(row.get("longShortRatio")) and float(row["longShortRatio"]) > 0
    ):
        return "has no positive long/short ratio"
    return None


def _is_ts(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _row_ts(table: str, row: Any) -> int:
    return int(row[0]) if table == "ohlcv" else int(row["timestamp"])
