"""Which of a partition's files may hold a batch's keys, without reading their key columns
on every write: a cache of each file's key hashes.

A write into a partition must find the stored rows of its keys (:mod:`helpers.compaction`).
Reading the key columns of a 450k-row compacted file costs tens of milliseconds per write
(the ``liquidations`` key has no ``ts``, so no row group can be skipped), far more than a
500-row batch. A :class:`KeyIndex` (one per :class:`helpers.store.Store`) keeps, per file,
the sorted 64-bit hashes of its keys (the table's key columns outside the partition
columns, each hashed by ``pandas.util.hash_array`` from one representation per column type,
so a value hashes alike from a Parquet file and from a batch in memory):

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

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from helpers import schema

CACHE_BYTES = 64 * 2**20
"""The most memory (bytes of hashes) one :class:`KeyIndex` keeps."""
HASH_MASK = np.uint64(2**64 - 1)
"""Bits of the hash kept (all). A test narrows it to force collisions."""
_MIX = np.uint64(0x9E3779B97F4A7C15)

Identity = tuple[int, int, int, int]


def key_columns(t: schema.Table) -> list[str]:
    """The key columns a partition's files hold (the key less the partition columns)."""
    return [k for k in t.key if k not in t.partition_by]


def identity(path: str) -> Identity:
    """What changes when ``path`` is replaced or rewritten (raises when it is gone)."""
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def _hash_column(values: pd.Series, dtype: str) -> np.ndarray:
    """64-bit hashes of one key column (canonical ``dtype``): times as UTC microseconds,
    text as Python strings, so a value hashes alike read from a file or held in a batch."""
    if dtype.startswith("datetime64"):
        raw = values.to_numpy(dtype="datetime64[us]").view(np.int64)
    elif dtype == "string":
        raw = values.astype("string").to_numpy(dtype=object, na_value="")  # NA: a collision
    else:
        raw = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(pd.util.hash_array(raw, categorize=False), dtype=np.uint64)


def row_hashes(t: schema.Table, rows: pd.DataFrame) -> np.ndarray:
    """The key hash of each row of ``rows`` (its key columns combined), in row order."""
    out = np.zeros(len(rows), dtype=np.uint64)
    for c in key_columns(t):
        out = (out * _MIX) ^ _hash_column(rows[c], t.columns[c])
    return out & HASH_MASK


class KeyIndex:
    """Sorted key hashes per stored file (see the module docstring); safe across threads."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.key_reads = 0
        self._files: OrderedDict[str, tuple[Identity, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.RLock()

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def hashes(self, t: schema.Table, rows: pd.DataFrame) -> np.ndarray:
        """The key hash of each row of ``rows`` (canonical form), in row order."""
        return row_hashes(t, rows)

    def _read(self, t: schema.Table, path: str) -> np.ndarray:
        keys = pq.read_table(path, columns=key_columns(t)).to_pandas()
        with self._lock:
            self.key_reads += 1
        return row_hashes(t, keys)

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
