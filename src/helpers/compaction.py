"""Compaction: a partition's write parts merged into its one sorted, deduplicated file.

A write into a partition that already holds rows adds one immutable ``part-<seq>.parquet``
(:mod:`helpers.store_layout`), costing what the batch costs. Compaction merges the
partition's live files (the compacted ``part.parquet`` and the parts it does not cover yet)
into a new ``part.parquet``: per key the newest ``seq`` wins and each cell it leaves
missing keeps the newest older value (the store's rule: a missing value never replaces a
stored one). It runs

* automatically, inside the write, when a partition would hold more than
  :data:`MAX_PARTS` write parts, or when the partition's day is over (its UTC date is before
  today), so finished days and historical imports stay one file each;
* for a finished day of an exchange when that exchange's first write of the current UTC day
  arrives (a first write into another past day leaves its siblings alone);
* on demand: ``python -m helpers compact [--data-dir D] [--table T]``.

The commit is kill-safe at every point (SIGKILL included): the new file is written to a
temporary name and renamed over ``part.parquet`` with metadata naming the highest ``seq``
it covers; only then are the covered parts deleted. Killed before the rename, readers see
the old file and the parts; after it, they see the new file and ignore the covered parts
still on disk, which the next write or compaction of the partition deletes. Compaction
holds the table's write lock, so it never races a writer.

``LIQNB_COMPACTION_PAUSE`` (a test hook): set to ``temp-written``, ``committed`` or
``part-deleted``, a compaction prints ``compaction paused at <step>`` to stderr at that
point and sleeps, so a test can kill it there.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from helpers import schema
from helpers.files import replacing
from helpers.store_keys import KeyIndex, key_columns
from helpers.store_layout import (
    COMPRESSION,
    COVERS_KEY,
    PART_FILE,
    Partition,
    local_partition,
    local_partitions,
    part_name,
    part_seq,
    series_metadata,
)
from helpers.store_merge import Merged, coalesce_newest, conform, merge_rows, sort_rows

MAX_PARTS = 16
"""A partition is compacted by the write that would leave it holding more write parts."""
PAUSE_ENV = "LIQNB_COMPACTION_PAUSE"

PartitionValues = dict[str, str | pd.Timestamp]
"""A partition's column values: ``exchange`` text and the ``date`` (a UTC day start)."""


@dataclass(frozen=True)
class Compacted:
    """What :func:`compact_table` did: partitions merged, files before and rows after."""

    table: str
    partitions: int
    files: int
    rows: int

    def __str__(self) -> str:
        if not self.partitions:
            return f"{self.table}: nothing to compact"
        return (
            f"{self.table}: {self.files} files of {self.partitions} partitions compacted "
            f"into {self.partitions} ({self.rows} rows)"
        )


def partition_values(t: schema.Table, folder: Path | str) -> PartitionValues:
    """The partition column values a folder's ``col=value`` names carry."""
    named = dict(p.split("=", 1) for p in str(folder).split("/") if "=" in p)
    return {
        c: pd.Timestamp(named[c], tz="UTC") if c == "date" else named[c] for c in t.partition_by
    }


def day_over(values: PartitionValues, now: pd.Timestamp | None = None) -> bool:
    """Whether the partition's UTC day has ended (no ``date``: never)."""
    day = values.get("date")
    today = (now or pd.Timestamp.now(tz="UTC")).floor("D")
    return isinstance(day, pd.Timestamp) and day < today


def read_file(
    t: schema.Table,
    path: str,
    values: PartitionValues,
    filters: list[tuple[str, str, object]] | None = None,
    filesystem: object = None,
) -> pd.DataFrame:
    """One stored file's rows in canonical form, partition columns filled in."""
    df = pq.read_table(path, filters=filters, filesystem=filesystem).to_pandas()
    for col, v in values.items():
        df[col] = v
    return conform(t.name, df)


def stored_rows(
    t: schema.Table, part: Partition, values: PartitionValues, filesystem: object = None
) -> pd.DataFrame:
    """Every row a reader sees in the partition, one per key (see the module docstring)."""
    frames = [read_file(t, f, values, filesystem=filesystem) for f in part.live]
    if not frames:
        return conform(t.name, pd.DataFrame())
    return coalesce_newest(t, frames)


def merge_partition(
    t: schema.Table,
    part: Partition,
    values: PartitionValues,
    new: pd.DataFrame | None = None,
    keys: KeyIndex | None = None,
) -> Merged:
    """Compact ``part`` with ``new`` rows (canonical form) merged in; the new file covers
    every part present. Counts compare ``new`` with what readers saw before. ``keys``: the
    writer's key cache, given the new file's keys (when the day is not over: a finished
    day is rarely written again)."""
    stored = stored_rows(t, part, values)
    merged = merge_rows(t, stored, new) if new is not None and len(new) else Merged(stored, 0, 0, 0)
    folder = Path(part.folder)
    write_compacted(
        folder / PART_FILE,
        merged.rows[_file_columns(t)],
        part.last_seq,
        None if keys is None or day_over(values) else (t, keys),
    )
    _pause("committed")
    for i, path in enumerate(sorted(part.parts.values())):
        Path(path).unlink(missing_ok=True)
        if i == 0:
            _pause("part-deleted")
    return merged


def write_part(
    t: schema.Table, part: Partition, values: PartitionValues, new: pd.DataFrame, keys: KeyIndex
) -> Merged:
    """Add ``new`` (canonical form) to ``part`` as one write part: the rows it adds or
    changes, merged with the stored values of their keys (found through the key cache
    ``keys``, which is given the part's keys). Nothing is written when the rows are all
    stored already. Covered parts (left by a killed compaction) are deleted."""
    wanted = keys.hashes(t, new)
    distinct = np.unique(wanted)
    stored = _stored_for(t, values, new, keys.candidates(t, part.live, distinct))
    if not len(stored) and len(distinct) == len(new):  # distinct new keys: nothing to merge
        merged = Merged(sort_rows(t, new), len(new), 0, 0)
    else:
        merged = merge_rows(t, stored, new)
    if len(stored):
        same = pd.concat([stored, merged.rows], ignore_index=True).duplicated(keep="first")
        fresh = merged.rows[~same.to_numpy()[len(stored) :]]
        fresh_keys = keys.hashes(t, fresh)
    else:  # every row is new: the part is the batch, one row per key
        fresh, fresh_keys = merged.rows, wanted
    for path in part.covered_parts:
        Path(path).unlink(missing_ok=True)
    if len(fresh):
        target = Path(part.folder) / part_name(part.last_seq + 1)
        _write(target, fresh[_file_columns(t)])
        keys.remember(target.as_posix(), fresh_keys)
    return merged


def write_compacted(
    path: Path,
    rows: pd.DataFrame,
    covers: int,
    cache: tuple[schema.Table, KeyIndex] | None = None,
) -> None:
    """Replace the compacted file ``path`` atomically by ``rows``, recording ``covers``;
    ``cache``: (the table, a key cache) to give the new file's keys."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    table = table.replace_schema_metadata(
        {
            **(table.schema.metadata or {}),
            COVERS_KEY: str(covers).encode(),
            **series_metadata(table),
        }
    )
    with replacing(path) as tmp:
        pq.write_table(table, tmp, compression=COMPRESSION)
        _pause("temp-written")
    if cache is not None:
        t, keys = cache
        keys.remember(path.as_posix(), keys.hashes(t, rows))


def compact_partition(t: schema.Table, folder: Path) -> Merged | None:
    """Compact the partition in ``folder`` when it holds write parts (caller holds the
    table's lock); None when there was nothing to do."""
    part = local_partition(folder, writing=True)
    if not part.parts:
        return None
    return merge_partition(t, part, partition_values(t, folder))


def compact_folders(t: schema.Table, folders: list[Path], finished_only: bool) -> Compacted:
    """Compact each of ``folders`` holding write parts (of days that are over, when
    ``finished_only``); the caller holds the table's lock."""
    done = files = rows = 0
    for folder in folders:
        if not local_partition(folder).parts:  # file names only: no footer read
            continue
        values = partition_values(t, folder)
        if finished_only and not day_over(values):
            continue
        part = local_partition(folder, writing=True)
        files += len(part.live) + len(part.covered_parts)
        rows += len(merge_partition(t, part, values).rows)
        done += 1
    return Compacted(t.name, done, files, rows)


def compact_table(table_dir: Path, name: str) -> Compacted:
    """Compact every partition of table ``name`` under ``table_dir`` that holds write parts;
    the caller holds the table's lock."""
    t = schema.table(name)
    folders = [Path(p.folder) for p in local_partitions(table_dir, len(t.partition_by))]
    return compact_folders(t, folders, finished_only=False)


def _file_columns(t: schema.Table) -> list[str]:
    return [c for c in t.column_names if c not in t.partition_by]


def _stored_for(
    t: schema.Table, values: PartitionValues, new: pd.DataFrame, candidates: list[str]
) -> pd.DataFrame:
    """The rows readers see for ``new``'s keys: the full rows of the ``candidates`` (the
    live files whose key hashes match one of ``new``'s, :mod:`helpers.store_keys`; only the
    row groups of ``new``'s time span when ``ts`` is in the key) joined with ``new``'s keys
    on their values, so a hash collision finds nothing."""
    if not candidates:
        return new.iloc[:0]
    cols = key_columns(t)
    span = None
    if "ts" in cols:
        ts = ds.field("ts")
        span = (ts >= pa.scalar(new["ts"].min())) & (ts <= pa.scalar(new["ts"].max()))
    files = sorted(candidates, key=_seq_of)
    full = ds.dataset(files, format="parquet").to_table(
        columns=[*_file_columns(t), "__filename"], filter=span
    )
    want = pa.Table.from_pandas(new[cols].drop_duplicates(), preserve_index=False)
    want = want.cast(pa.schema([full.schema.field(c) for c in cols]))
    rows = full.join(want, keys=cols, join_type="inner").to_pandas()
    if not len(rows):
        return new.iloc[:0]
    rows["_seq"] = rows.pop("__filename").map(_seq_of)
    rows = rows.sort_values("_seq", kind="stable")  # oldest first: the newest wins
    for col, v in values.items():
        rows[col] = v
    return coalesce_newest(t, [conform(t.name, rows)])


def _seq_of(path: str) -> int:
    return part_seq(path.rpartition("/")[2]) or 0


def _write(path: Path, df: pd.DataFrame) -> None:
    """Write a (small) write part; no dictionary pages (a part's columns are mostly
    distinct values: dictionary encoding cost a quarter of the Parquet write, 0.4 ms)."""
    with replacing(path) as tmp:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, use_dictionary=False)


def _pause(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        print(f"compaction paused at {step}", file=sys.stderr, flush=True)
        time.sleep(3600)
