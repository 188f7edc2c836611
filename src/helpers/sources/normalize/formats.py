"""One parser per liquidation wire format: a ccxt item's raw ``info`` -> :class:`Event` s.

Parsers are keyed by FORMAT name (:data:`~helpers.sources.venue_rules.LiquidationFormat`);
a venue's format, side fields and side convention are its entry in
:data:`~helpers.sources.venue_rules.VENUES`, so a parser only knows where its format keeps
the time, symbol, price, size and id, and reads the side where the venue's table entry says.
Sizes are left in the venue's quantity unit (:mod:`helpers.sources.normalize.units`
converts them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from helpers.sources.normalize.records import (
    Event,
    liquidated_side,
    plain,
    raw_hash,
    raw_info,
    timestamp_ms,
    to_float,
    to_int,
)
from helpers.sources.normalize.symbols import binance_symbol, hyperliquid_symbol, item_symbol
from helpers.sources.venue_rules import LiquidationFormat, SideField, liquidation_venues, quirks

Rule = Callable[[Mapping[str, Any], Mapping[str, str]], list[Event]]
"""A venue's rule: (ccxt item, unified symbol by market id) -> its events."""

Parser = Callable[[Mapping[str, Any], Mapping[str, str], tuple[SideField, ...]], list[Event]]
"""A format's parser: (ccxt item, unified symbol by market id, the venue's side fields)."""


def binance_force_order(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """forceOrder ``o``: ``z`` filled quantity (base units on USD-M, contracts on COIN-M);
    ``ap`` average fill price."""
    info = raw_info(item)
    qty = to_float(info.get("z")) or to_float(info.get("l")) or to_float(info.get("q"))
    price = to_float(info.get("ap")) or to_float(info.get("p"))
    return [
        Event(
            ts_ms=timestamp_ms(item, info, "T"),
            symbol=item_symbol(item, info.get("s"), by_id) or binance_symbol(info.get("s")),
            side=liquidated_side(info, sides),
            price=price,
            contracts=qty,
            event_id=raw_hash(plain(info)),
        )
    ]


def bybit_liquidation(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """allLiquidation: ``v`` size (base units on linear, USD contracts on inverse); ``p``
    bankruptcy price. The older ``liquidation`` topic uses ``side``/``size``/``price``/
    ``updatedTime`` the same way."""
    info = raw_info(item)
    return [
        Event(
            ts_ms=timestamp_ms(item, info, "T", "updatedTime"),
            symbol=item_symbol(item, info.get("s", info.get("symbol")), by_id),
            side=liquidated_side(info, sides),
            price=to_float(info.get("p", info.get("price"))),
            contracts=to_float(info.get("v", info.get("size"))),
            event_id=raw_hash(plain(info)),
        )
    ]


def okx_liquidation_orders(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """liquidation-orders: one entry per instrument with a ``details`` list (ccxt keeps only
    the first; all are read here), the side read in each detail. ``sz`` in contracts
    (``ctVal``), ``bkPx`` bankruptcy price."""
    info = raw_info(item)
    symbol = item_symbol(item, info.get("instId"), by_id)
    details = info.get("details")
    if not isinstance(details, list) or not details:
        return [Event(to_int(item.get("timestamp")), symbol, None, None, None, raw_hash(info))]
    out = []
    for d in details:
        d = d if isinstance(d, Mapping) else {}
        out.append(
            Event(
                ts_ms=to_int(d.get("ts", d.get("time"))) or to_int(item.get("timestamp")),
                symbol=symbol,
                side=liquidated_side(d, sides),
                price=to_float(d.get("bkPx")),
                contracts=to_float(d.get("sz")),
                event_id=raw_hash(info.get("instId"), d),
            )
        )
    return out


def gate_liq_orders(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """liq_orders: ``size`` is the liquidated position size in contracts; ``fill_price`` the
    average taker price; ``time`` in SECONDS (``time_ms`` on streams). The whole position
    (``|size|``) is counted; ``left`` is the part the liquidation order rested as maker,
    still part of the liquidated position."""
    info = raw_info(item)
    ts = to_int(info.get("time_ms"))
    if ts is None and to_float(info.get("time")) is not None:
        ts = int(float(info["time"]) * 1000)
    return [
        Event(
            ts_ms=ts if ts is not None else to_int(item.get("timestamp")),
            symbol=item_symbol(item, info.get("contract"), by_id),
            side=liquidated_side(info, sides),
            price=to_float(info.get("fill_price")) or to_float(info.get("order_price")),
            contracts=to_float(info.get("size")),
            event_id=str(info["order_id"]) if info.get("order_id") else raw_hash(plain(info)),
        )
    ]


def htx_liquidation_orders(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """liquidation_orders (linear v5 and coin-margined): ``volume`` in contracts;
    ``price``/``bankrupt_price``. HTX's ``amount`` is not trusted (the v5 sample repeats the
    contract count), the base amount comes from ``volume * contractSize``."""
    info = raw_info(item)
    venue_id = info.get("id", info.get("query_id"))
    return [
        Event(
            ts_ms=timestamp_ms(item, info, "created_at", "liquidation_time"),
            symbol=item_symbol(item, info.get("contract_code"), by_id),
            side=liquidated_side(info, sides),
            price=to_float(info.get("price", info.get("bankrupt_price"))),
            contracts=to_float(info.get("volume")),
            event_id=str(venue_id) if venue_id is not None else raw_hash(plain(info)),
        )
    ]


_BITFINEX_FIELDS = {
    "POS_ID": 1,
    "MTS": 2,
    "SYMBOL": 4,
    "AMOUNT": 5,
    "BASE_PRICE": 6,
    "IS_MATCH": 8,
    "IS_MARKET_SOLD": 9,
    "LIQUIDATION_PRICE": 11,
}


def bitfinex_liquidations_hist(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """liquidations/hist entry ``["pos", POS_ID, MTS, _, SYMBOL, AMOUNT, BASE_PRICE, _,
    IS_MATCH, IS_MARKET_SOLD, _, LIQUIDATION_PRICE]``, read by those names. AMOUNT is the
    position in base units. ccxt reads IS_MATCH (index 8) as the side, which it is not. A
    position appears as the trigger (IS_MATCH 0) and the market execution (1): counted once
    per POS_ID."""
    entry = raw_info(item)
    if isinstance(entry, list) and entry and isinstance(entry[0], list):
        entry = entry[0]
    entry = list(entry) if isinstance(entry, list) else []
    entry += [None] * (12 - len(entry))
    rec = {name: entry[i] for name, i in _BITFINEX_FIELDS.items()}
    pos_id = rec["POS_ID"]
    return [
        Event(
            ts_ms=to_int(rec["MTS"]) if rec["MTS"] is not None else to_int(item.get("timestamp")),
            symbol=item_symbol(item, rec["SYMBOL"], by_id),
            side=liquidated_side(rec, sides),
            price=to_float(rec["LIQUIDATION_PRICE"]) or to_float(rec["BASE_PRICE"]),
            contracts=to_float(rec["AMOUNT"]),
            event_id=f"pos:{pos_id}" if pos_id is not None else raw_hash(entry),
            rank=0 if to_int(rec["IS_MATCH"]) == 0 else 1,
        )
    ]


def deribit_settlements(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """get_last_settlements type=bankruptcy: an instrument session's insurance-fund loss
    (``session_bankrupcy``), with no price or position size (and no side field in the
    venue's table entry). Not a position liquidation: quarantined, never guessed."""
    info = raw_info(item)
    return [
        Event(
            ts_ms=timestamp_ms(item, info, "timestamp"),
            symbol=item_symbol(item, info.get("instrument_name"), by_id),
            side=liquidated_side(info, sides),
            price=None,
            contracts=None,
            event_id=raw_hash(plain(info)),
        )
    ]


def hyperliquid_fills(
    item: Mapping[str, Any], by_id: Mapping[str, str], sides: tuple[SideField, ...]
) -> list[Event]:
    """A fill carrying ``liquidation.liquidatedUser``. Both counterparties' fills of one trade
    carry it and share ``tid``: the event id is the trade, so it is counted once. The side
    fields give the liquidated user's side; a counterparty's fill (its ``user`` differs from
    ``liquidatedUser``) gives the opposite. A fill without ``user`` is taken as the
    liquidated user's own (ccxt's fetchMyLiquidations keeps only those)."""
    info = raw_info(item)
    liq = info.get("liquidation")
    fill_side = liquidated_side(info, sides)
    user = str(info.get("user") or "").lower()
    victim = str(liq.get("liquidatedUser") or "").lower() if isinstance(liq, Mapping) else ""
    if not isinstance(liq, Mapping):
        side, rank = None, 3
    elif not user or user == victim:
        side, rank = fill_side, (0 if user else 1)
    else:
        side, rank = {"long": "short", "short": "long"}.get(fill_side or ""), 2
    tid = info.get("tid")
    event_id = (
        f"tid:{tid}"
        if tid is not None
        else raw_hash(info.get("coin"), info.get("time"), info.get("px"), info.get("sz"), victim)
    )
    coin = info.get("coin")
    return [
        Event(
            ts_ms=timestamp_ms(item, info, "time"),
            symbol=item_symbol(item, coin, by_id) or hyperliquid_symbol(coin),
            side=side,
            price=to_float(info.get("px")),
            contracts=to_float(info.get("sz")),
            event_id=event_id,
            rank=rank,
        )
    ]


def unverified(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """No verified rule for this venue: sizes from ccxt's unified fields, side None."""
    info = item.get("info")
    return [
        Event(
            ts_ms=to_int(item.get("timestamp")),
            symbol=item.get("symbol"),
            side=None,
            price=to_float(item.get("price")),
            contracts=to_float(item.get("contracts")),
            event_id=raw_hash(info if info is not None else dict(item)),
        )
    ]


FORMATS: Mapping[LiquidationFormat, Parser] = {
    "binance_force_order": binance_force_order,
    "bybit_liquidation": bybit_liquidation,
    "okx_liquidation_orders": okx_liquidation_orders,
    "gate_liq_orders": gate_liq_orders,
    "htx_liquidation_orders": htx_liquidation_orders,
    "bitfinex_liquidations_hist": bitfinex_liquidations_hist,
    "deribit_settlements": deribit_settlements,
    "hyperliquid_fills": hyperliquid_fills,
}
"""The parser of each wire format, by format name."""

VERIFIED_VENUES = liquidation_venues()
"""ccxt ids with a verified liquidation rule, sorted."""


def venue_rule(exchange_id: str) -> Rule:
    """The raw-field rule for ``exchange_id``: its format's parser reading its side fields
    (both from :data:`~helpers.sources.venue_rules.VENUES`); venues without one get side
    None."""
    venue = quirks(exchange_id)
    if venue.liquidation_format is None:
        return unverified
    parser, sides = FORMATS[venue.liquidation_format], venue.liquidation_side
    return lambda item, by_id: parser(item, by_id, sides)
