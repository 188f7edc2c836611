"""The key-hash cache behind a write (:mod:`helpers.store_keys`): a write into a partition
the store already knows reads no stored key column; a partition another ``Store`` or
another process changed is read again and deduplicated right; hash collisions (forced by
narrowing the hash) only cost reads, never a wrong row or count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from helpers import schema, store_keys
from helpers.store import Store, WriteResult

TODAY = pd.Timestamp.now(tz="UTC").floor("D")
"""Today's partitions take write parts (a day that is over is compacted at once)."""
ROOT = Path(__file__).resolve().parents[1]


def events(ids: range | list[int], *, price: float = 100.0, minute: int = 0) -> pd.DataFrame:
    """REAL-looking (``source`` not ``demo``) okx liquidations with ids ``e<i>``, today."""
    ids = list(ids)
    return pd.DataFrame(
        {
            "ts": [TODAY + pd.Timedelta(minutes=minute, seconds=i % 3600) for i in ids],
            "exchange": "okx",
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "side": ["long" if i % 2 else "short" for i in ids],
            "price": price,
            "amount": 2.0,
            "notional_usd": 2 * price,
            "source": "ccxt:okx",
            "event_id": [f"e{i}" for i in ids],
        }
    )


def counts(r: WriteResult) -> tuple[int, int, int]:
    return r.written, r.changed, r.kept_missing


def each_key_once(store: Store, n: int) -> pd.DataFrame:
    rows = store.read("liquidations")
    assert len(rows) == n
    assert not rows.duplicated(["exchange", "event_id"]).any()
    return rows


def test_a_write_into_a_partition_the_store_wrote_reads_no_key_column(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("liquidations", events(range(1000)))
    assert counts(store.write("liquidations", events(range(1000, 1100)))) == (100, 0, 0)
    assert counts(store.write("liquidations", events(range(1100, 1200)))) == (100, 0, 0)
    assert store.keys.key_reads == 0  # the compacted file and both parts: from the cache
    # a stored key re-offered is still found (the cache only narrows where to look)
    assert counts(store.write("liquidations", events([5, 1150], price=101.0))) == (0, 2, 0)
    assert store.keys.key_reads == 0
    rows = each_key_once(store, 1200)
    assert rows.set_index("event_id").loc[["e5", "e1150"], "price"].tolist() == [101.0, 101.0]


def test_a_new_store_reads_each_file_once_then_keeps_it(tmp_path: Path) -> None:
    Store(tmp_path).write("liquidations", events(range(500)))
    Store(tmp_path).write("liquidations", events(range(500, 600)))
    store = Store(tmp_path)  # knows neither file
    store.write("liquidations", events(range(600, 700)))
    assert store.keys.key_reads == 2
    store.write("liquidations", events(range(700, 800)))
    assert store.keys.key_reads == 2
    each_key_once(store, 800)


def test_another_store_changing_the_partition_is_seen(tmp_path: Path) -> None:
    a, b = Store(tmp_path), Store(tmp_path)
    a.write("liquidations", events(range(300)))
    a.write("liquidations", events(range(300, 400)))
    # b adds a part and revises a key held in a's compacted file ...
    assert counts(b.write("liquidations", events([*range(400, 450), 10], price=120.0))) == (
        50,
        1,
        0,
    )
    # ... then compacts: the file a cached is replaced under the same path
    b.compact("liquidations")
    reads = a.keys.key_reads
    result = a.write("liquidations", events([10, 420, 460], price=130.0))
    assert counts(result) == (1, 2, 0)  # e460 new, e10 and e420 (b's) changed
    assert a.keys.key_reads == reads + 1  # the new compacted file, read once
    rows = each_key_once(a, 451).set_index("event_id")
    assert rows.loc[["e10", "e420", "e460"], "price"].tolist() == [130.0] * 3


def test_another_process_writing_the_partition_is_seen(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("liquidations", events(range(200)))
    store.write("liquidations", events(range(200, 250)))
    code = (
        "import sys; from test_write_cache import events; "
        "from helpers.store import Store; "
        "r = Store(sys.argv[1]).write('liquidations', events([*range(250, 300), 7], price=99.0)); "
        "print(r.written, r.changed)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    assert out == ["50", "1"]
    # the other process's part holds e260 and e7: both are stored keys to this store now
    assert counts(store.write("liquidations", events([7, 260, 300], price=98.0))) == (1, 2, 0)
    rows = each_key_once(store, 301).set_index("event_id")
    assert rows.loc[["e7", "e260", "e300"], "price"].tolist() == [98.0] * 3


def _writes(store: Store) -> list[tuple[int, int, int]]:
    """The same sequence of writes (new keys, revised ones, repeats)."""
    batches = [
        events(range(400)),
        events(range(400, 500)),
        events([*range(450, 520), 3], price=150.0),
        events([3, 3, 600, 601], price=160.0),  # a key twice in one batch: the last wins
        events(range(400, 500)),  # the first part's rows again: half unchanged, half revised
        events([601, 602], price=170.0),
    ]
    return [counts(store.write("liquidations", b)) for b in batches]


@pytest.mark.parametrize("mask", [0, 1, 3])
def test_colliding_hashes_give_the_same_rows_and_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mask: int
) -> None:
    exact = Store(tmp_path / "exact")
    expected = _writes(exact)
    monkeypatch.setattr(store_keys, "HASH_MASK", np.uint64(mask))  # 0: every key collides
    colliding = Store(tmp_path / "colliding")
    assert _writes(colliding) == expected
    assert expected[2] == (20, 51, 0) and expected[4] == (0, 50, 0)  # the cases did happen
    hashes = colliding.keys.hashes(schema.table("liquidations"), events(range(50)))
    assert len(np.unique(hashes)) <= mask + 1  # the narrowed hash is in use
    assert_frame_equal(colliding.read("liquidations"), exact.read("liquidations"))
    each_key_once(colliding, 523)


def test_the_cache_keeps_to_its_memory_bound(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.keys.max_bytes = 8 * 150  # room for 150 hashes
    store.write("liquidations", events(range(1000)))  # too big to keep
    store.write("liquidations", events(range(1000, 1100)))
    store.write("liquidations", events(range(1100, 1200)))  # evicts the older part
    assert store.keys.cached_bytes <= store.keys.max_bytes
    reads = store.keys.key_reads
    assert counts(store.write("liquidations", events([1, 1050, 1150], price=5.0))) == (0, 3, 0)
    assert store.keys.key_reads > reads
    each_key_once(store, 1200)
