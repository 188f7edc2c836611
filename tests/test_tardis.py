"""Tardis.dev liquidations CSV files against a local server (tests/servers/vendors.py)."""

from __future__ import annotations

import argparse
import gzip
import logging

import pandas as pd
import pytest
from servers.vendors import TARDIS_HEADER, TardisServer

from helpers.cli import vendors
from helpers.errors import UserError
from helpers.sources import tardis
from helpers.sources.http import JsonClient
from helpers.sources.retry import JunkResponse
from helpers.store import Store

KEY = "TD.secret-key-0123456789"
US = 1_000_000
AUG1 = int(pd.Timestamp("2024-08-01T00:00:00Z").timestamp()) * US
AUG2 = int(pd.Timestamp("2024-08-02T00:00:00Z").timestamp()) * US


def csv(*rows: str) -> str:
    return "\n".join([TARDIS_HEADER, *rows]) + "\n"


# ---- instruments and units ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exchange", "symbol", "ccxt_id", "unified", "inverse", "size"),
    [
        ("binance-futures", "BTCUSDT", "binanceusdm", "BTC/USDT:USDT", False, 1.0),
        ("binance-futures", "ETHUSDT_240927", "binanceusdm", "ETH/USDT:USDT-240927", False, 1.0),
        ("binance-delivery", "BTCUSD_PERP", "binancecoinm", "BTC/USD:BTC", True, 100.0),
        ("binance-delivery", "ETHUSD_PERP", "binancecoinm", "ETH/USD:ETH", True, 10.0),
        ("bybit", "BTCUSDT", "bybit", "BTC/USDT:USDT", False, 1.0),
        ("bybit", "BTCUSD", "bybit", "BTC/USD:BTC", True, 1.0),
        ("bybit", "ETHPERP", "bybit", "ETH/USDC:USDC", False, 1.0),
        ("okex-swap", "BTC-USD-SWAP", "okx", "BTC/USD:BTC", True, 100.0),
        ("okex-swap", "BTC-USDT-SWAP", "okx", "BTC/USDT:USDT", False, None),
        ("okex-futures", "ETH-USD-240927", "okx", "ETH/USD:ETH-240927", True, 10.0),
        ("deribit", "BTC-PERPETUAL", "deribit", "BTC/USD:BTC", True, 1.0),
        ("deribit", "BTC-27DEC24", "deribit", "BTC/USD:BTC-241227", True, 1.0),
        ("deribit", "SOL_USDC-PERPETUAL", "deribit", "SOL/USDC:USDC", False, 1.0),
        ("bitmex", "XBTUSD", "bitmex", "BTC/USD:BTC", True, 1.0),
    ],
)
def test_instrument_table(exchange, symbol, ccxt_id, unified, inverse, size):
    inst = tardis.instrument(exchange, symbol)
    assert (inst.exchange, inst.symbol, inst.inverse, inst.contract_size) == (
        ccxt_id,
        unified,
        inverse,
        size,
    )


@pytest.mark.parametrize(("exchange", "symbol"), [("ftx", "BTC-PERP"), ("bitmex", "ETHUSD")])
def test_unknown_units_are_refused(exchange, symbol):
    with pytest.raises(UserError):
        tardis.instrument(exchange, symbol)


def test_linear_rows_order_side_and_microseconds():
    events = tardis.parse_csv(
        csv(
            f"binance-futures,BTCUSDT,{AUG1 + 123_456},{AUG1 + 200_000},,sell,60000,0.5",
            f"binance-futures,BTCUSDT,{AUG1 + 5 * US},{AUG1 + 5 * US},,buy,60100,0.1",
        ),
        "binance-futures",
    )
    # sell = a long was liquidated; buy = a short
    assert list(events["side"]) == ["long", "short"]
    assert events["ts"].iloc[0] == pd.Timestamp("2024-08-01T00:00:00.123456Z")
    assert list(events["amount"]) == [0.5, 0.1]
    # 0.5 BTC x 60,000 = 30,000; 0.1 x 60,100 = 6,010
    assert events["notional_usd"].tolist() == pytest.approx([30_000.0, 6_010.0])
    assert set(events["source"]) == {"tardis"} and set(events["exchange"]) == {"binanceusdm"}


def test_inverse_rows_are_usd_contracts():
    events = tardis.parse_csv(
        csv(
            f"binance-delivery,BTCUSD_PERP,{AUG1},{AUG1},,sell,60000,3",
            f"binance-delivery,ETHUSD_PERP,{AUG1},{AUG1},,buy,2500,7",
        ),
        "binance-delivery",
    )
    # BTC: 3 contracts x 100 USD = 300 USD = 300 / 60,000 = 0.005 BTC
    # ETH: 7 contracts x 10 USD = 70 USD = 70 / 2,500 = 0.028 ETH
    assert events["notional_usd"].tolist() == pytest.approx([300.0, 70.0])
    assert events["amount"].tolist() == pytest.approx([0.005, 0.028])
    assert list(events["side"]) == ["long", "short"]
    bybit = tardis.parse_csv(csv(f"bybit,BTCUSD,{AUG1},{AUG1},,buy,60000,1200"), "bybit")
    # Bybit inverse: 1,200 contracts of 1 USD = 1,200 USD = 0.02 BTC
    assert bybit["notional_usd"].iloc[0] == pytest.approx(1200.0)
    assert bybit["amount"].iloc[0] == pytest.approx(0.02)


def test_okx_linear_needs_the_contract_size_from_markets():
    text = csv(f"okex-swap,BTC-USDT-SWAP,{AUG1},{AUG1},,sell,60000,5")
    with pytest.raises(UserError, match="contract size"):
        tardis.parse_csv(text, "okex-swap")
    markets = {"BTC/USDT:USDT": {"contractSize": 0.01, "base": "BTC", "quote": "USDT"}}
    events = tardis.parse_csv(text, "okex-swap", markets)
    # 5 contracts x 0.01 BTC = 0.05 BTC; x 60,000 = 3,000 USD
    assert events["amount"].iloc[0] == pytest.approx(0.05)
    assert events["notional_usd"].iloc[0] == pytest.approx(3000.0)


def test_event_ids_are_stable_and_identical_rows_both_count():
    text = csv(
        f"binance-futures,BTCUSDT,{AUG1},{AUG1},,sell,60000,0.5",
        f"binance-futures,BTCUSDT,{AUG1},{AUG1},,sell,60000,0.5",
        f"deribit,BTC-PERPETUAL,{AUG1},{AUG1},987654,buy,60000,10",
    )
    a = tardis.parse_csv(
        text.replace("deribit,BTC-PERPETUAL", "binance-futures,ETHUSDT"), "binance-futures"
    )
    b = tardis.parse_csv(
        text.replace("deribit,BTC-PERPETUAL", "binance-futures,ETHUSDT"), "binance-futures"
    )
    assert list(a["event_id"]) == list(b["event_id"])
    assert a["event_id"].nunique() == 3
    d = tardis.parse_csv(csv(f"deribit,BTC-PERPETUAL,{AUG1},{AUG1},987654,buy,60000,10"), "deribit")
    assert d["event_id"].iloc[0] == "tardis:BTC-PERPETUAL:987654"


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html></html>",
        gzip.compress(csv("a").encode(), mtime=0)[:20],
        b"a,b\n1,2\n",
    ],
    ids=["html", "truncated_gzip", "other_csv"],
)
def test_junk_bodies_are_rejected(body):
    with pytest.raises(JunkResponse):
        tardis.check_body(body)
    with pytest.raises(JunkResponse):
        tardis.parse_csv(body, "binance-futures")


# ---- downloading --------------------------------------------------------------------------


def files() -> dict[tuple[str, str, str], str]:
    return {
        ("binance-futures", "BTCUSDT", "2024-08-01"): csv(
            f"binance-futures,BTCUSDT,{AUG1 + 3600 * US},{AUG1 + 3600 * US},,sell,60000,0.5",
            f"binance-futures,BTCUSDT,{AUG1 + 7200 * US},{AUG1 + 7200 * US},,buy,61000,0.2",
        ),
        ("binance-futures", "BTCUSDT", "2024-08-02"): csv(
            f"binance-futures,BTCUSDT,{AUG2 + 60 * US},{AUG2 + 60 * US},,sell,59000,1.0",
        ),
    }


@pytest.fixture
def server():
    with TardisServer(KEY, files()) as srv:
        yield srv


def http(**kw) -> JsonClient:
    return JsonClient("tardis", backoff=0.01, max_backoff=0.02, **kw)


def test_fetch_with_key_stores_both_days(tmp_path, server):
    store = Store(tmp_path)
    tardis.fetch(
        store,
        http(secrets=(KEY,)),
        "binance-futures",
        ["BTCUSDT"],
        pd.Timestamp("2024-08-01T00:00Z"),
        pd.Timestamp("2024-08-03T00:00Z"),
        api_key=KEY,
        base_url=f"{server.base_url}/v1",
    )
    got = store.read("liquidations")
    assert len(got) == 3 and list(got["side"]) == ["long", "short", "long"]
    paths = [h.path for h in server.calls("/v1/")]
    assert paths == [
        "/v1/binance-futures/liquidations/2024/08/01/BTCUSDT.csv.gz",
        "/v1/binance-futures/liquidations/2024/08/02/BTCUSDT.csv.gz",
    ]
    assert all(h.headers["Authorization"] == f"Bearer {KEY}" for h in server.calls("/v1/"))


def test_without_key_only_first_days_are_fetched(tmp_path, server, caplog):
    store = Store(tmp_path)
    with caplog.at_level(logging.WARNING):
        tardis.fetch(
            store,
            http(),
            "binance-futures",
            ["BTCUSDT"],
            pd.Timestamp("2024-08-01T00:00Z"),
            pd.Timestamp("2024-08-03T00:00Z"),
            base_url=f"{server.base_url}/v1",
        )
    assert "1 of 2 days skipped" in caplog.text
    assert len(store.read("liquidations")) == 2
    assert all("Authorization" not in h.headers for h in server.calls("/v1/"))
    with pytest.raises(UserError, match="TARDIS_API_KEY"):
        tardis.fetch(
            store,
            http(),
            "binance-futures",
            ["BTCUSDT"],
            pd.Timestamp("2024-08-02T00:00Z"),
            pd.Timestamp("2024-08-03T00:00Z"),
            base_url=f"{server.base_url}/v1",
        )


def test_window_is_half_open_and_refetch_adds_nothing(tmp_path, server):
    store = Store(tmp_path)
    kw = dict(api_key=KEY, base_url=f"{server.base_url}/v1")
    start, end = pd.Timestamp("2024-08-01T01:00Z"), pd.Timestamp("2024-08-01T02:00Z")
    tardis.fetch(store, http(), "binance-futures", ["BTCUSDT"], start, end, **kw)
    results = tardis.fetch(store, http(), "binance-futures", ["BTCUSDT"], start, end, **kw)
    got = store.read("liquidations")
    assert list(got["ts"]) == [start]  # the 02:00 event is outside [01:00, 02:00)
    assert results[0].written == 0


def test_truncated_gzip_and_html_are_retried_then_fail_clearly(tmp_path, server):
    server.fail("/v1/", "truncated", "html")
    store = Store(tmp_path)
    day = (pd.Timestamp("2024-08-01T00:00Z"), pd.Timestamp("2024-08-02T00:00Z"))
    tardis.fetch(
        store,
        http(retries=2),
        "binance-futures",
        ["BTCUSDT"],
        *day,
        base_url=f"{server.base_url}/v1",
    )
    assert len(store.read("liquidations")) == 2
    server.fail("/v1/", 500, "truncated", 503)
    with pytest.raises(UserError) as err:
        tardis.fetch(
            Store(tmp_path / "other"),
            http(retries=2),
            "binance-futures",
            ["BTCUSDT"],
            *day,
            base_url=f"{server.base_url}/v1",
        )
    assert "after 3 attempts" in str(err.value) and "\n" not in str(err.value)


def test_command_never_shows_the_key(tmp_path, server, monkeypatch, caplog, capsys):
    monkeypatch.setenv("TARDIS_API_KEY", KEY)
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(f"vendors:\n  tardis:\n    base_url: {server.base_url}/v1\n")
    server.fail("/v1/", 429)
    args = argparse.Namespace(
        config=str(cfg),
        data_dir=str(tmp_path / "store"),
        verbose=True,
        exchange="binance-futures",
        symbols="btcusdt",
        start=pd.Timestamp("2024-08-01T00:00Z"),
        end=pd.Timestamp("2024-08-03T00:00Z"),
        timeout=5.0,
        retries=2,
        backoff=0.01,
    )
    with caplog.at_level(logging.DEBUG):
        assert vendors.run_tardis(args) == 0
    out = capsys.readouterr()
    assert "3 new liquidations from 2 files" in out.out
    for text in (caplog.text, out.out, out.err):
        assert KEY not in text
