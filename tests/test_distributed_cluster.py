"""The Dask aggregation on a real ``distributed`` cluster: worker processes, not threads.

A ``LocalCluster`` with two worker processes (one thread each) runs
:func:`helpers.distributed.bars_with_dask` over a store whose partitions still hold write
parts that were never compacted, one of them rewriting a stored event; the bars must equal
the DuckDB path (:func:`helpers.aggregate.aggregate_store`) row for row, and the task
stream must show the work ran on the cluster's workers (not in the test's process).
"""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from factories import liquidation_rows  # noqa: E402

from helpers.aggregate import aggregate_store  # noqa: E402
from helpers.distributed import bars_with_dask  # noqa: E402
from helpers.store import Store  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:The inplace keyword in DataFrame.reset_index:Warning:dask",
    "ignore::ResourceWarning",
    "ignore:Port .* is already in use:UserWarning",
)

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


# Three writes into the same partitions; the store never compacts, so the second and third
# land as write parts beside the first file. The third rewrites event "a2" (long 50 -> 70):
# a reader that counted every file would see it twice.
WRITES = [
    liquidation_rows(
        [
            ("2025-01-01 00:10", "okx", BTC, "long", 100.0, "a1"),
            ("2025-01-01 00:50", "okx", BTC, "long", 50.0, "a2"),
            ("2025-01-01 01:20", "bybit", BTC, "long", 9.0, "b1"),
        ]
    ),
    liquidation_rows(
        [
            ("2025-01-01 00:59:59", "okx", BTC, "short", 7.0, "a3"),
            ("2025-01-01 03:00", "okx", ETH, "short", 1.0, "a4"),
            ("2025-01-01 05:30", "bybit", BTC, "short", 3.0, "b2"),
        ]
    ),
    liquidation_rows(
        [
            ("2025-01-01 00:50", "okx", BTC, "long", 70.0, "a2"),
            ("2025-01-02 00:30", "okx", BTC, "long", 4.0, "a5"),
        ]
    ),
]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            memory_limit="1GiB",
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path, auto_compact=False)
    for rows in WRITES:
        s.write("liquidations", rows)
    return s


def test_the_store_holds_uncompacted_write_parts(store):
    parts = store.partitions("liquidations")
    okx_day = next(p for p in parts if "exchange=okx" in p.folder and "2025-01-01" in p.folder)
    assert len(okx_day.live_parts) == 2


@pytest.mark.parametrize(
    "args",
    [
        ("1h",),
        ("4h",),
        ("1h", "2025-01-01 00:30Z", "2025-01-01 04:00Z"),
        ("1h", None, None, ["okx"], [BTC]),
    ],
)
def test_bars_on_a_local_cluster_equal_duckdb_bars(client, store, args):
    with distributed.get_task_stream(client) as stream:
        on_cluster = bars_with_dask(store.root, *args)
    pd.testing.assert_frame_equal(on_cluster, aggregate_store(store, *args))
    workers = {t["worker"] for t in stream.data}
    assert workers <= set(client.scheduler_info()["workers"]) and workers


def test_the_rewritten_event_counts_once_on_the_cluster(client, store):
    bars = bars_with_dask(store.root, "1h", exchanges=["okx"], symbols=[BTC])
    first = bars[bars.ts == pd.Timestamp("2025-01-01 00:00", tz="UTC")].iloc[0]
    # 100 + 70 (a2 rewritten from 50), one short of 7
    assert (first.long_usd, first.long_count, first.short_usd) == (170.0, 2, 7.0)
