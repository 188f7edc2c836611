"""The same notebooks on real third-party data (read in place from ../shared/realdata and
skipped when it is absent): CoinGlass 4-hour Binance liquidation bars around 2025-10-10."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import main

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.realdata]


def test_notebooks_render_real_vendor_bars_unchanged(realdata, tmp_path):
    data = tmp_path / "raw"
    data.mkdir()
    src = realdata / "coinglass_binance_liq_4h_BTC_ETH_SOL_XRP.csv"
    assert main(["import", "--format", "coinglass", str(src), "--exchange", "binance",
                 "--data-dir", str(data)]) == 0  # fmt: skip
    code = main(
        ["report", "--params", str(ROOT / "params" / "daily.yaml"), "--data-dir", str(data),
         "--out", str(tmp_path / "reports"), "--notebooks", str(ROOT / "notebooks"),
         "-p", "start=2025-10-08T00:00:00+00:00", "-p", "end=2025-10-13T00:00:00+00:00",
         "-p", "interval=4h", "-p", "spike_window=12"]
    )  # fmt: skip
    assert code == 0
    day = tmp_path / "reports" / "2025-10-12"
    summary = json.loads((day / "summary.json").read_text())
    assert summary["simulated"] is False and summary["sources"] == ["coinglass"]
    figs = summary["notebooks"]["01_liquidation_imbalance"]["figures"]
    raw = pd.read_csv(src, parse_dates=["time_utc"])
    raw = raw[(raw.time_utc >= "2025-10-08") & (raw.time_utc < "2025-10-13")]
    by_bar = raw.groupby("time_utc")["aggregated_long_liquidation_usd"].sum()
    assert figs["worst_bar_ts"]["value"] == by_bar.idxmax().isoformat()
    assert figs["worst_bar_long_usd"]["value"] == pytest.approx(by_bar.max())
    assert figs["window_long_usd"]["value"] == pytest.approx(by_bar.sum())
    assert "SIMULATED DATA" not in (day / "00_summary.html").read_text()
