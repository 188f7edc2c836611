"""Incremental bars (:mod:`helpers.bars_cache`): a build re-groups only the partitions that
changed, and its bars equal a build without the cache at every step."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from helpers import bars_cache
from helpers.aggregate import aggregate_store, aggregate_store_counted
from helpers.store import Store

VENUES = ("binanceusdm", "okx", "bybit")
DAYS = pd.date_range("2025-03-01", periods=4, freq="D", tz="UTC")
N_PARTITIONS = len(VENUES) * len(DAYS)


def events(n: int, seed: int, days: pd.DatetimeIndex = DAYS, prefix: str = "e") -> pd.DataFrame:
    """``n`` events spread over ``days`` and the three venues, two symbols and two sources
    (a source only some venues use), in random time order."""
    rng = np.random.default_rng(seed)
    ts = days[0] + pd.to_timedelta(rng.integers(0, len(days) * 86_400, n), unit="s")
    symbol = rng.choice(["BTC/USDT:USDT", "ETH/USDT:USDT"], n)
    notional = rng.lognormal(8, 1, n).round(2)
    price = np.where(symbol == "BTC/USDT:USDT", 60_000.0, 3_000.0)
    exchange = rng.choice(VENUES, n)
    return pd.DataFrame(
        {
            "ts": ts,
            "exchange": exchange,
            "symbol": symbol,
            "base": [s.split("/")[0] for s in symbol],
            "side": rng.choice(["long", "short"], n, p=[0.7, 0.3]),
            "price": price,
            "amount": notional / price,
            "notional_usd": notional,
            "source": np.where((exchange == "okx") & (rng.random(n) < 0.5), "rest", "ws"),
            "event_id": [f"{prefix}{seed}-{i}" for i in range(n)],
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store", auto_compact=False)
    s.write("liquidations", events(3_000, seed=1))
    gap = {
        "table_name": ["liquidations"],
        "exchange": ["bybit"],
        "symbol": [None],
        "start": [pd.Timestamp("2025-03-02 05:30", tz="UTC")],
        "end": [pd.Timestamp("2025-03-02 08:10", tz="UTC")],
        "reason": ["disconnected"],
        "ts": [pd.Timestamp("2025-03-02 08:10", tz="UTC")],
    }
    s.write("gaps", pd.DataFrame(gap))
    return s


def same_as_uncached(store: Store, interval: str = "1h", *window: object, **filters: object):
    """The cached build's stats, after checking its bars equal those built without it."""
    cached, stats = aggregate_store_counted(store, interval, *window, **filters)  # type: ignore[arg-type]
    uncached = aggregate_store(store, interval, *window, cache=False, **filters)  # type: ignore[arg-type]
    assert len(cached) > 0
    assert_frame_equal(cached, uncached, check_exact=False, rtol=1e-12)
    return stats


def test_a_build_regroups_only_what_changed_and_always_equals_a_full_rebuild(store: Store) -> None:
    first = same_as_uncached(store)
    assert (first.aggregated, first.reused) == (N_PARTITIONS, 0)
    days = sorted(p.name for p in bars_cache.cache_dir(store.root, "1h").iterdir())
    assert days == [f"date={d:%Y-%m-%d}.parquet" for d in DAYS]  # one file per day

    again = same_as_uncached(store)
    assert (again.aggregated, again.reused) == (0, N_PARTITIONS)

    one_partition = events(40, seed=2, days=DAYS[1:2]).assign(exchange="okx")
    store.write("liquidations", one_partition)  # a write part beside okx's 03-02 file
    after_write = same_as_uncached(store)
    assert (after_write.aggregated, after_write.reused) == (1, N_PARTITIONS - 1)

    changed = one_partition.head(5).assign(notional_usd=1e6)  # same keys, new values
    store.write("liquidations", changed)
    assert same_as_uncached(store).aggregated == 1

    new_day = events(30, seed=3, days=pd.date_range("2025-03-05", periods=1, tz="UTC"))
    store.write("liquidations", new_day.assign(exchange="bybit"))
    assert same_as_uncached(store).aggregated == 1

    store.compact("liquidations")  # okx 03-02's parts merged into a new file
    assert same_as_uncached(store).aggregated == 1

    shutil.rmtree(store.table_dir("liquidations") / "exchange=bybit" / "date=2025-03-05")
    removed = same_as_uncached(store)
    assert (removed.aggregated, removed.dropped) == (0, 1)


def test_windows_venues_and_symbols_on_bar_edges_use_the_cache_and_others_do_not(
    store: Store,
) -> None:
    same_as_uncached(store)
    two_days = ("2025-03-02", "2025-03-04")
    stats = same_as_uncached(store, "1h", *two_days, exchanges=["okx"], symbols=["ETH/USDT:USDT"])
    # the window's partitions are okx 03-02, 03-03 and 03-04 (an end at midnight still
    # prunes to its date, as the uncached query does)
    assert (stats.aggregated, stats.reused) == (0, 3)
    assert same_as_uncached(store, "1h", "2025-03-01 06:00", "2025-03-03 18:00").reused == 9
    for unaligned in [("2025-03-01 06:30", "2025-03-03"), ("2025-03-01", "2025-03-03 00:00:01")]:
        assert same_as_uncached(store, "1h", *unaligned) is None
    assert same_as_uncached(store, "4h", "2025-03-01 06:00", "2025-03-03") is None


def test_a_build_of_a_window_reads_and_writes_only_its_days(store: Store) -> None:
    same_as_uncached(store)
    folder = bars_cache.cache_dir(store.root, "1h")
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    store.write("liquidations", events(20, seed=5, days=DAYS[2:3]).assign(exchange="okx"))
    stats = same_as_uncached(store, "1h", "2025-03-03", "2025-03-04")
    assert (stats.aggregated, stats.reused) == (1, 5)  # 03-03 and 03-04 of three venues
    after = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert [n for n in before if after[n] != before[n]] == ["date=2025-03-03.parquet"]


def test_a_partition_outside_the_selection_stays_cached(store: Store) -> None:
    same_as_uncached(store)
    shutil.rmtree(store.table_dir("liquidations") / "exchange=bybit")
    # bybit's folder is gone, but a build of okx only keeps bybit's cached buckets
    assert same_as_uncached(store, "1h", exchanges=["okx"]) == bars_cache.CacheStats(0, 4, 0)
    assert same_as_uncached(store) == bars_cache.CacheStats(0, 2 * len(DAYS), len(DAYS))


def test_each_interval_keeps_its_own_cache(store: Store) -> None:
    same_as_uncached(store, "1h")
    assert same_as_uncached(store, "4h").aggregated == N_PARTITIONS
    store.write("liquidations", events(20, seed=4, days=DAYS[:1]).assign(exchange="okx"))
    assert same_as_uncached(store, "4h").aggregated == 1
    assert same_as_uncached(store, "1h").aggregated == 1
    assert same_as_uncached(store, "1d").aggregated == N_PARTITIONS


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "other-version", "deleted", "a-folder"],
)
def test_a_damaged_or_missing_cache_is_rebuilt_and_never_gives_wrong_rows(
    store: Store, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    same_as_uncached(store)
    path = bars_cache.day_path(store.root, "1h", "2025-03-02")
    if damage == "garbage":
        path.write_bytes(b"not parquet at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "other-version":
        frame, manifest = bars_cache.load(path)
        assert frame is not None
        table_meta = {"version": bars_cache.VERSION + 1, "partitions": manifest}
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(
            table.replace_schema_metadata({bars_cache.MANIFEST_KEY: json.dumps(table_meta)}),
            path,
        )
    elif damage == "deleted":
        path.unlink()
    else:  # the day's file cannot be read nor written: that day is cold every time
        path.unlink()
        path.mkdir()
    with caplog.at_level(logging.WARNING, logger="helpers.bars_cache"):
        # only the damaged day's three partitions are grouped again
        assert same_as_uncached(store) == bars_cache.CacheStats(3, N_PARTITIONS - 3, 0)
    if damage != "deleted":
        assert "bars cache" in caplog.text
    expected_next = 3 if damage == "a-folder" else 0
    assert same_as_uncached(store).aggregated == expected_next
    shutil.rmtree(bars_cache.cache_dir(store.root, "1h"))
    assert same_as_uncached(store).aggregated == N_PARTITIONS


def test_events_filed_under_another_days_partition_are_counted_as_one_query_counts_them(
    store: Store,
) -> None:
    table = store.table_dir("liquidations")
    stray = table / "exchange=okx" / "date=2025-03-03" / "part-000000000099.parquet"
    shutil.copy(table / "exchange=okx" / "date=2025-03-02" / "part.parquet", stray)
    stats = same_as_uncached(store)  # 03-02's events now also under 03-03: summed per bar
    assert stats.aggregated == N_PARTITIONS


def test_the_cache_is_not_a_table_and_the_store_reads_the_same(store: Store) -> None:
    def stored() -> pd.DataFrame:
        rows = store.read("liquidations")  # rows of one ts come in any order
        return rows.sort_values(["exchange", "event_id"], ignore_index=True)

    before, files = stored(), store.files("liquidations")
    same_as_uncached(store)
    assert [p.name for p in store.root.iterdir() if p.name.startswith("_")] == ["_state"]
    assert store.files("liquidations") == files
    assert_frame_equal(stored(), before)
