"""Coinalyze client against a local server speaking its API (tests/servers/vendors.py)."""

from __future__ import annotations

import argparse
import logging
import math

import pandas as pd
import pytest
from servers.vendors import CoinalyzeSeries, CoinalyzeServer

from helpers.cli import vendors
from helpers.errors import UserError
from helpers.sources import coinalyze as cz
from helpers.store import Store

KEY = "ck-0123456789abcdef-secret"
T0 = int(pd.Timestamp("2024-08-05T00:00:00Z").timestamp())
H = 3600
START = pd.Timestamp("2024-08-05T00:00:00Z")
END = pd.Timestamp("2024-08-05T03:00:00Z")


def btc_series() -> CoinalyzeSeries:
    """Three hourly bars; the 01:00 bar had no liquidations (Coinalyze leaves it out)."""
    return CoinalyzeSeries(
        long_base={T0: 2.0, T0 + 2 * H: 0.5},
        short_base={T0: 1.0, T0 + 2 * H: 0.0},
        close={T0: 50_000.0, T0 + H: 51_000.0, T0 + 2 * H: 52_000.0},
        oi_base={T0: 100.0, T0 + H: 110.0, T0 + 2 * H: 120.0},
        funding_pct={T0: 0.01, T0 + H: -0.005, T0 + 2 * H: 0.02},
    )


@pytest.fixture
def server():
    with CoinalyzeServer(KEY, {"BTCUSDT_PERP.A": btc_series()}) as srv:
        yield srv


def client(server: CoinalyzeServer, **kw) -> cz.Coinalyze:
    http = cz.JsonClient(
        "coinalyze",
        timeout=kw.pop("timeout", 5),
        retries=kw.pop("retries", 3),
        backoff=0.01,
        max_backoff=0.02,
    )
    return cz.Coinalyze(KEY, base_url=f"{server.base_url}/v1", http=http, **kw)


# ---- symbols ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coinalyze", "exchange", "symbol", "inverse"),
    [
        ("BTCUSDT_PERP.A", "binanceusdm", "BTC/USDT:USDT", False),
        ("BTCUSD_PERP.A", "binancecoinm", "BTC/USD:BTC", True),
        ("ETHUSDT.6", "bybit", "ETH/USDT:USDT", False),
        ("ETHUSD.6", "bybit", "ETH/USD:ETH", True),
        ("BTCPERP.6", "bybit", "BTC/USDC:USDC", False),
        ("SOLUSDT_PERP.3", "okx", "SOL/USDT:USDT", False),
        ("BTCUSD_PERP.3", "okx", "BTC/USD:BTC", True),
        ("1000PEPEUSDT_PERP.A", "binanceusdm", "1000PEPE/USDT:USDT", False),
        ("BTC.H", "hyperliquid", "BTC/USDC:USDC", False),
        ("BTC-PERPETUAL.2", "deribit", "BTC/USD:BTC", True),
        ("BTC_USDC-PERPETUAL.2", "deribit", "BTC/USDC:USDC", False),
        ("BTC_USDT.Y", "gate", "BTC/USDT:USDT", False),
        ("pf_xbtusd.K", "krakenfutures", "BTC/USD:USD", False),
        ("BTCUSD_PERP.0", "bitmex", "BTC/USD:BTC", True),
    ],
)
def test_symbols_map_to_ccxt(coinalyze, exchange, symbol, inverse):
    m = cz.parse_symbol(coinalyze)
    assert (m.exchange, m.symbol, m.inverse) == (exchange, symbol, inverse)
    assert cz.to_coinalyze(exchange, symbol) == coinalyze


@pytest.mark.parametrize(
    "bad",
    [
        "BTCUSDT",
        "BTCUSDT.A",  # Binance perpetuals carry _PERP
        "BTCUSDT_PERP.Z",  # unknown exchange code
        "XYZ_PERP.A",
        "BTCUSDT_250926.A",  # dated futures
        "BTCUSDU25.6",
        "BTC-26SEP25.2",
        "fi_xbtusd_250926.K",
        "BTC-USD.8",  # dYdX: no ccxt mapping
        "sBTCUSDT.6",  # spot
    ],
)
def test_symbols_outside_the_table_are_refused(bad):
    with pytest.raises(UserError):
        cz.parse_symbol(bad)


# ---- rate limit ---------------------------------------------------------------------------


def test_call_budget_waits_for_the_minute_window():
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    budget = cz.CallBudget(40, clock=lambda: now[0], sleep=sleep)
    assert budget.spend(20) == 0 and budget.spend(20) == 0  # 40 calls at t=0 fit
    now[0] = 10.0
    # the 41st..45th calls wait until the first calls leave the window: 0 + 60 - 10 = 50 s
    assert budget.spend(5) == pytest.approx(50.0)
    assert now[0] == pytest.approx(60.0)


def test_batches_of_20_symbols_and_windows_of_1000_bars(server):
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    c = client(server, budget=cz.CallBudget(40, clock=lambda: now[0], sleep=sleep))
    symbols = [f"C{i}USDT_PERP.A" for i in range(25)]
    end = pd.Timestamp.fromtimestamp(T0 + 1500 * H, tz="UTC")
    list(c.history("liquidation-history", symbols, "1h", START, end, convert_to_usd="true"))
    hits = server.calls("/v1/liquidation-history")
    # 2 symbol batches (20 + 5) x 2 windows (1000 bars + 500 bars) = 4 requests
    assert [len(h.query["symbols"].split(",")) for h in hits] == [20, 20, 5, 5]
    assert [(int(h.query["from"]), int(h.query["to"])) for h in hits[:2]] == [
        (T0, T0 + 1000 * H - 1),  # "to" is inclusive, in seconds
        (T0 + 1000 * H, T0 + 1500 * H - 1),
    ]
    assert all(h.headers["api_key"] == KEY and "api_key" not in h.query for h in hits)
    # 20 + 20 calls fit the first minute; the third request (5 more) waited for it to pass
    assert now[0] == pytest.approx(60.0)


# ---- tables -------------------------------------------------------------------------------


def test_liquidation_bars_in_usd_with_missing_bar_left_out(server):
    bars = cz.liquidation_bars(client(server), ["BTCUSDT_PERP.A"], "1h", START, END)
    assert server.calls("/v1/liquidation-history")[0].query["convert_to_usd"] == "true"
    assert list(bars["ts"]) == [START, START + pd.Timedelta(hours=2)]  # 01:00 stays missing
    # 00:00: long 2 BTC x 50,000 = 100,000; short 1 x 50,000 = 50,000
    # 02:00: long 0.5 x 52,000 = 26,000; short 0 (observed zero)
    assert list(bars["long_usd"]) == [100_000.0, 26_000.0]
    assert list(bars["short_usd"]) == [50_000.0, 0.0]
    assert bars["long_count"].isna().all() and bars["short_count"].isna().all()
    assert set(bars["exchange"]) == {"binanceusdm"} and set(bars["symbol"]) == {"BTC/USDT:USDT"}
    assert set(bars["source"]) == {cz.SOURCE}


def test_base_units_are_converted_with_the_close_and_marked_approximate(server):
    bars = cz.liquidation_bars(client(server), ["BTCUSDT_PERP.A"], "1h", START, END, usd=False)
    assert server.calls("/v1/liquidation-history")[0].query["convert_to_usd"] == "false"
    assert list(bars["long_usd"]) == [2.0 * 50_000.0, 0.5 * 52_000.0]
    assert set(bars["source"]) == {cz.SOURCE_APPROX}


def test_open_interest_and_funding(server):
    c = client(server)
    oi = cz.open_interest(c, ["BTCUSDT_PERP.A"], "1h", START, END)
    # open interest at each bar open: 100 BTC x 50,000, 110 x 51,000, 120 x 52,000
    assert list(oi["oi_usd"]) == [5_000_000.0, 5_610_000.0, 6_240_000.0]
    fr = cz.funding(c, ["BTCUSDT_PERP.A"], "1h", START, END)
    # Coinalyze percent -> fraction: 0.01 % = 0.0001
    assert fr["rate"].tolist() == pytest.approx([0.0001, -0.00005, 0.0002])


def test_retention_warning(caplog):
    now = pd.Timestamp("2024-08-10T00:00:00Z")
    with caplog.at_level(logging.WARNING):
        assert cz.check_retention("1h", now - pd.Timedelta(hours=1000), now)
        assert not cz.check_retention("1h", now - pd.Timedelta(hours=2000), now)
        assert cz.check_retention("1d", now - pd.Timedelta(days=3000), now)
    assert "last ~1500 1h bars" in caplog.text


# ---- failures -----------------------------------------------------------------------------


def test_429_5xx_html_and_truncated_json_are_retried(server):
    server.fail("/v1/liquidation-history", 429, 503, "html", "truncated")
    bars = cz.liquidation_bars(client(server, retries=4), ["BTCUSDT_PERP.A"], "1h", START, END)
    assert len(server.calls("/v1/liquidation-history")) == 5
    assert list(bars["long_usd"]) == [100_000.0, 26_000.0]


def test_timeout_is_retried(server):
    server.stall_seconds = 0.5
    server.fail("/v1/liquidation-history", "timeout")
    bars = cz.liquidation_bars(client(server, timeout=0.2), ["BTCUSDT_PERP.A"], "1h", START, END)
    assert len(bars) == 2


def test_retries_run_out_with_one_clear_line(server):
    server.fail("/v1/liquidation-history", 500, 502, 503)
    with pytest.raises(UserError) as err:
        cz.liquidation_bars(client(server, retries=2), ["BTCUSDT_PERP.A"], "1h", START, END)
    msg = str(err.value)
    assert "\n" not in msg and "after 3 attempts" in msg and "HTTP 503" in msg


def test_rejected_key_fails_at_once(server):
    http = cz.JsonClient("coinalyze", retries=3, backoff=0.01)
    c = cz.Coinalyze("wrong-key", base_url=f"{server.base_url}/v1", http=http)
    with pytest.raises(UserError, match="HTTP 401"):
        cz.liquidation_bars(c, ["BTCUSDT_PERP.A"], "1h", START, END)
    assert len(server.calls("/v1/")) == 1


def test_missing_key_is_a_user_error():
    with pytest.raises(UserError, match="COINALYZE_API_KEY"):
        cz.Coinalyze(None)


# ---- the command --------------------------------------------------------------------------


def command_args(tmp_path, server, **kw) -> argparse.Namespace:
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(f"vendors:\n  coinalyze:\n    base_url: {server.base_url}/v1\n")
    args = dict(
        config=str(cfg),
        data_dir=str(tmp_path / "store"),
        verbose=True,
        symbols="BTCUSDT_PERP.A",
        coins=None,
        exchanges=None,
        interval="1h",
        start=START,
        end=END,
        tables="liquidation_bars,open_interest,funding",
        base_units=False,
        timeout=5.0,
        retries=1,
        backoff=0.01,
    )
    args.update(kw)
    return argparse.Namespace(**args)


def test_command_stores_three_tables_and_never_shows_the_key(
    tmp_path, server, monkeypatch, caplog, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    server.fail("/v1/liquidation-history", 503)  # logged retry
    with caplog.at_level(logging.DEBUG):
        assert vendors.run_coinalyze(command_args(tmp_path, server)) == 0
    store = Store(tmp_path / "store")
    assert len(store.read("liquidation_bars")) == 2
    assert len(store.read("open_interest")) == 3
    assert len(store.read("funding")) == 3
    out = capsys.readouterr()
    assert "coinalyze: 1 perpetuals on 1 venues: binanceusdm 1" in out.out
    assert "binanceusdm: 2 rows, 2024-08-05 00:00 to 2024-08-05 02:00 UTC" in out.out
    assert "retry" in caplog.text.lower() or "attempt" in caplog.text.lower()
    cache = cz.catalog_path(tmp_path / "store").read_text()
    for text in (caplog.text, out.out, out.err, cache):
        assert KEY not in text


def test_command_error_does_not_show_the_key(tmp_path, server, monkeypatch, caplog, capsys):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    server.fail("/v1/liquidation-history", 500, 500)
    with caplog.at_level(logging.DEBUG), pytest.raises(UserError) as err:
        vendors.run_coinalyze(command_args(tmp_path, server, tables="liquidation_bars"))
    out = capsys.readouterr()
    for text in (str(err.value), caplog.text, out.out, out.err):
        assert KEY not in text
    assert not Store(tmp_path / "store").has_data("liquidation_bars")


def test_nan_values_stay_missing():
    markets = {"BTCUSDT_PERP.A": cz.parse_symbol("BTCUSDT_PERP.A")}
    df = pd.DataFrame({"coinalyze": ["BTCUSDT_PERP.A"], "t": [T0], "long": [None], "short": [3.0]})
    bars = cz.bars_frame(df, markets, "1h", cz.SOURCE)
    assert math.isnan(bars["long_usd"].iloc[0]) and bars["short_usd"].iloc[0] == 3.0
