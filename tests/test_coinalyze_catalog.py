"""Coinalyze's market catalog against a local server whose catalog mixes the symbol formats of
several venues (tests/servers/coinalyze_catalog.py): selection, cache, and the command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from servers.coinalyze_catalog import EXPECTED_BTC_ETH, row
from servers.vendors import CoinalyzeSeries, CoinalyzeServer

from helpers.cli import vendors
from helpers.config import parse_config
from helpers.errors import UserError
from helpers.sources import coinalyze as cz
from helpers.store import Store

KEY = "ck-catalog-0123456789-secret"
T0 = int(pd.Timestamp("2024-08-05T00:00:00Z").timestamp())
START = pd.Timestamp("2024-08-05T00:00:00Z")
END = pd.Timestamp("2024-08-05T02:00:00Z")
NOW = pd.Timestamp("2024-08-05T12:00:00Z")


def one_bar(k: float) -> CoinalyzeSeries:
    """One hourly bar at T0: k base units of longs and k/2 of shorts liquidated at a close
    of 1,000 (so k x 1,000 USD long)."""
    return CoinalyzeSeries(
        long_base={T0: k},
        short_base={T0: k / 2},
        close={T0: 1_000.0},
        oi_base={T0: 10 * k},
        funding_pct={T0: 0.01},
    )


@pytest.fixture
def server():
    series = {sym: one_bar(i + 1.0) for i, sym in enumerate(sorted(EXPECTED_BTC_ETH.values()))}
    with CoinalyzeServer(KEY, series) as srv:
        yield srv


def client(server: CoinalyzeServer, key: str = KEY) -> cz.Coinalyze:
    http = cz.JsonClient("coinalyze", timeout=5, retries=1, backoff=0.01, max_backoff=0.02)
    return cz.Coinalyze(key, base_url=f"{server.base_url}/v1", http=http)


def catalog_hits(server: CoinalyzeServer) -> int:
    return len(server.calls("/v1/future-markets"))


# ---- selection ----------------------------------------------------------------------------


def test_btc_and_eth_on_every_venue_are_exactly_the_listed_perpetuals(server, tmp_path, caplog):
    catalog = cz.load_catalog(client(server), tmp_path, now=NOW)
    with caplog.at_level(logging.INFO, logger="helpers.sources.coinalyze"):
        chosen = cz.select_perpetuals(catalog, ["BTC", "eth"])
    # dated futures, the SOL and ETH/BTC perpetuals and unmapped venues are not chosen
    assert {(m.exchange, m.symbol): m.coinalyze for m in chosen} == EXPECTED_BTC_ETH
    assert {m.coinalyze: m.inverse for m in chosen if m.exchange == "deribit"} == {
        "BTC-PERPETUAL.2": True,
        "BTC_USDC-PERPETUAL.2": False,
    }
    skipped = [r.getMessage() for r in caplog.records if "without a ccxt mapping" in r.message]
    assert skipped == [
        "coinalyze catalog: 3 BTC/ETH perpetuals skipped on exchange codes without a ccxt "
        "mapping: 8 (dYdX), Q (unknown code), W (WOO X)"
    ]


@pytest.mark.parametrize(
    ("venues", "expected"),
    [
        (["Binance"], {"binanceusdm", "binancecoinm"}),
        (["binanceusdm"], {"binanceusdm"}),
        (["A"], {"binanceusdm", "binancecoinm"}),
        (["hyperliquid", "6"], {"hyperliquid", "bybit"}),
    ],
)
def test_venues_by_ccxt_id_code_or_name(server, tmp_path, venues, expected):
    catalog = cz.load_catalog(client(server), tmp_path, now=NOW)
    chosen = cz.select_perpetuals(catalog, ["BTC", "ETH"], venues)
    assert {m.exchange for m in chosen} == expected
    assert chosen == [m for m in cz.select_perpetuals(catalog, ["BTC", "ETH"]) if m in chosen]


def test_an_unknown_venue_is_refused(server, tmp_path):
    catalog = cz.load_catalog(client(server), tmp_path, now=NOW)
    with pytest.raises(UserError, match="unknown venue"):
        cz.select_perpetuals(catalog, ["BTC"], ["bnance"])


def test_rows_are_mapped_from_their_fields_not_their_symbol_text():
    markets = [
        row("NOT-A-FORMAT#1.6", "6", "?", "BTC", "USDT", "STABLE"),  # unparseable text
        row("ODD_PERP.A", "A", "?", "ETH", "USD", "COIN"),  # text says nothing of ETH
        row("BTCUSD.3", "3", "?", "BTC", "USD", None),  # no margined: USD quote is inverse
    ]
    catalog = cz.parse_catalog(markets, [], NOW, "test")
    got = {
        m.coinalyze: (m.exchange, m.symbol) for m in cz.select_perpetuals(catalog, ["BTC", "ETH"])
    }
    assert got == {
        "NOT-A-FORMAT#1.6": ("bybit", "BTC/USDT:USDT"),
        "ODD_PERP.A": ("binancecoinm", "ETH/USD:ETH"),
        "BTCUSD.3": ("okx", "BTC/USD:BTC"),
    }


def test_malformed_catalog_rows_are_left_out_and_a_non_list_refused():
    good = row("BTC.H", "H", "BTC", "BTC", "USD", "STABLE")
    catalog = cz.parse_catalog(
        [good, {"symbol": "X.A"}, "junk", {**good, "expire_at": True}], [], NOW, "t"
    )
    assert [e.symbol for e in catalog.entries] == ["BTC.H"]
    with pytest.raises(UserError, match="expected JSON lists"):
        cz.parse_catalog({"markets": []}, [], NOW, "t")
    with pytest.raises(UserError, match="no usable market"):
        cz.parse_catalog([], [], NOW, "t")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0, None),
        ("0", None),
        (1758873600000, pd.Timestamp("2025-09-26T08:00:00Z")),  # milliseconds
        (1758873600, pd.Timestamp("2025-09-26T08:00:00Z")),  # seconds
        ("2025-09-26T08:00:00Z", pd.Timestamp("2025-09-26T08:00:00Z")),
    ],
)
def test_expire_at_units(value, expected):
    assert cz.catalog.expiry(value) == expected


# ---- resolving what a run pulls ------------------------------------------------------------


def test_default_coins_come_from_the_config_and_venues_from_the_catalog(server, tmp_path):
    catalog = cz.load_catalog(client(server), tmp_path, now=NOW)
    config = parse_config({"exchanges": {"okx": {"symbols": ["BTC/USDT:USDT", "ETH/USDT:USDT"]}}})
    markets = cz.resolve_markets([], {}, config, catalog)
    assert {(m.exchange, m.symbol): s for s, m in markets.items()} == EXPECTED_BTC_ETH
    only_btc = cz.resolve_symbols([], {"coins": "BTC", "exchanges": ["Deribit"]}, config, catalog)
    assert only_btc == ["BTC-PERPETUAL.2", "BTC_USDC-PERPETUAL.2"]
    with pytest.raises(UserError, match="no perpetuals for DOGE"):
        cz.resolve_markets([], {}, config, catalog, coins=["DOGE"])


def test_named_symbols_are_looked_up_in_the_catalog(server, tmp_path, caplog):
    catalog = cz.load_catalog(client(server), tmp_path, now=NOW)
    config = parse_config({})
    markets = cz.resolve_markets(["pf_xbtusd.K", "BTC.H"], {}, config, catalog)
    assert {s: (m.exchange, m.symbol) for s, m in markets.items()} == {
        "pf_xbtusd.K": ("krakenfutures", "BTC/USD:USD"),
        "BTC.H": ("hyperliquid", "BTC/USDC:USDC"),
    }
    with pytest.raises(UserError, match="not a perpetual"):
        cz.resolve_markets(["BTC-26SEP25.2"], {}, config, catalog)
    with pytest.raises(UserError, match="no ccxt mapping"):
        cz.resolve_markets(["BTC-USD.8"], {}, config, catalog)
    with caplog.at_level(logging.WARNING):
        fallback = cz.resolve_markets(["ETHUSDT_PERP.0"], {}, config, catalog)
    assert (
        fallback["ETHUSDT_PERP.0"].symbol == "ETH/USDT:USDT"
        and "not in the market catalog" in caplog.text
    )


# ---- the cache ----------------------------------------------------------------------------


def test_the_cache_is_used_until_stale(server, tmp_path):
    c = client(server)
    first = cz.load_catalog(c, tmp_path, now=NOW)
    assert catalog_hits(server) == 1 and len(server.calls("/v1/exchanges")) == 1
    cached = json.loads(cz.catalog_path(tmp_path).read_text())
    assert cached["fetched_at"] == NOW.isoformat() and cached["base_url"] == c.base_url
    again = cz.load_catalog(c, tmp_path, now=NOW + pd.Timedelta(hours=23))
    assert catalog_hits(server) == 1  # served from the cache
    assert again.entries == first.entries and again.exchanges == first.exchanges
    later = NOW + pd.Timedelta(hours=25)
    cz.load_catalog(c, tmp_path, now=later)
    assert catalog_hits(server) == 2  # stale after 24 h: fetched again
    assert json.loads(cz.catalog_path(tmp_path).read_text())["fetched_at"] == later.isoformat()
    cz.load_catalog(c, tmp_path, max_age=pd.Timedelta(hours=1), now=later + pd.Timedelta(hours=2))
    assert catalog_hits(server) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "not json at all",
        lambda text: json.dumps({**json.loads(text), "future_markets": {"a": 1}}),
        lambda text: json.dumps({**json.loads(text), "fetched_at": "2024-08-06T00:00:00Z"}),
        lambda text: json.dumps({**json.loads(text), "base_url": "http://elsewhere/v1"}),
        lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "exchanges"}),
    ],
    ids=["truncated", "garbage", "malformed", "future", "other-server", "incomplete"],
)
def test_a_damaged_cache_is_fetched_again(server, tmp_path, damage):
    c = client(server)
    cz.load_catalog(c, tmp_path, now=NOW)
    path = cz.catalog_path(tmp_path)
    path.write_text(damage(path.read_text()))
    catalog = cz.load_catalog(c, tmp_path, now=NOW + pd.Timedelta(minutes=1))
    assert catalog_hits(server) == 2
    assert {(m.exchange, m.symbol) for m in cz.select_perpetuals(catalog, ["BTC", "ETH"])} == set(
        EXPECTED_BTC_ETH
    )
    json.loads(path.read_text())  # rewritten whole


def test_a_rejected_key_fails_in_one_line_and_caches_nothing(server, tmp_path):
    with pytest.raises(UserError) as err:
        cz.load_catalog(client(server, key="wrong-key"), tmp_path, now=NOW)
    assert "HTTP 401" in str(err.value) and "\n" not in str(err.value)
    assert not cz.catalog_path(tmp_path).exists()


# ---- the command --------------------------------------------------------------------------


def write_config(tmp_path: Path, server: CoinalyzeServer) -> Path:
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(
        "exchanges:\n  binanceusdm: {symbols: [BTC/USDT:USDT, ETH/USDT:USDT]}\n"
        f"vendors:\n  coinalyze:\n    base_url: {server.base_url}/v1\n"
        "    calls_per_minute: 400\n"
    )
    return cfg


def test_without_a_key_the_command_fails_in_one_line(server, tmp_path, monkeypatch):
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    args = argparse.Namespace(
        config=str(write_config(tmp_path, server)), data_dir=str(tmp_path / "store"),
        symbols=None, coins="BTC,ETH", exchanges=None, interval="1h", start=START, end=END,
        tables="liquidation_bars", base_units=False, timeout=5.0, retries=0, backoff=0.01,
    )  # fmt: skip
    with pytest.raises(UserError) as err:
        vendors.run_coinalyze(args)
    assert "COINALYZE_API_KEY" in str(err.value) and "\n" not in str(err.value)
    assert server.hits == []


def test_fetch_coinalyze_with_only_coins_pulls_every_listed_venue(server, tmp_path):
    store_dir = tmp_path / "store"
    cmd = [
        sys.executable, "-m", "helpers", "fetch-coinalyze", "--coins", "BTC,ETH",
        "--start", START.isoformat(), "--end", END.isoformat(),
        "--config", str(write_config(tmp_path, server)), "--data-dir", str(store_dir),
        "--retries", "0", "--backoff", "0.01",
    ]  # fmt: skip
    env = {**os.environ, "COINALYZE_API_KEY": KEY}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "coinalyze: 18 perpetuals on 8 venues" in proc.stdout
    asked = {
        s for h in server.calls("/v1/liquidation-history") for s in h.query["symbols"].split(",")
    }
    assert asked == set(EXPECTED_BTC_ETH.values())
    bars = Store(store_dir).read("liquidation_bars")
    assert set(zip(bars["exchange"], bars["symbol"], strict=True)) == set(EXPECTED_BTC_ETH)
    # one bar each, k x 1,000 USD long with k the symbol's rank in sorted order
    ranks = {s: i + 1.0 for i, s in enumerate(sorted(EXPECTED_BTC_ETH.values()))}
    want = {key: ranks[s] * 1_000.0 for key, s in EXPECTED_BTC_ETH.items()}
    keys = zip(bars["exchange"], bars["symbol"], strict=True)
    assert dict(zip(keys, bars["long_usd"], strict=True)) == want
    assert len(Store(store_dir).read("open_interest")) == 18
    assert KEY not in proc.stdout + proc.stderr
