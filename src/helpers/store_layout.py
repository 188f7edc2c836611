"""Where a partition's rows live: one compacted file and the immutable files of the writes
since, and which of them a reader counts.

A partition folder (``<table>/exchange=<id>/date=YYYY-MM-DD/``) holds

* ``part.parquet``: the compacted file, sorted by ``ts`` and key, one row per key. Its
  Parquet metadata key :data:`COVERS_KEY` names the highest write sequence number it
  includes (absent: 0, a file written before sequence numbers). A file of a table with
  ``symbol``, ``base`` and ``source`` columns also records, under :data:`SERIES_KEY`, the
  distinct (symbol, base, source) triples it holds (:func:`series_metadata`), so a reader
  that groups by symbol can name each group's base and source without reading them.
* ``part-<seq>.parquet`` (:data:`SEQ_DIGITS` digits): the rows one write added or changed,
  already merged with the stored values of their keys (so a missing cell already carries
  the stored value). ``seq`` grows by one per write into the partition.

A reader counts the compacted file and every ``part-<seq>`` with ``seq`` above what the
compacted file covers ("live" files); a part at or below it is covered (a compaction that
was killed after committing and before deleting it) and ignored. Across live files the
row of the highest ``seq`` wins per key (the compacted file counts as ``seq`` 0), so every
key is seen once, between a write and its compaction and while a compaction is killed.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pyarrow as pa
import pyarrow.parquet as pq

from helpers import schema

PART_FILE = "part.parquet"
COVERS_KEY = b"liqnb.covers"
SERIES_KEY = b"liqnb.series"
COMPRESSION = "lz4"
"""The codec of compacted files (Parquet LZ4_RAW, which DuckDB, Polars, Arrow and Spark
read): at about Snappy's size on the store's columns it decodes faster, and the random
``ts`` column of a day file took 7.3 ms to read with Snappy against 3.4 ms with LZ4 (471k
rows, pyarrow). Files written before keep their codec; readers take either."""
SERIES_COLUMNS = ("symbol", "base", "source")
SEQ_DIGITS = 12
_PART_NAME = re.compile(r"^part-(\d+)\.parquet$")


def part_name(seq: int) -> str:
    """The file name of write number ``seq`` of a partition."""
    return f"part-{seq:0{SEQ_DIGITS}d}.parquet"


def part_seq(name: str) -> int | None:
    """The sequence number in a write part's file name; None for any other name."""
    m = _PART_NAME.match(name)
    return int(m[1]) if m else None


def read_covers(path: str | os.PathLike[str], filesystem: object = None) -> int:
    """The highest write sequence number the compacted file ``path`` includes (0: none)."""
    meta = pq.read_metadata(path, filesystem=filesystem).metadata or {}
    return int(meta.get(COVERS_KEY, b"0"))


def series_metadata(table: pa.Table) -> dict[bytes, bytes]:
    """The :data:`SERIES_KEY` entry for a compacted file holding ``table``: its distinct
    (symbol, base, source) triples as JSON; nothing for a table without those columns or
    with a missing value in one of them."""
    if any(c not in table.column_names for c in SERIES_COLUMNS):
        return {}
    if any(table.column(c).null_count for c in SERIES_COLUMNS):
        return {}
    triples = table.select(list(SERIES_COLUMNS)).group_by(list(SERIES_COLUMNS)).aggregate([])
    rows = sorted(zip(*(triples.column(c).to_pylist() for c in SERIES_COLUMNS), strict=True))
    return {SERIES_KEY: json.dumps(rows).encode()}


def read_series(metadata: Mapping[bytes, bytes] | None) -> Mapping[str, tuple[str, str]] | None:
    """symbol -> (base, source) from a compacted file's :data:`SERIES_KEY` metadata; None
    when it is absent, unreadable, or a symbol has more than one (base, source)."""
    raw = (metadata or {}).get(SERIES_KEY)
    return None if raw is None else _parsed_series(raw)


@functools.lru_cache(maxsize=64)
def _parsed_series(raw: bytes) -> Mapping[str, tuple[str, str]] | None:
    """:func:`read_series` of one footer value (files of a venue's days mostly share
    theirs, so it is parsed once), read-only since callers share it."""
    try:
        rows = json.loads(raw)
        if not isinstance(rows, list):
            return None
        out: dict[str, tuple[str, str]] = {}
        for symbol, base, source in rows:
            if not all(isinstance(v, str) for v in (symbol, base, source)):
                return None
            if out.setdefault(symbol, (base, source)) != (base, source):
                return None
    except (ValueError, TypeError):
        return None
    return MappingProxyType(out)


@dataclass
class Partition:
    """The files of one partition folder ``folder`` (a path or an fsspec path): the
    compacted file (or None), what it covers, and the write parts by sequence number."""

    folder: str
    base: str | None = None
    covers: int = 0
    parts: dict[int, str] = field(default_factory=dict)

    @property
    def live_parts(self) -> list[tuple[int, str]]:
        """Write parts a reader counts, oldest first."""
        return sorted((s, p) for s, p in self.parts.items() if s > self.covers)

    @property
    def covered_parts(self) -> list[str]:
        """Write parts already inside the compacted file (left by a killed compaction)."""
        return [p for s, p in sorted(self.parts.items()) if s <= self.covers]

    @property
    def live(self) -> list[str]:
        """Every file a reader counts: the compacted file first, then the live parts."""
        return ([self.base] if self.base else []) + [p for _, p in self.live_parts]

    @property
    def last_seq(self) -> int:
        return max([self.covers, *self.parts])

    @property
    def clean(self) -> bool:
        """Whether one file holds the partition (no write parts to deduplicate)."""
        return len(self.live) == 1


def partition_of(
    folder: str,
    names: Iterable[str],
    covers: Callable[[str], int] = read_covers,
    writing: bool = False,
) -> Partition:
    """The :class:`Partition` of ``folder`` from the file names in it; ``covers`` reads a
    compacted file's coverage: when write parts are present (a reader needs it only then),
    or always when ``writing`` (the next ``seq`` must exceed it)."""
    p = Partition(folder)
    for name in names:
        if name == PART_FILE:
            p.base = f"{folder}/{name}"
        elif (seq := part_seq(name)) is not None:
            p.parts[seq] = f"{folder}/{name}"
    if p.base and (p.parts or writing):
        p.covers = covers(p.base)
    return p


def local_partition(folder: Path, writing: bool = False) -> Partition:
    """The :class:`Partition` of the local folder ``folder`` (empty when it is missing);
    ``writing``: see :func:`partition_of`."""
    try:
        names = [e.name for e in os.scandir(folder) if e.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        names = []
    return partition_of(folder.as_posix(), names, writing=writing)


def local_partitions(table_dir: Path, depth: int) -> list[Partition]:
    """Every partition folder ``depth`` levels under ``table_dir`` that holds a file."""
    if not table_dir.is_dir():
        return []
    folders = sorted(table_dir.glob("/".join(["*=*"] * depth)))
    found = [local_partition(f) for f in folders if f.is_dir()]
    return [p for p in found if p.base or p.parts]


def hive_types(t: schema.Table) -> str:
    types = ", ".join(f"'{c}': '{'DATE' if c == 'date' else 'VARCHAR'}'" for c in t.partition_by)
    return f"{{{types}}}"


def _paths(files: Sequence[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def scan_sql(t: schema.Table, partitions: Sequence[Partition]) -> str:
    """A DuckDB table expression over ``partitions``' live files with one row per key: the
    clean partitions read as they are, the others deduplicated by the newest ``seq``."""
    opts = f"hive_partitioning = true, hive_types = {hive_types(t)}"
    clean = [f for p in partitions if p.clean for f in p.live]
    dirty = [f for p in partitions if not p.clean for f in p.live]
    selects = [f"SELECT * FROM read_parquet({_paths(clean)}, {opts})"] if clean else []
    if dirty:
        by = ", ".join(dict.fromkeys([*t.partition_by, *t.key]))
        digits = "regexp_extract(filename, 'part-([0-9]+)[.]parquet$', 1)"
        seq = f"coalesce(TRY_CAST({digits} AS BIGINT), 0)"
        selects.append(
            f"SELECT * EXCLUDE (filename) FROM read_parquet({_paths(dirty)}, {opts}, "
            f"filename = true) QUALIFY row_number() OVER (PARTITION BY {by} "
            f"ORDER BY {seq} DESC) = 1"
        )
    if not selects:
        raise FileNotFoundError(f"no files hold table {t.name}")
    return "(" + " UNION ALL BY NAME ".join(selects) + ")"
