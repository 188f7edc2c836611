"""Turn ccxt liquidation dicts (and raw stream frames) into canonical ``liquidations`` rows.

ccxt 4.5 passes each venue's side field through unchanged, drops ``contractSize`` in most
liquidation parsers (so ``baseValue``/``quoteValue`` are often None) and has no inverse
branch. This module therefore ignores ccxt's unified ``side``/``baseValue``/``quoteValue``
and reads the raw ``info`` of each item with one rule per venue (the table, with sources,
is ``docs/venue-rules.md``):

* ``side`` is the liquidated POSITION (``long`` = a forced sell, ``short`` = a forced buy).
* ``amount`` is in BASE units. Quantities given in contracts are multiplied by the market's
  ``contractSize``; for an inverse contract the size is in USD, so
  ``notional_usd = contracts * contractSize`` and ``amount = notional_usd / price``.
* ``notional_usd = amount * price`` for linear contracts quoted in USD or a USD stablecoin
  (USDT, USDC... counted at 1 USD); NaN for any other quote.
* ``event_id`` is the venue's id when it has one, else a hash of the raw fields, so the same
  event seen twice (a re-fetched page, a stream replay) has the same key.

A row that cannot be normalised (unknown venue, missing side field, no contract size, no
timestamp) keeps ``side`` None and NaN numbers rather than a guess; the store's ``write``
then quarantines it with the reason.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers import schema

USD_QUOTES = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USDE", "DAI", "UST"})

Market = Mapping[str, Any]
Markets = Mapping[str, Market]


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


@dataclass(frozen=True)
class Contract:
    """What unit conversion needs from a market."""

    base: str | None
    quote: str | None
    inverse: bool
    contract_size: float | None


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
    by_id = _markets_by_id(markets)
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
        "price": _nan(ev.price),
        "amount": amount,
        "notional_usd": notional,
        "source": source,
        "event_id": ev.event_id,
    }


def base_and_usd(
    contracts: float | None, price: float | None, contract: Contract
) -> tuple[float, float]:
    """(amount in base units, notional in USD) of ``contracts`` filled at ``price``.

    Linear: ``amount = contracts * contractSize``, ``notional = amount * price`` (NaN unless
    the quote is USD or a USD stablecoin). Inverse: ``notional = contracts * contractSize``
    (the contract size is in USD), ``amount = notional / price``. NaN when an input is missing.
    """
    n, p, size = _nan(contracts), _nan(price), _nan(contract.contract_size)
    n = abs(n)
    if contract.inverse:
        usd = n * size if contract.quote in USD_QUOTES else math.nan
        amount = usd / p if p > 0 else math.nan
        return amount, usd
    amount = n * size
    usd = amount * p if contract.quote in USD_QUOTES else math.nan
    return amount, usd


# ---- markets -------------------------------------------------------------------------------

# Venues whose linear quantities are in base units (contract size 1 base unit) and whose
# inverse contracts are 1 USD each: conversion works even without exchange.markets.
_UNIT_CONTRACTS = {
    "binance": (1.0, None),
    "binanceusdm": (1.0, None),
    "binancecoinm": (None, None),
    "bybit": (1.0, 1.0),
    "hyperliquid": (1.0, None),
    "bitfinex": (1.0, None),
}


def contract_info(exchange_id: str, symbol: str | None, markets: Markets | None) -> Contract:
    """Base, quote, inverse flag and contract size for ``symbol`` from ``markets``; without
    the market, parsed from the unified symbol with the venue's known unit contract size."""
    market = (markets or {}).get(symbol) if symbol else None
    if market is not None:
        size = market.get("contractSize")
        return Contract(
            base=market.get("base"),
            quote=market.get("quote"),
            inverse=bool(market.get("inverse")),
            contract_size=float(size) if size is not None else None,
        )
    base, quote, settle = _split_symbol(symbol)
    inverse = settle is not None and settle == base
    linear_size, inverse_size = _UNIT_CONTRACTS.get(exchange_id, (None, None))
    return Contract(base, quote, inverse, inverse_size if inverse else linear_size)


def _split_symbol(symbol: str | None) -> tuple[str | None, str | None, str | None]:
    if not symbol or "/" not in symbol:
        return None, None, None
    pair, _, rest = symbol.partition(":")
    base, _, quote = pair.partition("/")
    settle = rest.split("-")[0] if rest else None
    return base or None, quote or None, settle or None


def _markets_by_id(markets: Markets | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for symbol, m in (markets or {}).items():
        mid = m.get("id")
        if mid is not None and m.get("contract", True):
            out.setdefault(str(mid), symbol)
    return out


def _symbol(item: Mapping[str, Any], raw_id: Any, by_id: Mapping[str, str]) -> str | None:
    sym = item.get("symbol")
    if sym:
        return str(sym)
    if raw_id is not None and str(raw_id) in by_id:
        return by_id[str(raw_id)]
    return None


# ---- helpers -------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _int(value: Any) -> int | None:
    x = _num(value)
    return None if x is None else int(x)


def raw_hash(*parts: Any) -> str:
    """A stable id for an event without a venue id: ``h:`` + 20 hex of SHA-1 over the raw
    fields as canonical JSON."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return "h:" + hashlib.sha1(blob.encode()).hexdigest()[:20]


def _order_side_to_position(order_side: Any) -> str | None:
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


def _position_side(value: Any) -> str | None:
    s = str(value or "").strip().lower()
    return s if s in schema.SIDES else None


def _ts(item: Mapping[str, Any], info: Mapping[str, Any], *keys: str) -> int | None:
    for k in keys:
        v = _int(info.get(k))
        if v is not None:
            return v
    return _int(item.get("timestamp"))


# ---- venue rules ---------------------------------------------------------------------------

Rule = Callable[[Mapping[str, Any], Mapping[str, str]], list[Event]]


def _binance(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """forceOrder ``o``: ``S`` is the ORDER side (SELL = long liquidated); ``z`` filled
    quantity (base units on USD-M, contracts on COIN-M); ``ap`` average fill price."""
    info = _info(item)
    qty = _num(info.get("z")) or _num(info.get("l")) or _num(info.get("q"))
    price = _num(info.get("ap")) or _num(info.get("p"))
    return [
        Event(
            ts_ms=_ts(item, info, "T"),
            symbol=_symbol(item, info.get("s"), by_id) or binance_symbol(info.get("s")),
            side=_order_side_to_position(info.get("S")),
            price=price,
            contracts=qty,
            event_id=raw_hash(_strip(info)),
        )
    ]


def _bybit(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """allLiquidation: ``S`` is the POSITION side (Buy = long liquidated); ``v`` size (base
    units on linear, USD contracts on inverse); ``p`` bankruptcy price. The older
    ``liquidation`` topic uses ``side``/``size``/``price``/``updatedTime`` the same way."""
    info = _info(item)
    raw_side = str(info.get("S", info.get("side", ""))).lower()
    side = {"buy": "long", "sell": "short"}.get(raw_side)
    return [
        Event(
            ts_ms=_ts(item, info, "T", "updatedTime"),
            symbol=_symbol(item, info.get("s", info.get("symbol")), by_id),
            side=side,
            price=_num(info.get("p", info.get("price"))),
            contracts=_num(info.get("v", info.get("size"))),
            event_id=raw_hash(_strip(info)),
        )
    ]


def _okx(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """liquidation-orders: one entry per instrument with a ``details`` list (ccxt keeps only
    the first; all are read here). ``posSide`` long/short is the position; in net mode
    (``posSide`` net or empty) ``side`` is the ORDER side (sell = long liquidated).
    ``sz`` in contracts (``ctVal``), ``bkPx`` bankruptcy price."""
    info = _info(item)
    symbol = _symbol(item, info.get("instId"), by_id)
    details = info.get("details")
    if not isinstance(details, list) or not details:
        return [Event(_int(item.get("timestamp")), symbol, None, None, None, raw_hash(info))]
    out = []
    for d in details:
        d = d if isinstance(d, Mapping) else {}
        side = _position_side(d.get("posSide")) or _order_side_to_position(d.get("side"))
        out.append(
            Event(
                ts_ms=_int(d.get("ts", d.get("time"))) or _int(item.get("timestamp")),
                symbol=symbol,
                side=side,
                price=_num(d.get("bkPx")),
                contracts=_num(d.get("sz")),
                event_id=raw_hash(info.get("instId"), d),
            )
        )
    return out


def _gate(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """liq_orders: ``size`` is the liquidated POSITION size in contracts, positive = long;
    ``fill_price`` the average taker price; ``time`` in SECONDS (``time_ms`` on streams).
    The whole position (``|size|``) is counted; ``left`` is the part the liquidation order
    rested as maker, still part of the liquidated position."""
    info = _info(item)
    size = _num(info.get("size"))
    side = None if not size else ("long" if size > 0 else "short")
    ts = _int(info.get("time_ms"))
    if ts is None and _num(info.get("time")) is not None:
        ts = int(float(info["time"]) * 1000)
    return [
        Event(
            ts_ms=ts if ts is not None else _int(item.get("timestamp")),
            symbol=_symbol(item, info.get("contract"), by_id),
            side=side,
            price=_num(info.get("fill_price")) or _num(info.get("order_price")),
            contracts=size,
            event_id=str(info["order_id"]) if info.get("order_id") else raw_hash(_strip(info)),
        )
    ]


def _htx(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """liquidation_orders: ``position_side`` (linear v5) is the position; otherwise
    ``direction``/``side`` is the ORDER direction (sell = long liquidated). ``volume`` in
    contracts; ``price``/``bankrupt_price``. HTX's ``amount`` is not trusted (the v5 sample
    repeats the contract count), the base amount comes from ``volume * contractSize``."""
    info = _info(item)
    side = _position_side(info.get("position_side")) or _order_side_to_position(
        info.get("direction", info.get("side"))
    )
    venue_id = info.get("id", info.get("query_id"))
    return [
        Event(
            ts_ms=_ts(item, info, "created_at", "liquidation_time"),
            symbol=_symbol(item, info.get("contract_code"), by_id),
            side=side,
            price=_num(info.get("price", info.get("bankrupt_price"))),
            contracts=_num(info.get("volume")),
            event_id=str(venue_id) if venue_id is not None else raw_hash(_strip(info)),
        )
    ]


def _bitfinex(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """liquidations/hist entry ``["pos", POS_ID, MTS, _, SYMBOL, AMOUNT, BASE_PRICE, _,
    IS_MATCH, IS_MARKET_SOLD, _, LIQUIDATION_PRICE]``: AMOUNT is the POSITION (positive =
    long). ccxt reads IS_MATCH (index 8) as the side, which it is not. A position appears as
    the trigger (IS_MATCH 0) and the market execution (1): counted once per POS_ID."""
    entry = _info(item)
    if isinstance(entry, list) and entry and isinstance(entry[0], list):
        entry = entry[0]
    entry = list(entry) if isinstance(entry, list) else []
    entry += [None] * (12 - len(entry))
    amount = _num(entry[5])
    side = None if not amount else ("long" if amount > 0 else "short")
    pos_id = entry[1]
    return [
        Event(
            ts_ms=_int(entry[2]) if entry[2] is not None else _int(item.get("timestamp")),
            symbol=_symbol(item, entry[4], by_id),
            side=side,
            price=_num(entry[11]) or _num(entry[6]),
            contracts=amount,
            event_id=f"pos:{pos_id}" if pos_id is not None else raw_hash(entry),
            rank=0 if _int(entry[8]) == 0 else 1,
        )
    ]


def _deribit(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """get_last_settlements type=bankruptcy: an instrument session's insurance-fund loss
    (``session_bankrupcy``), with no side, price or position size. Not a position
    liquidation: returned with side None (quarantined), never guessed."""
    info = _info(item)
    return [
        Event(
            ts_ms=_ts(item, info, "timestamp"),
            symbol=_symbol(item, info.get("instrument_name"), by_id),
            side=None,
            price=None,
            contracts=None,
            event_id=raw_hash(_strip(info)),
        )
    ]


def _hyperliquid(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """A fill carrying ``liquidation.liquidatedUser``. Both counterparties' fills of one trade
    carry it and share ``tid``: the event id is the trade, so it is counted once. The side is
    the liquidated user's fill side (A = sell = long liquidated); a counterparty's fill (its
    ``user`` differs from ``liquidatedUser``) gives the opposite. A fill without ``user`` is
    taken as the liquidated user's own (ccxt's fetchMyLiquidations keeps only those)."""
    info = _info(item)
    liq = info.get("liquidation")
    fill_side = _order_side_to_position(info.get("side"))
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
    return [
        Event(
            ts_ms=_ts(item, info, "time"),
            symbol=_symbol(item, info.get("coin"), by_id) or hyperliquid_symbol(info.get("coin")),
            side=side,
            price=_num(info.get("px")),
            contracts=_num(info.get("sz")),
            event_id=event_id,
            rank=rank,
        )
    ]


def _unknown(item: Mapping[str, Any], by_id: Mapping[str, str]) -> list[Event]:
    """No verified rule for this venue: sizes from ccxt's unified fields, side None."""
    info = item.get("info")
    return [
        Event(
            ts_ms=_int(item.get("timestamp")),
            symbol=item.get("symbol"),
            side=None,
            price=_num(item.get("price")),
            contracts=_num(item.get("contracts")),
            event_id=raw_hash(info if info is not None else dict(item)),
        )
    ]


_RULES: dict[str, Rule] = {
    "binance": _binance,
    "binanceusdm": _binance,
    "binancecoinm": _binance,
    "bybit": _bybit,
    "okx": _okx,
    "gate": _gate,
    "gateio": _gate,
    "htx": _htx,
    "huobi": _htx,
    "bitfinex": _bitfinex,
    "deribit": _deribit,
    "hyperliquid": _hyperliquid,
}

VERIFIED_VENUES = tuple(sorted(_RULES))


def venue_rule(exchange_id: str) -> Rule:
    """The raw-field rule for ``exchange_id``; venues without one get side None."""
    return _RULES.get(exchange_id, _unknown)


def _info(item: Mapping[str, Any]) -> Any:
    info = item.get("info")
    return info if info is not None else {}


def _strip(info: Any) -> Any:
    return dict(info) if isinstance(info, Mapping) else info


# ---- raw stream frames ---------------------------------------------------------------------


def binance_symbol(raw_id: Any) -> str | None:
    """A unified symbol from a Binance futures id without markets: ``BTCUSDT`` ->
    ``BTC/USDT:USDT``, ``BTCUSD_PERP`` -> ``BTC/USD:BTC``, ``ETHUSDT_250328`` ->
    ``ETH/USDT:USDT-250328``; None when the id has no known quote."""
    if not raw_id:
        return None
    rid = str(raw_id).upper()
    pair, _, suffix = rid.partition("_")
    for quote in ("USDT", "USDC", "FDUSD", "BUSD", "USD"):
        if pair.endswith(quote) and len(pair) > len(quote):
            base = pair[: -len(quote)]
            settle = base if quote == "USD" else quote
            expiry = "" if suffix in ("", "PERP") else f"-{suffix}"
            return f"{base}/{quote}:{settle}{expiry}"
    return None


def hyperliquid_symbol(coin: Any) -> str | None:
    """``BTC`` -> ``BTC/USDC:USDC`` (Hyperliquid perpetuals settle in USDC)."""
    if not coin or str(coin).startswith("@"):
        return None
    return f"{coin}/USDC:USDC"


def normalize_raw_binance_force_order(
    messages: Mapping[str, Any] | Iterable[Mapping[str, Any]],
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
        items.append({"info": order, "symbol": None, "timestamp": _int(order.get("T"))})
    return normalize_liquidations(exchange_id, items, markets, source)


def normalize_raw_bybit_liquidation(
    messages: Mapping[str, Any] | Iterable[Mapping[str, Any]],
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
    messages: Mapping[str, Any] | Iterable[Mapping[str, Any]],
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


def _as_list(
    messages: Mapping[str, Any] | Iterable[Mapping[str, Any]],
) -> list[Mapping[str, Any]]:
    return [messages] if isinstance(messages, Mapping) else list(messages)
