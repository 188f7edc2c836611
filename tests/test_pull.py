"""``python -m helpers pull``: one window from every source, against local Gate and HTX venue
servers, a Coinalyze server with its market catalog and a CoinGecko server
(``servers/pull_market.py`` lists every figure they serve)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from servers.pull_market import END, GECKO_KEY, KEY, START, Market, closed_port
from servers.vendors import CoinGeckoServer

from helpers.cli import main
from helpers.config import load_config
from helpers.pull import EXIT_NO_DATA, Held, PullReport, SourceStatus, pull_window
from helpers.sources.retry import RetryPolicy
from helpers.store import Store
from helpers.timegrid import Window

pytestmark = pytest.mark.slow
SOURCE_NAMES = ("ccxt gate", "ccxt htx", "coinalyze", "collector", "market caps")


def pull(tmp_path: Path, config: Path, *extra: str) -> int:
    return main(
        ["pull", "--start", START, "--end", END, "--config", str(config),
         "--data-dir", str(tmp_path / "raw"), "--retries", "0", "--backoff", "0.01", *extra]
    )  # fmt: skip


def source_lines(out: str) -> dict[str, str]:
    """Source name -> its line (without the name) of a rendered pull report."""
    lines = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    found = {}
    for line in lines:
        name, _, rest = line.partition(": ")
        if name in SOURCE_NAMES:
            assert name not in found, f"two lines for {name}"
            found[name] = rest
    return found


def test_which_windows_can_be_reported():
    window = Window.of(START, END)
    ok = SourceStatus("ccxt gate", "ok", "liquidations 6 events", {"gate": 6})
    partial = SourceStatus("coinalyze", "partial", "liquidation bars ...; FAILED funding: x")
    failed = SourceStatus("ccxt htx", "failed", "htx markets: HTTP 500")
    skipped = SourceStatus("market caps", "skipped", "history for a past window not available")
    held = {"gate": Held(events=6)}

    some = PullReport(window, (ok, partial, failed, skipped), held)
    assert some.usable and [s.name for s in some.failed] == ["coinalyze", "ccxt htx"]
    assert [s.name for s in some.skipped] == ["market caps"]
    assert some.as_json()["failed"] == ["coinalyze", "ccxt htx"]
    assert some.render().splitlines()[1:] == [
        "  ccxt gate: ok, liquidations 6 events",
        "  coinalyze: partial, liquidation bars ...; FAILED funding: x",
        "  ccxt htx: failed, htx markets: HTTP 500",
        "  market caps: skipped, history for a past window not available",
        "  liquidation data held for the window: gate 6 events",
    ]
    # a source that answered in part did not fail outright
    assert PullReport(window, (partial, failed, skipped), held).usable
    # every source asked failed: not reported, even with data from an earlier run
    all_failed = PullReport(window, (failed, skipped), held)
    assert all_failed.every_source_failed and "every source failed" in all_failed.problem()
    # nothing asked (no key, nothing configured) and data already held: reported
    assert PullReport(window, (skipped,), held).usable
    # no liquidation data at all
    empty = PullReport(window, (ok, skipped), {})
    assert not empty.usable and empty.problem().startswith("no liquidation data for ")


@pytest.fixture
def market(monkeypatch):
    monkeypatch.setenv("COINGECKO_API_KEY", GECKO_KEY)
    with Market() as m:
        yield m


def test_every_source_one_line_and_the_store_holds_each_venue_once(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    assert pull(tmp_path, market.config(tmp_path)) == 0
    out = capsys.readouterr().out
    lines = source_lines(out)
    assert set(lines) == set(SOURCE_NAMES)
    assert lines["ccxt gate"] == "ok, liquidations 6 events"
    assert lines["ccxt htx"] == "ok, liquidations 4 events"
    assert lines["coinalyze"].startswith(
        "ok, liquidation bars binancecoinm 12, binanceusdm 12, hyperliquid 12"
    )
    assert lines["collector"].startswith("skipped, no events recorded")
    assert lines["market caps"].startswith(
        "ok, coingecko: history (/coins/{id}/market_chart/range) for the window end "
        "2024-01-01 12:00 UTC, 2 of 2 coins, points 2024-01-01 11:00 to 2024-01-01 11:00 UTC"
    ), lines["market caps"]
    caps = Store(tmp_path / "raw").read("market_caps").set_index("coin")
    assert set(caps["source"]) == {"coingecko:history"}
    assert caps.loc["bitcoin", "price_usd"] == 42_110.0
    assert caps.loc["bitcoin", "market_cap_usd"] == pytest.approx(42_110.0 * 19.6e6)
    # gate's events cover gate: its Coinalyze bars are never asked for
    asked = {
        s for h in market.coinalyze.calls("/v1/liquidation-history")
        for s in h.query["symbols"].split(",")
    }  # fmt: skip
    assert {"BTCUSDT_PERP.A", "BTC.H", "BTCUSD_PERP.A"} <= asked
    assert "BTC_USDT.Y" not in asked
    store = Store(tmp_path / "raw")
    bars = store.read("liquidation_bars")
    assert set(bars["source"]) == {"coinalyze"}
    assert "gate" not in set(bars["exchange"])
    per_venue = bars.groupby("exchange")["long_usd"].sum().to_dict()
    assert per_venue == {
        "binancecoinm": pytest.approx(48_000.0),
        "binanceusdm": pytest.approx(1_280_000.0),
        "hyperliquid": pytest.approx(240_000.0),
    }
    events = store.read("liquidations")
    assert events.groupby("exchange").size().to_dict() == {"gate": 6, "htx": 4}
    assert "liquidation data held for the window:" in out and "gate 6 events" in out


def test_without_a_key_coinalyze_is_skipped_in_one_line(market, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    assert pull(tmp_path, market.config(tmp_path)) == 0  # gate and htx still give events
    lines = source_lines(capsys.readouterr().out)
    assert lines["coinalyze"] == "skipped, no key (COINALYZE_API_KEY not set)"
    assert market.coinalyze.hits == []


def test_every_source_failing_exits_non_zero_with_one_error_line(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    market.fail_everything()
    config = market.config(tmp_path, htx_port=closed_port())
    assert pull(tmp_path, config) == EXIT_NO_DATA
    captured = capsys.readouterr()
    lines = source_lines(captured.out)
    for name in ("ccxt gate", "ccxt htx", "coinalyze"):
        assert lines[name].startswith("failed, "), lines[name]
        assert "\n" not in lines[name]
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "every source failed" in errors[0]


def test_no_liquidation_data_at_all_exits_non_zero(market, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    market.gate.liquidations.clear()
    market.htx.linear.clear()
    assert pull(tmp_path, market.config(tmp_path)) == EXIT_NO_DATA
    captured = capsys.readouterr()
    assert source_lines(captured.out)["ccxt gate"] == "ok, liquidations 0 events"
    assert "error: no liquidation data for 2024-01-01 00:00 .. 2024-01-01 12:00 UTC" in captured.err


def test_events_the_collector_recorded_are_counted_and_keep_the_window_usable(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    store = Store(tmp_path / "raw")
    ts = pd.Timestamp(START) + pd.Timedelta(minutes=90)
    recorded = pd.DataFrame(
        {"ts": [ts, ts + pd.Timedelta(minutes=1)], "exchange": "binanceusdm",
         "symbol": "BTC/USDT:USDT", "base": "BTC", "side": ["long", "short"],
         "price": 42_000.0, "amount": 0.5, "notional_usd": 21_000.0,
         "source": "ccxt.pro:binanceusdm", "event_id": ["a1", "a2"]}
    )  # fmt: skip
    store.write("liquidations", recorded)
    market.fail_everything()
    assert pull(tmp_path, market.config(tmp_path)) == 0  # recorded events serve the window
    lines = source_lines(capsys.readouterr().out)
    assert lines["collector"] == "ok, recorded events binanceusdm 2"
    assert lines["ccxt gate"].startswith("failed, ")


def test_a_window_ending_now_gets_the_live_market_cap_snapshot(market, tmp_path, monkeypatch):
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    rows = [{"id": "bitcoin", "symbol": "btc", "name": "Bitcoin", "current_price": 42_000.0,
             "market_cap": 8.2e11, "price_change_percentage_24h": -1.5,
             "last_updated": "2024-01-01T11:58:00Z"}]  # fmt: skip
    with CoinGeckoServer(rows) as gecko:
        config = market.config(tmp_path, coingecko={"base_url": f"{gecko.base_url}/api/v3"})
        store = Store(tmp_path / "raw")
        report = pull_window(
            store, load_config(config), Window.of(START, END),
            now=pd.Timestamp(END) + pd.Timedelta(minutes=20),
            policy=RetryPolicy(attempts=1, base_delay=0.01),
        )  # fmt: skip
    caps = {s.name: s for s in report.sources}["market caps"]
    assert (caps.state, caps.detail) == (
        "ok",
        "coingecko: live snapshot (/coins/markets) at 2024-01-01 11:58 UTC for the window end "
        "2024-01-01 12:00 UTC, 1 coins; market_caps: 1 new of 1 rows in 1 partitions",
    )
    assert store.read("market_caps")["market_cap_usd"].tolist() == [8.2e11]
    assert report.usable and report.failed == ()


def test_the_key_never_reaches_output_logs_or_files(market, tmp_path):
    config = market.config(tmp_path)
    market.coinalyze.fail("/v1/open-interest-history", 500)  # an error line on the way
    cmd = [
        sys.executable, "-m", "helpers", "pull", "-v", "--start", START, "--end", END,
        "--config", str(config), "--data-dir", str(tmp_path / "raw"),
        "--retries", "0", "--backoff", "0.01",
    ]  # fmt: skip
    env = {**os.environ, "COINALYZE_API_KEY": KEY, "COINGECKO_API_KEY": GECKO_KEY}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "coinalyze: partial, " in proc.stdout and "FAILED open_interest" in proc.stdout
    assert "DEBUG" in proc.stderr  # -v: every debug line was there to leak the key
    for key in (KEY, GECKO_KEY):
        assert key not in proc.stdout + proc.stderr
    assert all(h.headers.get("api_key") == KEY for h in market.coinalyze.hits)
    assert market.gecko.hits and all(
        h.headers.get("x-cg-pro-api-key") == GECKO_KEY for h in market.gecko.hits
    )
    for path in (tmp_path / "raw").rglob("*"):
        if path.is_file():
            for key in (KEY, GECKO_KEY):
                assert key.encode() not in path.read_bytes(), path
