"""Reading a venue's raw liquidation record: the :class:`Event` a parser returns, tolerant
number and timestamp readers, the stable hash used when a venue gives no id, and the
liquidated side, read where the venue's ``liquidation_side`` in
:data:`~helpers.sources.venue_rules.VENUES` says.

Timestamps are epoch milliseconds; sides are the liquidated POSITION (``long`` = a forced
sell, ``short`` = a forced buy).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from helpers import schema
from helpers.sources.venue_rules import SideConvention, SideField


@dataclass(frozen=True)
class Event:
    """One liquidation read from a venue's raw fields, before unit conversion.

    ``contracts`` is the size in the venue's quantity unit (contracts, or base units when the
    venue's contract size is 1 base unit); ``rank`` orders duplicates of one ``event_id``
    within a batch (the lowest wins)."""

    ts_ms: int | None
    symbol: str | None
    side: str | None
    price: float | None
    contracts: float | None
    event_id: str
    rank: int = 0


def to_float(value: Any) -> float | None:
    """``value`` as a finite float; None when missing, empty, not a number or infinite."""
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def to_int(value: Any) -> int | None:
    """``value`` as an int (truncated); None when it is not a finite number."""
    x = to_float(value)
    return None if x is None else int(x)


def nan_if_missing(value: float | None) -> float:
    return math.nan if value is None else float(value)


def timestamp_ms(item: Mapping[str, Any], info: Mapping[str, Any], *keys: str) -> int | None:
    """The first of ``keys`` in ``info`` that is a number (epoch ms), else ccxt's
    ``timestamp``."""
    for k in keys:
        v = to_int(info.get(k))
        if v is not None:
            return v
    return to_int(item.get("timestamp"))


def raw_hash(*parts: Any) -> str:
    """A stable id for an event without a venue id: ``h:`` + 20 hex of SHA-1 over the raw
    fields as canonical JSON."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return "h:" + hashlib.sha1(blob.encode()).hexdigest()[:20]


def raw_info(item: Mapping[str, Any]) -> Any:
    """The venue's raw record of a ccxt item (``{}`` when it has none)."""
    info = item.get("info")
    return info if info is not None else {}


def plain(info: Any) -> Any:
    """``info`` as a plain dict for hashing (lists and scalars unchanged)."""
    return dict(info) if isinstance(info, Mapping) else info


# ---- the liquidated side -------------------------------------------------------------------


def liquidated_side(record: Mapping[str, Any], fields: Iterable[SideField]) -> str | None:
    """The liquidated POSITION (``long``/``short``) from the first of ``fields`` that gives
    one, each read by its convention; None when none does."""
    for f in fields:
        side = _CONVENTIONS[f.convention](_first_present(record, f.keys))
        if side is not None:
            return side
    return None


def _first_present(record: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in record:
            return record[k]
    return None


def order_side_to_position(order_side: Any) -> str | None:
    """A liquidation ORDER side to the liquidated POSITION: sell -> long, buy -> short."""
    s = str(order_side or "").strip().lower()
    return {
        "sell": "long",
        "buy": "short",
        "ask": "long",
        "bid": "short",
        "a": "long",
        "b": "short",
    }.get(s)


def _position_named(value: Any) -> str | None:
    s = str(value or "").strip().lower()
    return s if s in schema.SIDES else None


def _position_as_buy_sell(value: Any) -> str | None:
    return {"buy": "long", "sell": "short"}.get(str(value).lower())


def _position_sign(value: Any) -> str | None:
    size = to_float(value)
    return None if not size else ("long" if size > 0 else "short")


_CONVENTIONS: Mapping[SideConvention, Callable[[Any], str | None]] = {
    "order": order_side_to_position,
    "position": _position_named,
    "position_buy_sell": _position_as_buy_sell,
    "position_sign": _position_sign,
}
