"""A partition write that fails or is killed part-way leaves the previous file whole.

The store writes each partition to a temporary file beside it and renames it over the old
one (:func:`helpers.files.replacing`). These tests make the writer put PARTIAL bytes on disk
before it fails: in-process, a ``pyarrow.parquet.write_table`` that writes half a Parquet
file to whatever path it is given and then raises ``OSError`` (a full disk); in a real
subprocess, a large partition written through a slow disk and SIGKILLed while the file
grows. A writer that wrote the partition in place would leave a torn ``part.parquet``;
these tests then fail. They also check that a temporary file left by a killed writer is
never read: not by :meth:`Store.read`, not by the DuckDB glob of :meth:`Store.scan`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import helpers
from helpers import files
from helpers.store import PART_FILE, Store

SRC = Path(helpers.__file__).resolve().parents[1]
"""The folder holding the ``helpers`` package this test imported: the writer imports it too."""
DAY = pd.Timestamp("2025-01-01", tz="UTC")


def events(n: int, exchange: str = "okx", prefix: str = "old", t0: pd.Timestamp = DAY):
    """``n`` liquidations on ``exchange`` one second apart from ``t0`` (one day's partition
    when ``n`` < 86,400), ids ``<prefix>-<i>``."""
    return pd.DataFrame(
        {
            "ts": t0 + pd.to_timedelta(range(n), unit="s"),
            "exchange": exchange,
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "side": ["long" if i % 2 == 0 else "short" for i in range(n)],
            "price": 90_000.0,
            "amount": 0.01,
            "notional_usd": 900.0,
            "source": "test",
            "event_id": [f"{prefix}-{i}" for i in range(n)],
        }
    )


def old_store(root: Path) -> tuple[Store, Path, bytes]:
    """A store holding 5 okx events of 2025-01-01: (store, their partition file, its bytes)."""
    store = Store(root)
    store.write("liquidations", events(5))
    (path,) = store.files("liquidations")
    return store, path, path.read_bytes()


def duckdb_count(store: Store) -> int:
    con = duckdb.connect()
    try:
        return int(con.execute(f"SELECT count(*) FROM {store.scan('liquidations')}").fetchone()[0])
    finally:
        con.close()


def assert_only_the_old_rows(store: Store, path: Path, before: bytes) -> None:
    """The old partition is byte for byte what it was, readable, and every reader sees
    exactly its five rows."""
    assert path.read_bytes() == before
    assert pq.read_table(path).num_rows == 5
    out = store.read("liquidations")
    assert out["event_id"].tolist() == [f"old-{i}" for i in range(5)]
    assert duckdb_count(store) == 5
    assert store.files("liquidations") == [path]
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM liquidations").fetchone() == (5,)


def half_file_then(error: OSError) -> Callable[..., None]:
    """A ``write_table`` that writes the first half of the real Parquet bytes to the path
    it was given (so a torn file is on disk), then raises ``error``."""
    real = pq.write_table

    def write_table(table: pa.Table, where: Any, **kwargs: Any) -> None:
        sink = pa.BufferOutputStream()
        real(table, sink, **kwargs)
        data = sink.getvalue().to_pybytes()
        with open(where, "wb") as fh:
            fh.write(data[: len(data) // 2])
        raise error

    return write_table


# ---- in-process: half a file on disk, then OSError ------------------------------------------


def test_a_write_that_dies_half_way_leaves_the_old_partition(tmp_path, monkeypatch):
    store, path, before = old_store(tmp_path)
    monkeypatch.setattr(pq, "write_table", half_file_then(OSError(28, "No space left on device")))
    with pytest.raises(OSError, match="No space left"):
        store.write("liquidations", events(50, prefix="new"))
    assert_only_the_old_rows(store, path, before)
    assert sorted(p.name for p in path.parent.iterdir()) == [PART_FILE]  # the torn temp is gone

    monkeypatch.undo()  # the disk has room again: the next write merges as usual
    assert store.write("liquidations", events(50, prefix="new")).written == 50
    assert len(store.read("liquidations")) == 55


def test_a_first_write_that_dies_half_way_leaves_no_partition(tmp_path, monkeypatch):
    store, path, before = old_store(tmp_path)
    monkeypatch.setattr(pq, "write_table", half_file_then(OSError(5, "Input/output error")))
    with pytest.raises(OSError, match="Input/output"):
        store.write("liquidations", events(3, exchange="gate", prefix="new"))
    assert_only_the_old_rows(store, path, before)
    assert store.exchanges() == ["okx"]


def test_a_rename_that_fails_leaves_the_old_partition_and_no_temp(tmp_path, monkeypatch):
    store, path, before = old_store(tmp_path)

    def refuse(src: Any, dst: Any) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError, match="Read-only"):
        store.write("liquidations", events(50, prefix="new"))
    assert_only_the_old_rows(store, path, before)
    assert sorted(p.name for p in path.parent.iterdir()) == [PART_FILE]


def test_a_leftover_temp_file_is_never_read(tmp_path):
    """What a killed writer leaves (a whole or a torn temp file beside the partition, or in
    a new partition's folder) is invisible to every reader and to the next write."""
    store, path, before = old_store(tmp_path)
    whole = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(events(7, prefix="tmp"), preserve_index=False), whole)
    data = whole.getvalue().to_pybytes()
    (path.parent / f".{PART_FILE}.0123abcd.tmp").write_bytes(data)
    fresh = tmp_path / "liquidations" / "exchange=gate" / "date=2025-01-01"
    fresh.mkdir(parents=True)
    (fresh / f".{PART_FILE}.4567ef01.tmp").write_bytes(data[: len(data) // 3])

    assert_only_the_old_rows(store, path, before)
    assert store.exchanges() == ["okx"]
    assert store.write("liquidations", events(2, prefix="next", t0=DAY + pd.Timedelta(hours=1)))
    assert len(store.read("liquidations")) == 7


# ---- a real process killed mid-write --------------------------------------------------------

WRITER = """
import sys, time
import pandas as pd
import pyarrow.parquet as pq
from helpers.store import Store

real = pq.write_table


class SlowDisk:
    '''A file that takes its time over every write, so the kill lands mid-file.'''

    def __init__(self, fh):
        self.fh = fh
        self.closed = False

    def writable(self):
        return True

    def write(self, data):
        time.sleep(0.004)
        n = self.fh.write(data)
        self.fh.flush()
        return n

    def flush(self):
        self.fh.flush()

    def close(self):
        self.closed = True


def slow_write_table(table, where, **kwargs):
    with open(where, "wb") as fh:
        real(table, SlowDisk(fh), row_group_size=2_000, **kwargs)


pq.write_table = slow_write_table
root, exchange, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = pd.Timestamp("2025-01-01", tz="UTC")
rows = pd.DataFrame({
    "ts": t0 + pd.to_timedelta(range(n), unit="s"), "exchange": exchange,
    "symbol": "BTC/USDT:USDT", "base": "BTC", "side": "long", "price": 90_000.0,
    "amount": 0.01, "notional_usd": 900.0, "source": "test",
    "event_id": [f"big-{i}" for i in range(n)],
})
print("writing", flush=True)
Store(root).write("liquidations", rows)
print("done", flush=True)
"""

GROWN = 256 * 1024
"""Bytes the file being written must reach before the kill (many row groups in)."""


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _growing(partition: Path, before: tuple[int, int, int] | None) -> bool:
    """A new file in ``partition`` past :data:`GROWN` bytes, or its partition file touched
    (``before``: the partition file's stat before the write) and not empty."""
    others = [p for p in partition.glob("*") if p.name != PART_FILE] if partition.exists() else []
    if any((st := _stat(p)) is not None and st[1] >= GROWN for p in others):
        return True
    now = _stat(partition / PART_FILE)
    return now is not None and now != before and now[1] > 0


def kill_mid_write(root: Path, partition: Path, exchange: str, rows: int = 60_000) -> None:
    """Run a writer of ``rows`` events on ``exchange`` in a subprocess and SIGKILL it once
    a file in ``partition`` is growing: a new file past :data:`GROWN` bytes, or the
    partition file itself touched."""
    before = _stat(partition / PART_FILE)
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), exchange, str(rows)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the writer finished before it could be killed"
            if _growing(partition, before):
                break
            time.sleep(0.002)
        else:
            pytest.fail("no file grew in the partition within 120 s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert b"done" not in proc.stdout.read()  # type: ignore[union-attr]


def test_a_writer_killed_mid_write_leaves_the_old_partition(tmp_path):
    store, path, before = old_store(tmp_path)
    kill_mid_write(tmp_path, path.parent, "okx")
    assert_only_the_old_rows(store, path, before)
    left = [p for p in path.parent.iterdir() if p.name != PART_FILE]
    assert left and all(p.name.endswith(".tmp") for p in left)  # the kill left its temp file
    assert store.write("liquidations", events(5, prefix="after")).written == 5
    assert len(store.read("liquidations")) == 10


def test_a_first_write_killed_mid_write_adds_no_partition(tmp_path):
    store, path, before = old_store(tmp_path)
    fresh = tmp_path / "liquidations" / "exchange=gate" / "date=2025-01-01"
    kill_mid_write(tmp_path, fresh, "gate")
    assert fresh.is_dir() and not (fresh / PART_FILE).exists()
    assert_only_the_old_rows(store, path, before)
    assert store.exchanges() == ["okx"]
    assert store.read("liquidations", exchanges=["gate"]).empty
