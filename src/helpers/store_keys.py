"""Which of a partition's files may hold a batch's keys, without reading their key columns
on every write: a cache of each file's key hashes.

A write into a partition must find the stored rows of its keys (:mod:`helpers.compaction`).
Reading the key columns of a 450k-row compacted file costs tens of milliseconds per write
(the ``liquidations`` key has no ``ts``, so no row group can be skipped), far more than a
500-row batch. A :class:`KeyIndex` (one per :class:`helpers.store.Store`) keeps, per file,
the sorted 64-bit hashes of its keys (the table's key columns outside the partition
columns, hashed by DuckDB's ``hash()`` after a cast to one type per column, so a value hashes
alike from a Parquet file and from a batch in memory):

* **Filled** from the rows the store itself writes (a write part, a compacted file of a day
  that is not over) and, on a miss, from the file (its key columns only).
* **Keyed by the file's identity** (path, inode, modification time in ns, size, change time
  in ns): every lookup stats each live file, so a file another process (or another
  ``Store``) wrote, replaced or compacted is read again, never taken from a stale entry.
* **A hash hit is only a candidate**: the caller reads the full rows of the files with a hit
  and joins them with the batch on the real key values, so a collision costs a read, never
  a wrong row or count. A miss is exact: equal key values hash alike.
* **Bounded**: least recently used files are dropped past :data:`CACHE_BYTES` of hashes
  (8 bytes per stored key: 64 MiB is 8.4M keys, some 18 day partitions of 450k events).

:attr:`KeyIndex.key_reads` counts the files whose key columns were read (tests use it).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers import schema

CACHE_BYTES = 64 * 2**20
"""The most memory (bytes of hashes) one :class:`KeyIndex` keeps."""
HASH_MASK = np.uint64(2**64 - 1)
"""Bits of the hash kept (all). A test narrows it to force collisions."""

Identity = tuple[int, int, int, int]
_SQL_TYPES = {"string": "VARCHAR", "float64": "DOUBLE", "Int64": "BIGINT"}


def key_columns(t: schema.Table) -> list[str]:
    """The key columns a partition's files hold (the key less the partition columns)."""
    return [k for k in t.key if k not in t.partition_by]


def identity(path: str) -> Identity:
    """What changes when ``path`` is replaced or rewritten (raises when it is gone)."""
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def _hash_sql(t: schema.Table, source: str) -> str:
    cast = []
    for c in key_columns(t):
        dtype = t.columns[c]
        sql_type = "TIMESTAMPTZ" if dtype.startswith("datetime64") else _SQL_TYPES[dtype]
        cast.append(f'CAST("{c}" AS {sql_type})')
    return f"SELECT hash({', '.join(cast)}) AS h FROM {source}"


class KeyIndex:
    """Sorted key hashes per stored file (see the module docstring); safe across threads."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.key_reads = 0
        self._files: OrderedDict[str, tuple[Identity, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pid = 0

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None or self._pid != os.getpid():  # a forked child opens its own
            self._con = duckdb.connect(config={"threads": 1})
            self._con.execute("SET TimeZone = 'UTC'")
            self._pid = os.getpid()
        return self._con

    def hashes(self, t: schema.Table, rows: pd.DataFrame) -> np.ndarray:
        """The key hash of each row of ``rows`` (canonical form), in row order."""
        if not len(rows):
            return np.empty(0, dtype=np.uint64)
        arrow = pa.Table.from_pandas(rows[key_columns(t)], preserve_index=False)
        with self._lock:
            con = self._connection()
            con.register("_liqnb_rows", arrow)
            try:
                out = con.execute(_hash_sql(t, "_liqnb_rows")).fetchnumpy()["h"]
            finally:
                con.unregister("_liqnb_rows")
        return np.asarray(out, dtype=np.uint64) & HASH_MASK

    def _read(self, t: schema.Table, path: str) -> np.ndarray:
        source = "read_parquet('" + path.replace("'", "''") + "', hive_partitioning = false)"
        with self._lock:
            out = self._connection().execute(_hash_sql(t, source)).fetchnumpy()["h"]
            self.key_reads += 1
        return np.asarray(out, dtype=np.uint64) & HASH_MASK

    def remember(self, path: str, hashes: np.ndarray) -> None:
        """Record ``hashes`` (of every key in the file just written at ``path``)."""
        self._put(path, identity(path), np.unique(hashes))

    def _put(self, path: str, ident: Identity, sorted_hashes: np.ndarray) -> None:
        with self._lock:
            self._drop(path)
            if sorted_hashes.nbytes > self.max_bytes:
                return
            self._files[path] = (ident, sorted_hashes)
            self._bytes += sorted_hashes.nbytes
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._files)))

    def _drop(self, path: str) -> None:
        old = self._files.pop(path, None)
        if old is not None:
            self._bytes -= old[1].nbytes

    def file_hashes(self, t: schema.Table, path: str) -> np.ndarray:
        """The sorted key hashes of the file ``path``: cached while its identity holds,
        else read from its key columns."""
        ident = identity(path)
        with self._lock:
            entry = self._files.get(path)
            if entry is not None and entry[0] == ident:
                self._files.move_to_end(path)
                return entry[1]
        found = np.unique(self._read(t, path))
        if identity(path) == ident:  # unchanged while read
            self._put(path, ident, found)
        return found

    def candidates(self, t: schema.Table, files: Sequence[str], wanted: np.ndarray) -> list[str]:
        """The files of ``files`` whose key hashes include one of ``wanted`` (they may hold
        one of the keys; any other file holds none of them)."""
        out = []
        for path in files:
            have = self.file_hashes(t, path)
            if not len(have) or not len(wanted):
                continue
            i = np.minimum(np.searchsorted(have, wanted), len(have) - 1)
            if (have[i] == wanted).any():
                out.append(path)
        return out
