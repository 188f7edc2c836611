"""Side and notional rules per venue, through ccxt's own parsers on hand-written raw payloads.

Each case feeds a raw venue record (shape from the venue's API docs / ccxt's parser
comments, numbers invented) through ccxt 4.5.90's ``parse_liquidation`` or
``parse_ws_liquidation``, then through :func:`normalize_liquidations`, and checks the
liquidated POSITION side, base amount and USD notional against arithmetic written out here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ccxt
import ccxt.pro
import pandas as pd
import pytest

from helpers import schema
from helpers.sources.normalize import (
    base_and_usd,
    binance_symbol,
    contract_info,
    normalize_liquidations,
    normalize_raw_binance_force_order,
    normalize_raw_bybit_liquidation,
    normalize_raw_okx_liquidation,
)
from helpers.store import Store

T0 = 1704067200000  # 2024-01-01 00:00:00 UTC in ms


def swap(mid: str, symbol: str, contract_size: float, inverse: bool) -> dict[str, Any]:
    """A ccxt market structure for a perpetual swap."""
    pair, settle = symbol.split(":")
    base, quote = pair.split("/")
    return {
        "id": mid,
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "settle": settle,
        "baseId": base,
        "quoteId": quote,
        "settleId": settle,
        "type": "swap",
        "spot": False,
        "margin": False,
        "swap": True,
        "future": False,
        "option": False,
        "active": True,
        "contract": True,
        "linear": not inverse,
        "inverse": inverse,
        "contractSize": contract_size,
        "precision": {"amount": None, "price": None},
        "limits": {},
    }


def exchange(cls: type, *markets: dict[str, Any]) -> Any:
    ex = cls()
    ex.set_markets(list(markets))
    return ex


def one(df: pd.DataFrame) -> pd.Series:
    assert len(df) == 1, df
    return df.iloc[0]


def check(row: pd.Series, side: str, amount: float, notional: float) -> None:
    assert row["side"] == side
    assert row["amount"] == pytest.approx(amount, rel=1e-12)
    assert row["notional_usd"] == pytest.approx(notional, rel=1e-12)


# ---- Binance: forceOrder S is the ORDER side ----------------------------------------------


def test_binance_usdm_linear_sell_order_is_a_long_liquidated() -> None:
    ex = exchange(ccxt.pro.binanceusdm, swap("BTCUSDT", "BTC/USDT:USDT", 1, False))
    raw = {
        "s": "BTCUSDT", "S": "SELL", "o": "LIMIT", "f": "IOC", "q": "0.500", "p": "59000.00",
        "ap": "59100.00", "X": "FILLED", "l": "0.200", "z": "0.500", "T": T0,
    }  # fmt: skip
    item = ex.parse_ws_liquidation(raw, ex.market("BTC/USDT:USDT"))
    assert item["side"] == "sell" and item["contracts"] == 0.2  # ccxt: order side, last fill
    row = one(normalize_liquidations("binanceusdm", [item], ex.markets))
    # filled 0.5 BTC (z) at the average price 59,100: 0.5 * 59100 = 29,550 USD
    check(row, "long", 0.5, 29550.0)
    assert row["price"] == 59100.0 and row["source"] == "ccxt:binanceusdm"


def test_binance_coinm_inverse_buy_order_is_a_short_liquidated() -> None:
    ex = exchange(ccxt.pro.binancecoinm, swap("BTCUSD_PERP", "BTC/USD:BTC", 100, True))
    raw = {
        "s": "BTCUSD_PERP", "ps": "BTCUSD", "S": "BUY", "o": "LIMIT", "f": "IOC", "q": "3",
        "p": "61000", "ap": "60000", "X": "FILLED", "l": "3", "z": "3", "T": T0,
    }  # fmt: skip
    item = ex.parse_ws_liquidation(raw, ex.market("BTC/USD:BTC"))
    row = one(normalize_liquidations("binancecoinm", [item], ex.markets))
    # 3 contracts of 100 USD = 300 USD; 300 / 60,000 = 0.005 BTC
    check(row, "short", 0.005, 300.0)


def test_raw_binance_frames_without_markets() -> None:
    frame = {
        "e": "forceOrder", "E": T0 + 2,
        "o": {"s": "ETHUSDT", "S": "BUY", "q": "2.0", "p": "2300", "ap": "2310.5",
              "X": "FILLED", "l": "2.0", "z": "2.0", "T": T0 + 1},
    }  # fmt: skip
    wrapped = {"stream": "!forceOrder@arr", "data": frame}
    df = normalize_raw_binance_force_order([frame, wrapped])
    row = one(df)  # the same order twice (e.g. a replay) is one event
    # 2 ETH * 2310.5 = 4,621 USD
    check(row, "short", 2.0, 4621.0)
    assert row["symbol"] == "ETH/USDT:USDT" and row["base"] == "ETH"
    assert row["ts"] == pd.Timestamp(T0 + 1, unit="ms", tz="UTC")


# ---- Bybit: allLiquidation S is the POSITION side -------------------------------------------


def test_bybit_linear_buy_is_a_long_liquidated() -> None:
    ex = exchange(ccxt.pro.bybit, swap("BTCUSDT", "BTC/USDT:USDT", 1, False))
    raw = {"T": T0, "s": "BTCUSDT", "S": "Buy", "v": "0.25", "p": "60000"}
    item = ex.parse_ws_liquidation(raw, ex.market("BTC/USDT:USDT"))
    assert item["side"] == "buy"  # passed through unchanged by ccxt
    # 0.25 BTC * 60,000 = 15,000 USD
    check(one(normalize_liquidations("bybit", [item], ex.markets)), "long", 0.25, 15000.0)


def test_bybit_inverse_sell_is_a_short_liquidated() -> None:
    ex = exchange(ccxt.pro.bybit, swap("BTCUSD", "BTC/USD:BTC", 1, True))
    raw = {"T": T0, "s": "BTCUSD", "S": "Sell", "v": "12000", "p": "60000"}
    item = ex.parse_ws_liquidation(raw, ex.market("BTC/USD:BTC"))
    # 12,000 contracts of 1 USD = 12,000 USD; 12000 / 60000 = 0.2 BTC
    check(one(normalize_liquidations("bybit", [item], ex.markets)), "short", 0.2, 12000.0)


def test_raw_bybit_frame_list_data() -> None:
    markets = {"BTC/USDT:USDT": swap("BTCUSDT", "BTC/USDT:USDT", 1, False)}
    frame = {
        "topic": "allLiquidation.BTCUSDT", "type": "snapshot", "ts": T0,
        "data": [{"T": T0, "s": "BTCUSDT", "S": "Sell", "v": "0.1", "p": "61000"}],
    }  # fmt: skip
    # Sell = a short position liquidated; 0.1 * 61,000 = 6,100 USD
    check(one(normalize_raw_bybit_liquidation(frame, markets)), "short", 0.1, 6100.0)


# ---- OKX: posSide, else the order side ------------------------------------------------------


OKX_LINEAR = {
    "details": [
        {"bkLoss": "0", "bkPx": "60000", "ccy": "", "posSide": "long", "side": "sell",
         "sz": "25", "ts": str(T0)},
        {"bkLoss": "0", "bkPx": "60100", "ccy": "", "posSide": "net", "side": "buy",
         "sz": "10", "ts": str(T0 + 1000)},
    ],
    "instFamily": "BTC-USDT", "instId": "BTC-USDT-SWAP", "instType": "SWAP", "uly": "BTC-USDT",
}  # fmt: skip


def test_okx_linear_reads_every_detail() -> None:
    ex = exchange(ccxt.pro.okx, swap("BTC-USDT-SWAP", "BTC/USDT:USDT", 0.01, False))
    item = ex.parse_ws_liquidation(OKX_LINEAR)
    assert item["contracts"] == 25  # ccxt keeps only the first detail
    df = normalize_liquidations("okx", [item], ex.markets)
    assert len(df) == 2
    # posSide long: 25 contracts * 0.01 BTC = 0.25 BTC * 60,000 = 15,000 USD
    check(df.iloc[0], "long", 0.25, 15000.0)
    # net mode, order side buy = a short liquidated: 10 * 0.01 = 0.1 BTC * 60,100 = 6,010 USD
    check(df.iloc[1], "short", 0.1, 6010.0)


def test_okx_inverse_contract_is_100_usd() -> None:
    ex = exchange(ccxt.pro.okx, swap("BTC-USD-SWAP", "BTC/USD:BTC", 100, True))
    raw = {
        "details": [{"bkLoss": "0", "bkPx": "70000", "ccy": "", "posSide": "short",
                     "side": "buy", "sz": "7", "ts": str(T0)}],
        "instFamily": "BTC-USD", "instId": "BTC-USD-SWAP", "instType": "SWAP", "uly": "BTC-USD",
    }  # fmt: skip
    item = ex.parse_ws_liquidation(raw)
    # 7 contracts * 100 USD = 700 USD; 700 / 70,000 = 0.01 BTC
    check(one(normalize_liquidations("okx", [item], ex.markets)), "short", 0.01, 700.0)


def test_raw_okx_frame() -> None:
    markets = {"BTC/USDT:USDT": swap("BTC-USDT-SWAP", "BTC/USDT:USDT", 0.01, False)}
    frame = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [OKX_LINEAR]}
    df = normalize_raw_okx_liquidation(frame, markets)
    assert list(df["side"]) == ["long", "short"]
    assert list(df["symbol"]) == ["BTC/USDT:USDT"] * 2


# ---- Gate: size is the position, positive = long ------------------------------------------


def test_gate_linear_negative_size_is_a_short() -> None:
    ex = exchange(ccxt.gate, swap("BTC_USDT", "BTC/USDT:USDT", 0.0001, False))
    raw = {"contract": "BTC_USDT", "left": 0, "size": -165, "fill_price": "60050",
           "order_price": "60100", "time": T0 // 1000}  # fmt: skip
    item = ex.parse_liquidation(raw, ex.market("BTC/USDT:USDT"))
    assert item["side"] == "sell" and item["timestamp"] == T0  # time is in seconds
    # 165 contracts * 0.0001 BTC = 0.0165 BTC * 60,050 = 990.825 USD
    check(one(normalize_liquidations("gate", [item], ex.markets)), "short", 0.0165, 990.825)


def test_gate_inverse_positive_size_is_a_long() -> None:
    ex = exchange(ccxt.gate, swap("BTC_USD", "BTC/USD:BTC", 1, True))
    raw = {"contract": "BTC_USD", "left": 0, "size": 3000, "fill_price": "60000",
           "order_price": "59900", "time": T0 // 1000}  # fmt: skip
    item = ex.parse_liquidation(raw, ex.market("BTC/USD:BTC"))
    # 3,000 contracts of 1 USD = 3,000 USD; 3000 / 60,000 = 0.05 BTC
    check(one(normalize_liquidations("gate", [item], ex.markets)), "long", 0.05, 3000.0)


def test_gate_counts_the_whole_position_including_the_maker_part() -> None:
    ex = exchange(ccxt.gate, swap("BTC_USDT", "BTC/USDT:USDT", 0.0001, False))
    raw = {"contract": "BTC_USDT", "left": 40, "size": 200, "fill_price": "50000",
           "order_price": "49900", "time": T0 // 1000}  # fmt: skip
    item = ex.parse_liquidation(raw, ex.market("BTC/USDT:USDT"))
    assert item["contracts"] == 160  # ccxt: |size - left|, the taker part only
    # the liquidated position: 200 * 0.0001 = 0.02 BTC * 50,000 = 1,000 USD
    check(one(normalize_liquidations("gate", [item], ex.markets)), "long", 0.02, 1000.0)


# ---- HTX: position_side, else the order direction --------------------------------------


def test_htx_linear_position_side_and_volume_in_contracts() -> None:
    ex = exchange(ccxt.htx, swap("BTC-USDT", "BTC/USDT:USDT", 0.001, False))
    raw = {"id": "150153038758", "contract_code": "BTC-USDT", "liquidation_time": str(T0),
           "side": "buy", "position_side": "short", "volume": "2", "amount": "2",
           "bankrupt_price": "62978.5", "trade_turnover": "125.957"}  # fmt: skip
    item = ex.parse_liquidation(raw, ex.market("BTC/USDT:USDT"))
    assert item["baseValue"] == 2  # ccxt trusts "amount", which repeats the contract count
    row = one(normalize_liquidations("htx", [item], ex.markets))
    # 2 contracts * 0.001 BTC = 0.002 BTC * 62,978.5 = 125.957 USD (= trade_turnover)
    check(row, "short", 0.002, 125.957)
    assert row["event_id"] == "150153038758"


def test_htx_inverse_sell_direction_is_a_long() -> None:
    ex = exchange(ccxt.htx, swap("BTC-USD", "BTC/USD:BTC", 100, True))
    raw = {"query_id": 452057, "contract_code": "BTC-USD", "symbol": "BTC", "direction": "sell",
           "offset": "close", "volume": 479, "price": 51441.7, "created_at": T0,
           "amount": 0.93115, "trade_turnover": 47900, "business_type": "swap",
           "pair": "BTC-USD"}  # fmt: skip
    item = ex.parse_liquidation(raw, ex.market("BTC/USD:BTC"))
    row = one(normalize_liquidations("htx", [item], ex.markets))
    # 479 contracts * 100 USD = 47,900 USD; 47900 / 51441.7 BTC
    check(row, "long", 47900 / 51441.7, 47900.0)


# ---- Bitfinex: AMOUNT sign is the position; IS_MATCH is not a side ------------------------


def bitfinex_entry(pos_id: int, amount: float, is_match: int) -> list[Any]:
    return [["pos", pos_id, T0, None, "tBTCF0:USTF0", amount, 42000.0, None, is_match, 1,
             None, 42100.0]]  # fmt: skip


def test_bitfinex_counts_a_position_once_and_reads_side_from_amount() -> None:
    ex = exchange(ccxt.bitfinex, swap("tBTCF0:USTF0", "BTC/USDT:USDT", 1, False))
    trigger = ex.parse_liquidation(bitfinex_entry(171085137, -0.08, 0), ex.market("BTC/USDT:USDT"))
    match = ex.parse_liquidation(bitfinex_entry(171085137, -0.08, 1), ex.market("BTC/USDT:USDT"))
    assert match["side"] == "buy" and trigger["side"] == "sell"  # ccxt reads IS_MATCH
    row = one(normalize_liquidations("bitfinex", [match, trigger], ex.markets))
    # a short of 0.08 BTC liquidated at 42,100: 0.08 * 42100 = 3,368 USD
    check(row, "short", 0.08, 3368.0)
    assert row["event_id"] == "pos:171085137"


def test_bitfinex_long_position() -> None:
    # bitfinex lists no inverse perpetuals; the second case is the other side
    ex = exchange(ccxt.bitfinex, swap("tETHF0:USTF0", "ETH/USDT:USDT", 1, False))
    entry = [["pos", 99, T0, None, "tETHF0:USTF0", 1.5, 2200.0, None, 1, 0, None, 2190.0]]
    item = ex.parse_liquidation(entry, ex.market("ETH/USDT:USDT"))
    # 1.5 ETH * 2,190 = 3,285 USD
    check(one(normalize_liquidations("bitfinex", [item], ex.markets)), "long", 1.5, 3285.0)


# ---- Deribit: bankruptcy settlements are not position liquidations -------------------------


@pytest.mark.parametrize(
    "market",
    [
        swap("BTC-PERPETUAL", "BTC/USD:BTC", 10, True),
        swap("BTC_USDC-PERPETUAL", "BTC/USDC:USDC", 0.001, False),
    ],
)
def test_deribit_settlements_have_no_side_and_are_quarantined(
    market: dict[str, Any], tmp_path: Path
) -> None:
    ex = exchange(ccxt.deribit, market)
    raw = {"type": "bankruptcy", "timestamp": T0, "funded": 1, "session_bankrupcy": 0.001,
           "session_profit_loss": 0.001, "session_tax": 0.0015, "session_tax_rate": 0.0015,
           "socialized": 0.001}  # fmt: skip
    item = ex.parse_liquidation(raw, market)
    df = normalize_liquidations("deribit", [item], ex.markets)
    assert pd.isna(one(df)["side"]) and math.isnan(one(df)["amount"])
    result = Store(tmp_path).write("liquidations", df)
    assert (result.written, result.quarantined) == (0, 1)


# ---- Hyperliquid: both counterparties' fills, counted once ----------------------------------


def hl_fill(user: str | None, side: str, victim: str, tid: int = 77) -> dict[str, Any]:
    fill = {"coin": "ETH", "px": "2000.5", "sz": "1.2", "side": side, "time": T0,
            "startPosition": "1.2", "dir": "Close Long", "closedPnl": "-10", "hash": "0xab",
            "oid": 1, "crossed": True, "fee": "0.1", "tid": tid, "feeToken": "USDC",
            "liquidation": {"liquidatedUser": victim, "markPx": "2001", "method": "market"},
            }  # fmt: skip
    if user is not None:
        fill["user"] = user
    return fill


def test_hyperliquid_counts_both_counterparties_once() -> None:
    ex = exchange(ccxt.hyperliquid, swap("1", "ETH/USDC:USDC", 1, False))
    victim, maker = "0xVICTIM", "0xmaker"
    items = [
        ex.parse_liquidation(hl_fill(maker, "B", victim.lower())),
        ex.parse_liquidation(hl_fill(victim, "A", victim.lower())),
    ]
    row = one(normalize_liquidations("hyperliquid", items, ex.markets))
    # the liquidated user sold (A): a long; 1.2 ETH * 2000.5 = 2,400.6 USD
    check(row, "long", 1.2, 2400.6)
    assert row["event_id"] == "tid:77"


def test_hyperliquid_counterparty_fill_alone_gives_the_opposite_side() -> None:
    item = {"info": hl_fill("0xmaker", "A", "0xvictim", tid=5), "symbol": "ETH/USDC:USDC"}
    # the liquidator sold, so the liquidated user bought back: a short; 1.2 * 2000.5
    check(one(normalize_liquidations("hyperliquid", [item])), "short", 1.2, 2400.6)


def test_hyperliquid_fill_without_user_is_the_liquidated_users_own() -> None:
    item = {"info": hl_fill(None, "B", "0xvictim", tid=6), "symbol": None}
    row = one(normalize_liquidations("hyperliquid", [item]))
    assert row["symbol"] == "ETH/USDC:USDC"
    check(row, "short", 1.2, 2400.6)


# ---- general rules --------------------------------------------------------------------------


def test_unknown_venue_is_not_guessed(tmp_path: Path) -> None:
    item = {"info": {"x": 1}, "symbol": "BTC/USDT:USDT", "timestamp": T0, "side": "sell",
            "price": 60000.0, "contracts": 1.0}  # fmt: skip
    df = normalize_liquidations("coinex", [item])
    assert pd.isna(one(df)["side"])
    assert Store(tmp_path).write("liquidations", df).quarantined == 1


def test_missing_contract_size_leaves_amount_missing() -> None:
    # okx quantities are contracts of varying size: without the market there is no amount
    item = {"info": OKX_LINEAR, "symbol": "BTC/USDT:USDT", "timestamp": T0}
    df = normalize_liquidations("okx", [item])
    assert df["amount"].isna().all() and df["notional_usd"].isna().all()
    assert list(df["side"]) == ["long", "short"]


def test_missing_timestamp_clears_side() -> None:
    item = {"info": {"s": "BTCUSDT", "S": "SELL", "z": "1", "ap": "100"}, "symbol": None}
    assert pd.isna(one(normalize_liquidations("binanceusdm", [item]))["side"])


def test_base_and_usd_arithmetic() -> None:
    linear = contract_info("okx", "X", {"X": swap("X", "ETH/USDT:USDT", 0.1, False)})
    # 30 contracts * 0.1 ETH = 3 ETH * 2000 = 6,000 USD
    assert base_and_usd(30, 2000, linear) == pytest.approx((3.0, 6000.0))
    inverse = contract_info("okx", "Y", {"Y": swap("Y", "ETH/USD:ETH", 10, True)})
    # 30 contracts * 10 USD = 300 USD; 300 / 2000 = 0.15 ETH
    assert base_and_usd(30, 2000, inverse) == pytest.approx((0.15, 300.0))
    btc_quoted = contract_info("x", "ETH/BTC:BTC", None)
    assert math.isnan(base_and_usd(1, 0.05, btc_quoted)[1])


def test_output_is_canonical() -> None:
    df = normalize_raw_binance_force_order(
        {"o": {"s": "BTCUSDT", "S": "SELL", "z": "1", "ap": "100", "T": T0}}
    )
    assert list(df.columns) == schema.table("liquidations").column_names
    good, bad = schema.validate("liquidations", df)
    assert len(good) == 1 and len(bad) == 0
    assert normalize_liquidations("okx", []).empty


# ---- real data (skipped when ../shared/realdata is absent) ---------------------------------


@pytest.mark.realdata
def test_real_binance_force_orders(realdata: Path) -> None:
    src = pd.read_csv(realdata / "binance_usdm_forceOrder_samples.csv")
    # the recorder renamed quarterly contracts (BTC_250627 is BTCUSDT_250627 on the wire)
    # and lost their average price; restore the wire id and send ap "0" as Binance would
    wire_id = src["symbol"].str.replace(r"^([A-Z]+)_(\d{6})$", r"\1USDT_\2", regex=True)
    frames = [
        {"e": "forceOrder", "E": int(r.trade_time_ms),
         "o": {"s": sid, "S": r.side, "o": r.order_type, "f": r.time_in_force,
               "q": str(r.original_quantity), "p": str(r.price),
               "ap": "0" if pd.isna(r.average_price) else str(r.average_price),
               "X": r.order_status, "l": str(r.last_filled_quantity),
               "z": str(r.filled_accumulated_quantity), "T": int(r.trade_time_ms)}}
        for r, sid in zip(src.itertuples(), wire_id, strict=True)
    ]  # fmt: skip
    df = normalize_raw_binance_force_order(frames)
    assert len(df) == len(src)
    # sides: the file's plain-words column; notional: filled quantity x average price
    assert (
        df["side"].value_counts().to_dict() == src["liquidated_position"].value_counts().to_dict()
    )
    assert df["notional_usd"].sum() == pytest.approx(src["notional_usd"].sum(), rel=1e-9)
    expected = src.assign(
        ms=src["trade_time_ms"],
        symbol=wire_id.map(binance_symbol),
        amount=src["filled_accumulated_quantity"],
    )
    mine = df.assign(ms=df["ts"].astype("int64") // 1000)
    merged = mine.merge(expected, on=["ms", "symbol", "amount"], suffixes=("", "_src"))
    assert len(merged) == len(src)
    assert (merged["side"] == merged["liquidated_position"]).all()
    assert merged["notional_usd"].to_numpy() == pytest.approx(merged["notional_usd_src"].to_numpy())
    assert schema.validate("liquidations", df)[1].empty


@pytest.mark.realdata
def test_real_hyperliquid_liquidations_counted_once(realdata: Path) -> None:
    src = pd.read_csv(realdata / "hyperliquid_official_liquidations_2023_enriched.csv")
    src = src[(src["n_fills"] == 1) & src["liquidated_position_inferred"].notna()]
    src = src[~src["coins"].str.contains("|", regex=False)].reset_index(drop=True)
    items = []
    for i, r in src.iterrows():
        side = "A" if r["user_trade_sides"] == "Ask" else "B"
        t = int(pd.Timestamp(r["time"]).value // 1_000_000)
        own = {"coin": r["coins"], "px": str(r["vwap_px"]), "sz": str(r["fill_sz"]),
               "side": side, "time": t, "tid": 1000 + i, "user": r["user"],
               "liquidation": {"liquidatedUser": r["user"], "markPx": str(r["vwap_px"]),
                               "method": "market"}}  # fmt: skip
        other = {**own, "side": "B" if side == "A" else "A", "user": "0xliquidator"}
        items += [{"info": other, "symbol": None}, {"info": own, "symbol": None}]
    df = normalize_liquidations("hyperliquid", items)
    assert len(df) == len(src) == len(items) / 2
    by_tid = df.set_index("event_id")
    for i, r in src.iterrows():
        row = by_tid.loc[f"tid:{1000 + i}"]
        assert row["side"] == r["liquidated_position_inferred"]
        assert row["notional_usd"] == pytest.approx(r["fill_ntl"], rel=1e-6)
