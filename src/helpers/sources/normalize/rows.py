"""Venue events -> canonical ``liquidations`` rows: duplicates kept once, sizes converted to
base units and USD (:mod:`helpers.sources.normalize.units`), a side kept only when it is
``long``/``short`` and the event has a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from helpers import schema
from helpers.sources.normalize.formats import venue_rule
from helpers.sources.normalize.records import Event, nan_if_missing
from helpers.sources.normalize.symbols import markets_by_id
from helpers.sources.normalize.units import Markets, base_and_usd, contract_info


def normalize_liquidations(
    exchange_id: str,
    items: Iterable[Mapping[str, Any]],
    markets: Markets | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Canonical ``liquidations`` rows from ccxt unified liquidation dicts of ``exchange_id``.

    ``items`` are ccxt liquidation structures (each with its raw ``info``); ``markets`` is
    ``exchange.markets`` (needed for contract sizes and linear/inverse flags; without it only
    venues whose quantity is in base units can be converted). ``source`` defaults to
    ``ccxt:<exchange_id>``. Duplicates of one event in the batch are kept once.
    """
    rule = venue_rule(exchange_id)
    by_id = markets_by_id(markets)
    events: list[Event] = []
    for item in items:
        events.extend(rule(item, by_id))
    return events_to_frame(exchange_id, events, markets, source or f"ccxt:{exchange_id}")


def events_to_frame(
    exchange_id: str, events: list[Event], markets: Markets | None, source: str
) -> pd.DataFrame:
    """Canonical rows from venue events: units converted, duplicates kept once (lowest rank)."""
    best: dict[str, Event] = {}
    for ev in events:
        kept = best.get(ev.event_id)
        if kept is None or ev.rank < kept.rank:
            best[ev.event_id] = ev
    rows = [_row(exchange_id, ev, markets, source) for ev in best.values()]
    if not rows:
        return schema.empty("liquidations")
    df = pd.DataFrame(rows, columns=schema.table("liquidations").column_names)
    df["ts"] = pd.to_datetime(df["ts"], unit="ms", utc=True).astype("datetime64[us, UTC]")
    for col in ("price", "amount", "notional_usd"):
        df[col] = df[col].astype("float64")
    for col in ("exchange", "symbol", "base", "side", "source", "event_id"):
        df[col] = df[col].astype("string")
    return df.sort_values(["ts", "event_id"], kind="stable").reset_index(drop=True)


def _row(exchange_id: str, ev: Event, markets: Markets | None, source: str) -> dict[str, Any]:
    contract = contract_info(exchange_id, ev.symbol, markets)
    amount, notional = base_and_usd(ev.contracts, ev.price, contract)
    side = ev.side if ev.side in schema.SIDES and ev.ts_ms is not None else None
    return {
        "ts": ev.ts_ms,
        "exchange": exchange_id,
        "symbol": ev.symbol,
        "base": contract.base,
        "side": side,
        "price": nan_if_missing(ev.price),
        "amount": amount,
        "notional_usd": notional,
        "source": source,
        "event_id": ev.event_id,
    }
