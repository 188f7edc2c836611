"""The name checks of test_hostile_input let real data through: every real vendor export
imports in full, nothing quarantined. Its own file (it is the suite's slowest test, years of
daily partitions), so under ``--dist loadfile`` it runs beside the hostile-input tests."""

from __future__ import annotations

import pytest

from helpers.sources import coingecko, vendor_csv
from helpers.store import Store


@pytest.mark.realdata
def test_every_real_vendor_file_imports_in_full(realdata, tmp_path):
    store = Store(tmp_path / "real")
    imports = [
        ("coinglass", "coinglass_binance_liq_4h_BTC_ETH_SOL_XRP.csv", {"exchange": "binance"}),
        ("coinglass", "coinglass_binance_liq_1d_BTC_ETH_SOL_XRP.csv", {"exchange": "binance"}),
        ("coinglass", "coinglass_BinanceOKXBybit_liq_1d_7coins_2020-12_2025-09.csv", {}),
        ("coinalyze", "coinalyze_binance_perp_1h_ohlcv_liq_BTC_ETH_SOL_2024-06_08.csv", {}),
        (
            "coinalyze",
            "coinalyze_binance_usdtperps_liq_1d_2022-2023_baseunits.csv",
            {"prices": realdata / "coinalyze_binance_usdtperps_close_volume_1d_2022-2023.csv"},
        ),
    ]
    for fmt, name, options in imports:
        imported, result = vendor_csv.import_file(store, fmt, realdata / name, **options)
        assert result.quarantined == 0 and result.offered == len(imported.bars), name
    [snapshot] = realdata.glob("coingecko_top30_markets_*.json")
    rows = coingecko.load_file(snapshot)
    result = store.write("market_caps", coingecko.markets_frame(rows, "eur"))
    assert (result.written, result.quarantined) == (len(rows), 0)
    assert not store.quarantine_files()
