"""Writes add immutable parts; compaction merges them; readers see each key once throughout.

Two stores receive the same writes: one compacts in every write (``reference``), the other
only adds write parts (``auto_compact=False``), so every reader (``Store.read``, the DuckDB
queries, the Dask path, doctor) is compared between a write and its compaction with the
store that has one file per partition. A real ``python -m helpers compact`` subprocess is
SIGKILLed at each step of its commit, and readers still see each key once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import aggregate, event_queries
from helpers.compaction import PAUSE_ENV
from helpers.doctor import check_store
from helpers.store import Store
from helpers.store_layout import PART_FILE

SRC = Path(__file__).resolve().parents[1] / "src"
DAY = pd.Timestamp("2025-01-01", tz="UTC")


def _events(ids: list[int], amount: float = 0.01) -> pd.DataFrame:
    """Events ``ev-<i>`` on okx (odd ``i``) and bybit, ``i`` minutes into 2025-01-01."""
    return pd.DataFrame(
        {
            "ts": DAY + pd.to_timedelta(np.array(ids) * 60, unit="s"),
            "exchange": ["okx" if i % 2 else "bybit" for i in ids],
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "side": ["long" if i % 3 else "short" for i in ids],
            "price": [90_000.0 + i for i in ids],
            "amount": amount,
            "notional_usd": [900.0 + i for i in ids],
            "source": "test",
            "event_id": [f"ev-{i}" for i in ids],
        }
    )


BATCHES = [
    _events(list(range(0, 40))),
    _events(list(range(30, 60)), amount=0.02),  # 10 revised (amount), 20 new
    _events(list(range(50, 70)), amount=0.03),  # 10 revised again, 10 new
    _events(list(range(0, 5))),  # repeats of stored rows: no change
]


@pytest.fixture
def stores(tmp_path: Path) -> tuple[Store, Store, list[tuple[object, object]]]:
    """(parts-only store, compacting reference store, their write results per batch)."""
    parts, reference = Store(tmp_path / "parts", auto_compact=False), Store(tmp_path / "ref")
    results = [
        (parts.write("liquidations", b), reference.write("liquidations", b)) for b in BATCHES
    ]
    return parts, reference, results


def _keys_once(store: Store) -> pd.DataFrame:
    df = store.read("liquidations")
    assert not df.duplicated(["exchange", "event_id"]).any()
    return df.sort_values(["exchange", "event_id"]).reset_index(drop=True)


def test_write_results_match_a_compacting_store(stores):
    parts, _, results = stores
    for mine, ref in results:
        assert (mine.written, mine.changed, mine.kept_missing) == (
            ref.written,
            ref.changed,
            ref.kept_missing,
        )
    assert [r[0].written for r in results] == [40, 20, 10, 0]
    assert [r[0].changed for r in results] == [0, 10, 10, 0]
    # partitions hold parts, nothing was compacted, the last write (no change) added none
    assert any(p.live_parts for p in parts.partitions("liquidations"))
    assert len(parts.files("liquidations")) == 2 * 3


def test_readers_see_each_key_once_between_write_and_compaction(stores):
    parts, reference, _ = stores
    pd.testing.assert_frame_equal(_keys_once(parts), _keys_once(reference))
    pd.testing.assert_frame_equal(
        event_queries.event_venues(parts), event_queries.event_venues(reference)
    )
    pd.testing.assert_frame_equal(
        event_queries.largest_events(parts, n=100), event_queries.largest_events(reference, n=100)
    )
    pd.testing.assert_frame_equal(
        aggregate.aggregate_store(parts, "1h"), aggregate.aggregate_store(reference, "1h")
    )
    con = parts.connect()
    n, keys = con.execute(
        "SELECT count(*), count(DISTINCT (exchange, event_id)) FROM liquidations"
    ).fetchone()
    assert n == keys == len(_keys_once(reference)) == 70


def test_dask_sees_each_key_once_between_write_and_compaction(stores):
    distributed = pytest.importorskip("helpers.distributed")
    parts, reference, _ = stores
    got = distributed.bars_with_dask(parts.root, "1h", scheduler="sync")
    pd.testing.assert_frame_equal(got, aggregate.aggregate_store(reference, "1h"))


def test_compaction_leaves_one_file_with_the_newest_rows(stores):
    parts, reference, _ = stores
    before = _keys_once(parts)
    assert before.loc[before["event_id"] == "ev-35", "amount"].item() == 0.02
    assert before.loc[before["event_id"] == "ev-55", "amount"].item() == 0.03
    done = parts.compact("liquidations")
    assert done.partitions == 2
    assert [Path(f).name for f in parts.files("liquidations")] == [PART_FILE, PART_FILE]
    pd.testing.assert_frame_equal(_keys_once(parts), before)
    pd.testing.assert_frame_equal(_keys_once(parts), _keys_once(reference))
    assert parts.compact("liquidations").partitions == 0
    # the next write's part comes after what the compacted file covers: it is counted
    more = _events([101, 102, 103])
    assert parts.write("liquidations", more).written == 3
    assert reference.write("liquidations", more).written == 3
    assert len(parts.files("liquidations")) == 4
    pd.testing.assert_frame_equal(_keys_once(parts), _keys_once(reference))
    parts.compact("liquidations")
    pd.testing.assert_frame_equal(_keys_once(parts), _keys_once(reference))


def _bars(hours: list[int], long_usd: float | None, short_usd: float | None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": [DAY + pd.Timedelta(hours=h) for h in hours],
            "interval": "1h",
            "exchange": "okx",
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "long_usd": np.nan if long_usd is None else long_usd,
            "short_usd": np.nan if short_usd is None else short_usd,
            "long_count": pd.array([3] * len(hours), dtype="Int64"),
            "short_count": pd.array([2] * len(hours), dtype="Int64"),
            "source": "coinalyze",
        }
    )


def test_a_missing_value_never_replaces_a_stored_one_in_parts_or_compaction(tmp_path):
    parts, reference = Store(tmp_path / "parts", auto_compact=False), Store(tmp_path / "ref")
    batches = [
        _bars([0, 1, 2], 100.0, 50.0),
        _bars([1, 2, 3], 200.0, None),  # short_usd missing: the stored 50 stays
        _bars([2], None, 70.0),  # long_usd missing: the 200 stays; short_usd revised
    ]
    for b in batches:
        mine, ref = parts.write("liquidation_bars", b), reference.write("liquidation_bars", b)
        assert (mine.written, mine.changed, mine.kept_missing) == (
            ref.written,
            ref.changed,
            ref.kept_missing,
        )
    assert len(parts.files("liquidation_bars")) == 3
    expected = pd.DataFrame(
        {"long_usd": [100.0, 200.0, 200.0, 200.0], "short_usd": [50.0, 50.0, 70.0, np.nan]}
    )
    for store in (parts, reference):
        got = store.read("liquidation_bars")[["long_usd", "short_usd"]]
        pd.testing.assert_frame_equal(got, expected)
    parts.compact("liquidation_bars")
    assert len(parts.files("liquidation_bars")) == 1
    got = parts.read("liquidation_bars")[["long_usd", "short_usd"]]
    pd.testing.assert_frame_equal(got, expected)


def test_doctor_notes_uncompacted_parts_without_calling_them_duplicates(stores):
    parts, _, _ = stores
    up = check_store(parts.root)
    assert not up.damaged, up.lines()
    [note] = [f for f in up.findings if f.kind == "uncompacted"]
    assert "2 partitions" in note.detail
    parts.compact("liquidations")
    assert not [f for f in check_store(parts.root).findings if f.kind == "uncompacted"]


def test_more_than_max_parts_or_a_finished_day_compacts(tmp_path):
    store = Store(tmp_path, max_parts=2)
    today = pd.Timestamp.now(tz="UTC").floor("D")
    for i in range(4):
        batch = _events([2 * i + 1]).assign(ts=today + pd.Timedelta(minutes=i))
        store.write("liquidations", batch)
        counts = [len(p.live) for p in store.partitions("liquidations")]
        assert counts == [[1, 2, 3, 1][i]]
    # an exchange's first write of the current day compacts its finished days; a first write
    # into another past day (a historical import) leaves them: it compacts only its own day
    parts = Store(tmp_path / "s2", auto_compact=False)
    parts.write("liquidations", _events([1]))
    parts.write("liquidations", _events([3]))
    assert len(parts.files("liquidations")) == 2
    Store(parts.root).write("liquidations", _events([5]).assign(ts=DAY + pd.Timedelta(days=1)))
    assert sorted(Path(f).name for f in parts.files("liquidations"))[:2] != [PART_FILE] * 2
    assert len(parts.files("liquidations")) == 3
    Store(parts.root).write("liquidations", _events([7]).assign(ts=today + pd.Timedelta(hours=1)))
    assert [Path(f).name for f in parts.files("liquidations")] == [PART_FILE] * 3
    assert len(parts.read("liquidations")) == 4


def _compact(root: Path, pause: str | None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    cmd = [sys.executable, "-m", "helpers", "compact", "--data-dir", str(root)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("step", ["temp-written", "committed", "part-deleted"])
def test_a_compaction_killed_at_each_step_leaves_each_key_once(stores, step):
    parts, reference, _ = stores
    expected = _keys_once(reference)
    proc = _compact(parts.root, step)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"compaction paused at {step}" in line, line + proc.stderr.read()
        pd.testing.assert_frame_equal(_keys_once(parts), expected)  # while it is paused
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    pd.testing.assert_frame_equal(_keys_once(parts), expected)
    up = check_store(parts.root)
    assert not [f for f in up.findings if f.damage and f.kind != "temp-file"], up.lines()
    covered = [f for f in up.findings if f.kind == "covered-part"]
    assert bool(covered) == (step != "temp-written")
    rerun = _compact(parts.root, None)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert [Path(f).name for f in parts.files("liquidations")] == [PART_FILE, PART_FILE]
    assert all(not p.parts for p in parts.partitions("liquidations"))
    pd.testing.assert_frame_equal(_keys_once(parts), expected)
    assert not check_store(parts.root).damaged
