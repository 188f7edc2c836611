"""Canonical rows from raw stream frames, as the venue's websocket sends them (no ccxt
parser in between): each frame is unwrapped to the venue's liquidation records and read by
:func:`~helpers.sources.normalize.rows.normalize_liquidations`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from helpers.sources.normalize.records import to_int
from helpers.sources.normalize.rows import normalize_liquidations
from helpers.sources.normalize.units import Markets

Frames = Mapping[str, Any] | Iterable[Mapping[str, Any]]
"""One frame or several."""


def normalize_raw_binance_force_order(
    messages: Frames,
    markets: Markets | None = None,
    exchange_id: str = "binanceusdm",
    source: str | None = None,
) -> pd.DataFrame:
    """Canonical rows from raw Binance ``forceOrder`` frames (``{"e": "forceOrder", "o": {..}}``,
    the combined-stream ``{"stream":.., "data": {..}}`` wrapper, or bare ``o`` dicts)."""
    items = []
    for msg in _as_list(messages):
        msg = msg.get("data", msg) if isinstance(msg.get("data"), Mapping) else msg
        order = msg.get("o", msg)
        items.append({"info": order, "symbol": None, "timestamp": to_int(order.get("T"))})
    return normalize_liquidations(exchange_id, items, markets, source)


def normalize_raw_bybit_liquidation(
    messages: Frames,
    markets: Markets | None = None,
    exchange_id: str = "bybit",
    source: str | None = None,
) -> pd.DataFrame:
    """Canonical rows from raw Bybit ``allLiquidation.<symbol>`` (or ``liquidation.<symbol>``)
    frames; ``data`` may be a list or one dict. Symbols need ``markets`` (ids are ambiguous
    between linear and inverse without them)."""
    items = []
    for msg in _as_list(messages):
        data = msg.get("data", [])
        for d in data if isinstance(data, list) else [data]:
            items.append({"info": d, "symbol": None, "timestamp": None})
    return normalize_liquidations(exchange_id, items, markets, source)


def normalize_raw_okx_liquidation(
    messages: Frames,
    markets: Markets | None = None,
    exchange_id: str = "okx",
    source: str | None = None,
) -> pd.DataFrame:
    """Canonical rows from raw OKX ``liquidation-orders`` frames (every ``data`` entry and
    every ``details`` element)."""
    items = [
        {"info": d, "symbol": None, "timestamp": None}
        for msg in _as_list(messages)
        for d in msg.get("data", [])
    ]
    return normalize_liquidations(exchange_id, items, markets, source)


def _as_list(messages: Frames) -> list[Mapping[str, Any]]:
    return [messages] if isinstance(messages, Mapping) else list(messages)
