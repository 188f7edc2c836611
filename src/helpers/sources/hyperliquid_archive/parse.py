"""One line of the archive -> the liquidations it holds, counted once each.

* A fill is a liquidation fill when it carries ``liquidation`` =
  ``{liquidatedUser, markPx, method}``. Both counterparties' fills of the trade carry it;
  only the fill whose ``user`` is ``liquidatedUser`` is kept (each liquidation once).
* One liquidation order can fill against several resting orders: each fill is its own
  event, ``event_id = "tid:<tid>"`` (the trade id, as the ccxt REST rule uses, so the same
  trade fetched both ways is stored once).
* ``side`` of the liquidated user's fill is the ORDER side: ``A`` (ask, a forced sell) = a
  long position liquidated, ``B`` (bid, a forced buy) = a short.
* ``dir`` (``Close Long``, ``Close Short``, ...) must agree: a ``dir`` naming the other
  direction (``Close Long`` on a ``B`` fill) is not guessed at, the fill is quarantined
  with the reason. A ``dir`` naming no direction (``Auto-Deleveraging``...) is not checked.
* ``amount = sz`` (base units), ``price = px``, ``notional_usd = px x sz``: perpetuals are
  margined and quoted in USDC, counted as 1 USD.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from helpers.sources.hyperliquid_archive.layout import NODE_FILLS, NODE_FILLS_BY_BLOCK, Layout
from helpers.sources.normalize import hyperliquid_symbol, raw_hash

try:  # orjson is optional: about five times faster on the archive's large lines
    import orjson

    def _loads(line: bytes) -> Any:
        return orjson.loads(line)

except ImportError:  # pragma: no cover - depends on the environment

    def _loads(line: bytes) -> Any:
        return json.loads(line)


SOURCE = "hyperliquid:node-archive"
EXCHANGE = "hyperliquid"
ORDER_SIDE_TO_POSITION = {"A": "long", "B": "short"}
MARKER = b'"liquidation"'
"""Bytes every line holding a liquidation fill contains; other lines are not parsed."""

_DIR_ORDER_SIDE = {
    "close long": "A",
    "long > short": "A",
    "open short": "A",
    "close short": "B",
    "short > long": "B",
    "open long": "B",
}
"""The order side a ``dir`` implies (closing a long is a sell, ``A``)."""


class MalformedLine(ValueError):
    """A line that is not JSON or not of its layout's shape."""


def load(line: bytes) -> Any:
    try:
        return _loads(line)
    except ValueError:
        raise MalformedLine("not a JSON line") from None


def user_fills(layout: Layout, record: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The ``(user, fill)`` pairs of one parsed line of a fills layout."""
    if layout is NODE_FILLS_BY_BLOCK:
        if not isinstance(record, Mapping) or not isinstance(record.get("events"), list):
            raise MalformedLine("not a block: no 'events' list")
        events = record["events"]
    elif layout is NODE_FILLS:
        events = [record]
    else:
        raise ValueError(f"{layout.name} holds trades, not fills")
    for event in events:
        if (
            not isinstance(event, list)
            or len(event) != 2
            or not isinstance(event[0], str)
            or not isinstance(event[1], Mapping)
        ):
            raise MalformedLine("a fill event is not [user, fill]")
        yield event[0], event[1]


def _position(fill: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(position side, reason it cannot be read) of the liquidated user's fill."""
    side = str(fill.get("side") or "")
    position = ORDER_SIDE_TO_POSITION.get(side)
    if position is None:
        return None, f"side {side!r} is neither 'A' (sell) nor 'B' (buy)"
    direction = str(fill.get("dir") or "")
    implied = _DIR_ORDER_SIDE.get(direction.strip().lower())
    if implied is not None and implied != side:
        return None, f"dir {direction!r} contradicts side {side!r}"
    return position, None


def _number(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def liquidation_row(
    user: str, fill: Mapping[str, Any], coins: Collection[str] | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(row, None)`` for the liquidated user's own liquidation fill, ``(row, reason)`` for
    one to quarantine, ``(None, None)`` for any other fill (not a liquidation, the
    counterparty's leg, a spot fill, a coin outside ``coins``)."""
    liq = fill.get("liquidation")
    if not isinstance(liq, Mapping):
        return None, None
    victim = str(liq.get("liquidatedUser") or "").lower()
    if not victim or str(user).lower() != victim:
        return None, None
    coin = str(fill.get("coin") or "")
    symbol = hyperliquid_symbol(coin)
    if symbol is None or (coins is not None and coin.upper() not in coins):
        return None, None
    time_ms = fill.get("time")
    ts = (
        int(time_ms) if isinstance(time_ms, int | float) and not isinstance(time_ms, bool) else None
    )
    price, amount = _number(fill.get("px")), _number(fill.get("sz"))
    tid = fill.get("tid")
    event_id = (
        f"tid:{tid}"
        if isinstance(tid, int) and not isinstance(tid, bool)
        else raw_hash("hyperliquid", coin, time_ms, fill.get("px"), fill.get("sz"), victim)
    )
    position, reason = _position(fill)
    row = {
        "ts": ts,  # ms since the epoch, UTC (None: the fill has no time)
        "exchange": EXCHANGE,
        "symbol": symbol,
        "base": coin,
        "side": position,
        "price": price,
        "amount": amount,
        "notional_usd": price * amount,
        "source": SOURCE,
        "event_id": event_id,
    }
    return row, reason
