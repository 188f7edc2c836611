"""Incremental bars: each (exchange, date) partition's grouped buckets kept between builds.

:func:`helpers.aggregate.aggregate_store` groups events into buckets (bar open time //
interval, exchange, symbol, base, source; USD and counts per side) before it zero-fills and
removes gaps. Grouping is the cost that grows with the store; its result for one partition
depends only on that partition's files. So the buckets of every partition a build grouped
are kept in ``<store>/_state/bars/<interval>.parquet``, one row per bucket with the
partition's ``exchange`` and ``date``, and the file's Parquet metadata
(:data:`MANIFEST_KEY`) records each cached partition's identity: the name, size, mtime (ns)
and inode of every live file (:attr:`helpers.store_layout.Partition.live`).

A build re-groups only the partitions whose identity changed (a write part added, a
compaction, a file replaced) or that are new, reuses the others, and forgets cached
partitions of its selection that the store no longer holds; partitions outside the
selection stay cached as they were. Identities are taken before the events are read, so a
file changed during a build is cached under its old identity and re-grouped next time,
never reused stale. The cache file is replaced atomically (:func:`helpers.files.replacing`);
an unreadable or foreign cache is ignored with a warning and rebuilt, and a cache that
cannot be written costs the next build its reuse, never a row. The cache never changes
stored data and is not a table: deleting ``_state/bars/`` only makes the next build cold.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.files import replacing
from helpers.store_layout import Partition

log = logging.getLogger(__name__)

CACHE_DIR = Path("_state") / "bars"
MANIFEST_KEY = b"liqnb.bars_cache"
VERSION = 1
PART_COLUMNS = ["exchange", "date"]
"""The partition of a cached bucket row (``date`` as ``YYYY-MM-DD``)."""

PartKey = tuple[str, str]
Identity = list[list[object]]


@dataclass(frozen=True)
class CacheStats:
    """What one build did with the cache: partitions ``aggregated`` from their events,
    ``reused`` from the cache, cached partitions ``dropped`` (no longer in the store)."""

    aggregated: int = 0
    reused: int = 0
    dropped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.aggregated} partitions aggregated, {self.reused} reused from the bars "
            f"cache, {self.dropped} dropped"
        )


def cache_path(root: Path, interval: str) -> Path:
    """The cache file of ``interval``'s buckets in the store at ``root``."""
    return Path(root) / CACHE_DIR / f"{interval}.parquet"


def partition_key(p: Partition) -> PartKey | None:
    """(exchange, date) from ``p``'s folder ``.../exchange=<id>/date=<YYYY-MM-DD>``; None
    for a folder not named so."""
    *_, ex, day = Path(p.folder).parts
    if not (ex.startswith("exchange=") and day.startswith("date=")):
        return None
    return ex.removeprefix("exchange="), day.removeprefix("date=")


def identity(p: Partition) -> Identity:
    """Name, size, mtime (ns) and inode of each of ``p``'s live files, in reading order."""
    out: Identity = []
    for f in p.live:
        st = os.stat(f)
        out.append([Path(f).name, st.st_size, st.st_mtime_ns, st.st_ino])
    return out


def _strings(t: object) -> pd.StringDtype | None:
    return pd.StringDtype() if t in (pa.string(), pa.large_string(), pa.string_view()) else None


def load(path: Path) -> tuple[pd.DataFrame | None, dict[str, Identity]]:
    """The cached bucket rows and the manifest (``"exchange/date"`` -> identity); (None, {})
    when there is no cache or it cannot be used (a warning says why)."""
    if not path.exists():
        return None, {}
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[MANIFEST_KEY])
        if meta.get("version") != VERSION:
            raise ValueError(f"version {meta.get('version')!r}, expected {VERSION}")
        manifest = {str(k): v for k, v in meta["partitions"].items()}
        frame = table.replace_schema_metadata(None).to_pandas(types_mapper=_strings)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        log.warning("bars cache %s not used (%s): every partition is aggregated again", path, exc)
        return None, {}
    return frame, manifest


def save(path: Path, frame: pd.DataFrame, manifest: Mapping[str, Identity]) -> None:
    """Replace the cache at ``path`` with ``frame`` and ``manifest``, atomically; a failure
    is a warning (the next build aggregates those partitions again)."""
    meta = json.dumps({"version": VERSION, "partitions": dict(manifest)})
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({MANIFEST_KEY: meta.encode()})
        with replacing(path) as tmp:
            pq.write_table(table, tmp)
    except (OSError, pa.ArrowException) as exc:
        log.warning("bars cache %s not written (%s)", path, exc)


def _key_of(frame: pd.DataFrame) -> pd.Series:
    return frame["exchange"].astype("string") + "/" + frame["date"].astype("string")


def _key_parts(name: str) -> PartKey:
    ex, _, day = name.partition("/")
    return ex, day


def _concat(*frames: pd.DataFrame | None) -> pd.DataFrame | None:
    present = [f for f in frames if f is not None]
    return pd.concat(present, ignore_index=True) if present else None


def cached_buckets(
    root: Path,
    interval: str,
    partitions: Sequence[Partition],
    in_selection: Callable[[PartKey], bool],
    aggregate: Callable[[Sequence[Partition]], pd.DataFrame],
) -> tuple[pd.DataFrame | None, CacheStats]:
    """The bucket rows of ``partitions`` (with their ``exchange`` and ``date``; None when
    there are none), reusing the cache where a partition's identity is unchanged and
    calling ``aggregate`` (grouped buckets with ``exchange`` and ``date`` columns) once for
    the others; the cache is replaced when anything changed. Every partition must have a
    :func:`partition_key`. ``in_selection`` says which cached partitions this build covers:
    those it does not find in ``partitions`` are dropped from the cache."""
    path = cache_path(root, interval)
    cached, manifest = load(path)
    selected = {"/".join(_checked_key(p)): p for p in partitions}
    ids = {name: identity(p) for name, p in selected.items()}
    stale = [name for name, found in ids.items() if manifest.get(name) != found]
    dropped = [n for n in manifest if n not in ids and in_selection(_key_parts(n))]
    fresh = aggregate([selected[n] for n in stale]) if stale else None
    kept = None
    if cached is not None:
        kept = cached[~_key_of(cached).isin([*stale, *dropped]).to_numpy()]
    if stale or dropped:
        manifest = {n: v for n, v in manifest.items() if n not in dropped}
        manifest |= {n: ids[n] for n in stale}
        everything = _concat(kept, fresh)
        if everything is not None:
            save(path, everything, manifest)
    wanted = None if kept is None else kept[_key_of(kept).isin(list(ids)).to_numpy()]
    return _concat(wanted, fresh), CacheStats(len(stale), len(ids) - len(stale), len(dropped))


def _checked_key(p: Partition) -> PartKey:
    key = partition_key(p)
    if key is None:
        raise ValueError(f"not an exchange=/date= partition folder: {p.folder}")
    return key
