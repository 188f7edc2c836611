"""Clean partitions grouped by Arrow and numpy (:mod:`helpers.bars_group`) give, row for
row, the buckets the SQL path gives for the same files; what the fast path cannot read is
left to the SQL path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

from helpers import aggregate, bars_group
from helpers.bars_group import group_clean_partitions
from helpers.store import Store
from helpers.store_layout import (
    COVERS_KEY,
    PART_FILE,
    SERIES_KEY,
    local_partitions,
    read_series,
    series_metadata,
)

KEYS = ["exchange", "date", "bucket", "symbol", "base", "source"]
DAY = pd.Timestamp("2025-03-01", tz="UTC")


def events(n: int, seed: int) -> pd.DataFrame:
    """``n`` events of one day (no ``exchange``: the folder names it), three symbols, two
    sources, in random time order, some exactly on bar edges."""
    rng = np.random.default_rng(seed)
    us = rng.integers(0, 86_400_000_000, n)
    us[: n // 10] = us[: n // 10] // 3_600_000_000 * 3_600_000_000
    symbol = rng.choice(["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDC:USDC"], n)
    notional = rng.lognormal(8, 1, n)
    return pd.DataFrame(
        {
            "ts": DAY + pd.to_timedelta(us, unit="us"),
            "symbol": symbol,
            "base": [s.split("/")[0] for s in symbol],
            "side": rng.choice(["long", "short"], n, p=[0.7, 0.3]),
            "price": 100.0,
            "amount": notional / 100.0,
            "notional_usd": notional,
            "source": rng.choice(["ws", "rest"], n),
            "event_id": [f"e{seed}-{i}" for i in range(n)],
        }
    )


def write_file(
    root: Path,
    frame: pd.DataFrame,
    exchange: str = "okx",
    day: str = "2025-03-01",
    series: bool = True,
    **options: object,
) -> Path:
    """``frame`` as the compacted file of (exchange, day), as a foreign writer would leave
    it: with or without the series footer, with the writer ``options`` given."""
    folder = root / "liquidations" / f"exchange={exchange}" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {COVERS_KEY: b"0", **(series_metadata(table) if series else {})}
    pq.write_table(table.replace_schema_metadata(meta), folder / PART_FILE, **options)  # type: ignore[arg-type]
    return folder / PART_FILE


def by_sql(root: Path, secs: int) -> pd.DataFrame:
    con = aggregate._connection()
    try:
        parts = local_partitions(root / "liquidations", 2)
        return aggregate._sql_partition_buckets(con, parts, secs)
    finally:
        con.close()


def same_as_sql(root: Path, secs: int = 3600) -> pd.DataFrame:
    """The fast path's buckets, after checking they equal the SQL path's and that no
    partition was refused."""
    grouped = group_clean_partitions(local_partitions(root / "liquidations", 2), secs)
    assert grouped.refused == []
    assert grouped.buckets is not None
    fast = grouped.buckets.sort_values(KEYS).reset_index(drop=True)
    sql = by_sql(root, secs).sort_values(KEYS).reset_index(drop=True)
    assert_frame_equal(fast, sql[fast.columns], check_dtype=False, check_exact=False, rtol=1e-12)
    return fast


@pytest.mark.parametrize("secs", [60, 3600, 86_400])
def test_buckets_equal_the_sql_path_for_every_interval(tmp_path: Path, secs: int) -> None:
    write_file(tmp_path, events(5_000, seed=1))
    write_file(tmp_path, events(3_000, seed=2), exchange="bybit", day="2025-03-01")
    fast = same_as_sql(tmp_path, secs)
    assert fast["long_count"].sum() + fast["short_count"].sum() == 8_000
    assert set(fast["exchange"]) == {"okx", "bybit"}


def test_the_series_footer_only_saves_reading_base_and_source(tmp_path: Path) -> None:
    frame = events(4_000, seed=3).assign(source="ws")  # one (base, source) per symbol
    with_footer, without = tmp_path / "a", tmp_path / "b"
    write_file(with_footer, frame)
    write_file(without, frame, series=False)
    assert read_series(pq.read_metadata(with_footer / iter_parts(with_footer)[0]).metadata)
    assert_frame_equal(same_as_sql(with_footer), same_as_sql(without))


def iter_parts(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob(PART_FILE)]


def test_a_symbol_with_two_bases_or_sources_is_grouped_by_each(tmp_path: Path) -> None:
    frame = events(3_000, seed=4)
    frame.loc[frame.index[::7], "base"] = "XBT"
    write_file(tmp_path, frame)
    assert read_series(pq.read_metadata(tmp_path / iter_parts(tmp_path)[0]).metadata) is None
    fast = same_as_sql(tmp_path)
    assert {"XBT", "BTC"} <= set(fast["base"])


def test_a_footer_that_misses_a_symbol_is_not_trusted(tmp_path: Path) -> None:
    frame = events(2_000, seed=5)
    path = write_file(tmp_path, frame, series=False)
    table = pq.read_table(path)
    only_btc = json.dumps([["BTC/USDT:USDT", "BTC", "ws"]]).encode()
    pq.write_table(table.replace_schema_metadata({COVERS_KEY: b"0", SERIES_KEY: only_btc}), path)
    fast = same_as_sql(tmp_path)
    assert set(fast["source"]) == {"ws", "rest"}


def test_missing_notionals_and_other_sides_count_like_sql(tmp_path: Path) -> None:
    frame = events(3_000, seed=6)
    frame.loc[frame.index[::5], "notional_usd"] = np.nan
    frame.loc[frame.index[1::11], "side"] = "unknown"
    hour0 = frame["ts"] < DAY + pd.Timedelta(hours=1)
    frame.loc[hour0 & (frame["side"] == "short"), "notional_usd"] = np.nan  # no short USD
    write_file(tmp_path, frame)
    fast = same_as_sql(tmp_path)
    first = fast[fast["bucket"] == fast["bucket"].min()]
    assert first["short_usd"].isna().all() and (first["short_count"] > 0).any()


def test_many_row_groups_millisecond_times_and_a_stray_event_far_away(tmp_path: Path) -> None:
    frame = events(6_000, seed=7)
    frame["ts"] = frame["ts"].astype("datetime64[ms, UTC]")
    frame.loc[frame.index[0], "ts"] = pd.Timestamp("2031-06-01 12:34:56.789", tz="UTC")
    write_file(tmp_path, frame, row_group_size=700, use_dictionary=["symbol", "side"])
    assert pq.ParquetFile(next(tmp_path.rglob(PART_FILE))).metadata.num_row_groups > 5
    fast = same_as_sql(tmp_path, 60)
    assert fast["bucket"].max() - fast["bucket"].min() > 3_000_000  # renumbered, not dense


def test_an_empty_file_has_no_buckets(tmp_path: Path) -> None:
    write_file(tmp_path, events(10, seed=8).iloc[:0])
    grouped = group_clean_partitions(local_partitions(tmp_path / "liquidations", 2), 3600)
    assert grouped.refused == []
    assert grouped.buckets is not None and grouped.buckets.empty


def test_files_it_cannot_read_are_left_to_the_sql_path(tmp_path: Path) -> None:
    write_file(tmp_path, events(500, seed=9), exchange="okx")
    nulls = events(500, seed=10)
    nulls.loc[nulls.index[3], "symbol"] = None
    write_file(tmp_path, nulls, exchange="bybit", series=False)
    write_file(tmp_path, events(500, seed=11).drop(columns="source"), exchange="gate")
    cut = write_file(tmp_path, events(500, seed=12), exchange="htx")
    cut.write_bytes(cut.read_bytes()[:-40])
    grouped = group_clean_partitions(local_partitions(tmp_path / "liquidations", 2), 3600)
    refused = sorted(Path(p.folder).parent.name for p in grouped.refused)
    assert refused == ["exchange=bybit", "exchange=gate", "exchange=htx"]
    assert grouped.buckets is not None and set(grouped.buckets["exchange"]) == {"okx"}


def test_dirty_partitions_are_deduplicated_by_sql_and_the_build_equals_one_query(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "store", auto_compact=False)
    first = events(2_000, seed=13).assign(exchange="okx")
    store.write("liquidations", first)
    store.write("liquidations", first.iloc[:300].assign(notional_usd=1.0))  # rewrites keys
    store.write("liquidations", events(1_000, seed=14).assign(exchange="bybit"))
    parts = store.partitions("liquidations")
    assert sorted(p.clean for p in parts) == [False, True]
    grouped = group_clean_partitions(parts, 3600)
    assert [Path(p.folder).parent.name for p in grouped.refused] == ["exchange=okx"]
    cached = aggregate.aggregate_store(store, "1h")
    uncached = aggregate.aggregate_store(store, "1h", cache=False)
    assert_frame_equal(cached, uncached, check_exact=False, rtol=1e-12)
    okx = cached[cached["exchange"] == "okx"]
    assert okx["long_count"].sum() + okx["short_count"].sum() == 2_000


def test_compaction_writes_the_series_footer_and_lz4(tmp_path: Path) -> None:
    store = Store(tmp_path / "store", auto_compact=False)
    store.write("liquidations", events(800, seed=15).assign(exchange="okx"))
    store.write("liquidations", events(200, seed=16).assign(exchange="okx"))
    store.compact("liquidations")
    (path,) = store.files("liquidations")
    footer = json.loads(pq.read_metadata(path).metadata[SERIES_KEY])
    rows = pq.read_table(path).to_pandas()
    triples = rows[["symbol", "base", "source"]].drop_duplicates()
    assert sorted(map(tuple, footer)) == sorted(triples.itertuples(index=False, name=None))
    assert len(footer) == 6  # three symbols, two sources each
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "LZ4"


def test_series_footer_reads_back_and_refuses_what_it_cannot_trust() -> None:
    table = pa.table({"symbol": ["A", "B", "A"], "base": ["a", "b", "a"], "source": ["x"] * 3})
    assert read_series(series_metadata(table)) == {"A": ("a", "x"), "B": ("b", "x")}
    two = pa.table({"symbol": ["A", "A"], "base": ["a", "a"], "source": ["x", "y"]})
    assert read_series(series_metadata(two)) is None
    assert series_metadata(pa.table({"symbol": ["A"]})) == {}
    assert series_metadata(pa.table({"symbol": [None], "base": ["a"], "source": ["x"]})) == {}
    for raw in (b"not json", b'[["A", "a"]]', b'[["A", 1, "x"]]', b"{}"):
        assert read_series({SERIES_KEY: raw}) is None
    assert read_series(None) is None


def test_threads_do_not_change_the_result(tmp_path: Path) -> None:
    for i, ex in enumerate(("okx", "bybit", "gate", "htx", "mexc")):
        write_file(tmp_path, events(1_500, seed=20 + i), exchange=ex)
    parts = local_partitions(tmp_path / "liquidations", 2)
    one = group_clean_partitions(parts, 3600, workers=1).buckets
    four = group_clean_partitions(parts, 3600, workers=4).buckets
    assert one is not None and four is not None
    assert_frame_equal(
        one.sort_values(KEYS, ignore_index=True), four.sort_values(KEYS, ignore_index=True)
    )
    assert list(one.columns) == bars_group.OUT_COLUMNS
