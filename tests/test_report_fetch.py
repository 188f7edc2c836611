"""``fetch: true``: the report pulls its window over the real ccxt client from local venue
servers, then renders the same notebooks on that (non-simulated) data with no edits."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from servers.http_venues import BinanceUsdm, GateFutures
from servers.pull_market import closed_port

from helpers.cli import main

ROOT = Path(__file__).resolve().parents[1]
T0 = 1704067200000  # 2024-01-01 00:00 UTC
HOUR = 3_600_000
FAST = {"timeout": 2000, "enableRateLimit": False}
pytestmark = pytest.mark.slow


def _gate_liquidations() -> dict:
    """Six BTC_USDT liquidations in hour 2: sizes +10, -20, +30, -40, +50, -60 contracts of
    0.0001 BTC at 42,000 USD (positive = a long position)."""
    s0 = (T0 + 2 * HOUR) // 1000
    rows = [
        {"time": s0 + 60 * k, "contract": "BTC_USDT", "size": size, "order_price": "42000",
         "fill_price": "42000", "left": 0}
        for k, size in enumerate([10, -20, 30, -40, 50, -60])
    ]  # fmt: skip
    return {"BTC_USDT": rows}


SECRET = "ck-test-7f3a9c-DO-NOT-LEAK"


def test_fetch_then_render_real_format_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COINALYZE_API_KEY", SECRET)
    monkeypatch.setenv("TARDIS_API_KEY", SECRET)
    binance = BinanceUsdm(T0 - 72 * HOUR, T0 + 24 * HOUR, page_cap=50)
    gate = GateFutures(liquidations=_gate_liquidations())
    with binance.venue, gate.venue:
        config = tmp_path / "sources.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "exchanges": {
                        "binanceusdm": {
                            "symbols": ["BTC/USDT:USDT"],
                            "tables": ["ohlcv", "open_interest", "funding"],
                            "ccxt": {**binance.ccxt_options(), **FAST},
                        },
                        "gate": {
                            "symbols": ["BTC/USDT:USDT"],
                            "tables": ["liquidations"],
                            "ccxt": {**gate.ccxt_options(), **FAST},
                        },
                    },
                    # the key is set but Coinalyze is unreachable: one failed source
                    "vendors": {"coinalyze": {"base_url": f"http://127.0.0.1:{closed_port()}/v1"}},
                }
            )
        )
        data = tmp_path / "raw"
        data.mkdir()
        start = pd.Timestamp(T0, unit="ms", tz="UTC")
        code = main(
            ["report", "--params", str(ROOT / "params" / "daily.yaml"), "--config", str(config),
             "--data-dir", str(data), "--out", str(tmp_path / "reports"),
             "--notebooks", str(ROOT / "notebooks"), "-p", "fetch=true", "--backoff", "0.01",
             "-p", f"start={start.isoformat()}",
             "-p", f"end={(start + pd.Timedelta(hours=12)).isoformat()}"]
        )  # fmt: skip
    assert code == 0
    day = tmp_path / "reports" / "2024-01-01"
    summary = json.loads((day / "summary.json").read_text())
    assert summary["simulated"] is False
    assert summary["pull"]["failed"] == ["coinalyze"]
    assert "INCOMPLETE DATA" in (day / "01_liquidation_imbalance.html").read_text()
    assert "SIMULATED DATA" not in (day / "01_liquidation_imbalance.html").read_text()
    figs = summary["notebooks"]["01_liquidation_imbalance"]["figures"]
    # longs: (10 + 30 + 50) contracts x 0.0001 BTC x 42,000 = 378 USD; shorts: 120 x 4.2 = 504
    assert figs["window_long_usd"]["value"] == pytest.approx(378.0)
    assert figs["window_short_usd"]["value"] == pytest.approx(504.0)
    assert figs["worst_bar_ts"]["value"] == (start + pd.Timedelta(hours=2)).isoformat()
    # gate observed only hour 2 (its first and last event): the other 11 bars are missing
    assert figs["missing_bars"]["value"] == 11
    clusters = summary["notebooks"]["04_clusters_support"]["figures"]
    assert clusters["last_price"]["value"] is not None
    printed = capsys.readouterr()
    assert SECRET not in printed.out + printed.err
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
