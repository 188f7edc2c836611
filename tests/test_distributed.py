from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")

from factories import liquidation_rows  # noqa: E402

from helpers.aggregate import aggregate_store  # noqa: E402
from helpers.distributed import bars_with_dask  # noqa: E402
from helpers.store import Store  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:The inplace keyword in DataFrame.reset_index:Warning:dask"
)


BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
EVENTS = liquidation_rows(
    [
        ("2025-01-01 00:10", "okx", BTC, "long", 100.0),
        ("2025-01-01 00:50", "okx", BTC, "long", 50.0),
        ("2025-01-01 00:59:59", "okx", BTC, "short", 7.0),
        ("2025-01-01 03:00", "okx", BTC, "short", 1.0),
        ("2025-01-01 01:20", "okx", ETH, "long", 8.0),
        ("2025-01-01 01:20", "bybit", BTC, "long", 9.0),
        ("2025-01-02 00:30", "okx", BTC, "long", 4.0),
    ]
)
GAP = pd.DataFrame(
    {
        "start": pd.to_datetime(["2025-01-01 02:30"], utc=True),
        "end": pd.to_datetime(["2025-01-01 02:40"], utc=True),
        "exchange": ["okx"],
        "symbol": [None],
        "table_name": ["liquidations"],
        "reason": ["stream silent"],
        "ts": pd.to_datetime(["2025-01-01 02:30"], utc=True),
    }
)


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path)
    s.write("liquidations", EVENTS)
    s.write("gaps", GAP)
    return s


def _at(bars: pd.DataFrame, exchange: str, symbol: str, ts: str) -> tuple:
    row = bars[
        (bars.exchange == exchange)
        & (bars.symbol == symbol)
        & (bars.ts == pd.Timestamp(ts, tz="UTC"))
    ]
    assert len(row) == 1, f"expected one {exchange} {symbol} bar at {ts}, got {len(row)}"
    r = row.iloc[0]
    return (r.long_usd, r.short_usd, r.long_count, r.short_count)


def test_dask_bars_sum_each_side_per_hour_venue_and_symbol(store):
    bars = bars_with_dask(store.root, "1h")
    # okx BTC 00:00 bar: longs 100 + 50 = 150 (2 events), shorts 7 (1 event)
    assert _at(bars, "okx", BTC, "2025-01-01 00:00") == (150.0, 7.0, 2, 1)
    assert _at(bars, "okx", BTC, "2025-01-01 03:00") == (0.0, 1.0, 0, 1)
    assert _at(bars, "okx", BTC, "2025-01-02 00:00") == (4.0, 0.0, 1, 0)
    assert _at(bars, "bybit", BTC, "2025-01-01 01:00") == (9.0, 0.0, 1, 0)
    assert _at(bars, "okx", ETH, "2025-01-01 01:00") == (8.0, 0.0, 1, 0)


def test_dask_bars_zero_fill_the_observed_span_and_drop_gap_bars(store):
    bars = bars_with_dask(store.root, "1h")
    okx_btc = bars[(bars.exchange == "okx") & (bars.symbol == BTC)]
    # observed from 01-01 00:00 to 01-02 00:00: 25 bars, minus the 02:00 bar the gap
    # [02:30, 02:40) overlaps = 24; quiet bars are zero, not missing
    assert len(okx_btc) == 24
    assert pd.Timestamp("2025-01-01 02:00", tz="UTC") not in set(okx_btc.ts)
    assert _at(bars, "okx", BTC, "2025-01-01 01:00") == (0.0, 0.0, 0, 0)
    # 100 + 50 + 4 long, 7 + 1 short over the whole span
    assert (okx_btc.long_usd.sum(), okx_btc.short_usd.sum()) == (154.0, 8.0)


def test_dask_window_is_half_open_and_cuts_inside_a_file(store):
    bars = bars_with_dask(store.root, "1h", "2025-01-01 00:30Z", "2025-01-01 03:00Z")
    # 00:10 is before the start (same file as 00:50); 03:00 is at the exclusive end
    assert _at(bars, "okx", BTC, "2025-01-01 00:00") == (50.0, 7.0, 1, 1)
    assert len(bars[(bars.exchange == "okx") & (bars.symbol == BTC)]) == 1
    assert len(bars) == 3


@pytest.mark.parametrize(
    "args",
    [
        ("1h",),
        ("4h",),
        ("1h", "2025-01-01 00:30Z", "2025-01-01 03:00Z"),
        ("1h", None, None, ["okx"], [BTC]),
    ],
)
def test_dask_bars_equal_duckdb_bars(store, args):
    pd.testing.assert_frame_equal(bars_with_dask(store.root, *args), aggregate_store(store, *args))


def test_empty_store_gives_empty_bars(tmp_path):
    bars = bars_with_dask(tmp_path, "1h")
    assert bars.empty
    assert list(bars.columns) == list(aggregate_store(Store(tmp_path), "1h").columns)
