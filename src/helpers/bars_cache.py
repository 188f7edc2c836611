"""Incremental bars: each (exchange, date) partition's grouped buckets kept between builds.

:func:`helpers.aggregate.aggregate_store` groups events into buckets (bar open time //
interval, exchange, symbol, base, source; USD and counts per side) before it zero-fills and
removes gaps. Grouping is the cost that grows with the store; its result for one partition
depends only on that partition's files. So the buckets of every partition a build grouped
are kept, one file per day: ``<store>/_state/bars/<interval>/date=<YYYY-MM-DD>.parquet``,
one row per bucket with the partition's ``exchange`` and ``date``; the file's Parquet
metadata (:data:`MANIFEST_KEY`) records the identity of each of that day's cached
partitions: the name, size, mtime (ns) and inode of every live file
(:attr:`helpers.store_layout.Partition.live`). A build reads the files of its window's days
only and rewrites only the days it re-grouped, so its cost follows the window and the
change, not the store's history.

A build re-groups only the partitions whose identity changed (a write part added, a
compaction, a file replaced) or that are new, reuses the others, and forgets cached
partitions of its selection that the store no longer holds; partitions outside the
selection stay cached as they were. Identities are taken before the events are read, so a
file changed during a build is cached under its old identity and re-grouped next time,
never reused stale. A day's file is replaced atomically (:func:`helpers.files.replacing`);
an unreadable or foreign one is ignored with a warning and that day rebuilt, and a file
that cannot be written costs the next build its reuse, never a row. The cache never changes
stored data and is not a table: deleting ``_state/bars/`` only makes the next build cold.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.files import replacing
from helpers.schema import pandas_strings
from helpers.store_layout import Partition

log = logging.getLogger(__name__)

CACHE_DIR = Path("_state") / "bars"
SAVE_THREADS = 2
"""Day files written at once (Arrow and Parquet release the GIL while they convert and write)."""
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


def cache_dir(root: Path, interval: str) -> Path:
    """The folder of ``interval``'s cached buckets in the store at ``root``."""
    return Path(root) / CACHE_DIR / interval


def day_path(root: Path, interval: str, day: str) -> Path:
    """The cache file of the buckets of day ``day`` (``YYYY-MM-DD``)."""
    return cache_dir(root, interval) / f"date={day}.parquet"


@dataclass(frozen=True)
class Selection:
    """The partitions a build reads: days from ``first`` to ``last`` (``YYYY-MM-DD``, None:
    unbounded) of the ``venues`` (None: every venue)."""

    first: str | None = None
    last: str | None = None
    venues: frozenset[str] | None = None

    def has_day(self, day: str) -> bool:
        return (self.first is None or day >= self.first) and (self.last is None or day <= self.last)

    def __call__(self, key: PartKey) -> bool:
        ex, day = key
        return (self.venues is None or ex in self.venues) and self.has_day(day)


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
        frame = table.replace_schema_metadata(None).to_pandas(types_mapper=pandas_strings)
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


def _concat(*frames: pd.DataFrame | None) -> pd.DataFrame | None:
    present = [f for f in frames if f is not None and len(f)]
    return pd.concat(present, ignore_index=True) if present else None


def _cached_days(root: Path, interval: str, selection: Selection) -> list[str]:
    """Days of the selection with a cache file (names only, no file read)."""
    folder = cache_dir(root, interval)
    names = [p.name for p in folder.glob("date=*.parquet")] if folder.is_dir() else []
    days = [n.removeprefix("date=").removesuffix(".parquet") for n in names]
    return [d for d in days if selection.has_day(d)]


def cached_buckets(
    root: Path,
    interval: str,
    partitions: Sequence[Partition],
    selection: Selection,
    aggregate: Callable[[Sequence[Partition]], pd.DataFrame],
) -> tuple[pd.DataFrame | None, CacheStats]:
    """The bucket rows of ``partitions`` (with their ``exchange`` and ``date``; None when
    there are none), reusing the cache where a partition's identity is unchanged and
    calling ``aggregate`` (grouped buckets with ``exchange`` and ``date`` columns) once for
    the others; the file of each day that changed is replaced. Every partition must have a
    :func:`partition_key`. Cached partitions of the ``selection`` that are not among
    ``partitions`` are dropped from the cache."""
    by_day: dict[str, dict[str, Partition]] = {}
    for p in partitions:
        ex, day = _checked_key(p)
        by_day.setdefault(day, {})[ex] = p
    days = sorted(set(by_day) | set(_cached_days(root, interval, selection)))
    loaded = {day: load(day_path(root, interval, day)) for day in days}
    ids = {day: {ex: identity(p) for ex, p in by_day.get(day, {}).items()} for day in days}
    stale = {d: [ex for ex, i in ids[d].items() if loaded[d][1].get(ex) != i] for d in days}
    dropped = {
        d: [ex for ex in loaded[d][1] if ex not in ids[d] and selection((ex, d))] for d in days
    }
    todo = [by_day[d][ex] for d in days for ex in stale[d]]
    fresh = aggregate(todo) if todo else None
    fresh_of = _by_day(fresh)
    frames: list[pd.DataFrame] = []
    saves: list[Future[None]] = []
    with ThreadPoolExecutor(SAVE_THREADS) as saving:
        for day in days:
            cached, manifest = loaded[day]
            gone = {*stale[day], *dropped[day]}
            kept = (
                None if cached is None else cached[~cached["exchange"].isin(list(gone)).to_numpy()]
            )
            new = None if fresh is None or not stale[day] else fresh_of(day)
            if gone:
                entries = {ex: v for ex, v in manifest.items() if ex not in dropped[day]}
                entries |= {ex: ids[day][ex] for ex in stale[day]}
                path = day_path(root, interval, day)
                saves.append(saving.submit(_save_day, path, _concat(kept, new), entries, fresh))
            if kept is not None:
                frames.append(kept[kept["exchange"].isin(list(ids[day])).to_numpy()])
            if new is not None:
                frames.append(new)
    for save in saves:
        save.result()  # what save() does not turn into a warning is raised here
    reused = sum(len(i) for i in ids.values()) - len(todo)
    stats = CacheStats(len(todo), reused, sum(len(d) for d in dropped.values()))
    return _concat(*frames), stats


def _by_day(frame: pd.DataFrame | None) -> Callable[[str], pd.DataFrame]:
    """The rows of ``frame`` of one ``date``, each day's rows taken once (one stable sort
    by day, not a scan of every row per day)."""
    if frame is None or frame.empty:
        empty = frame.iloc[:0] if frame is not None else pd.DataFrame()
        return lambda day: empty
    codes, days = pd.factorize(frame["date"])
    ordered = frame.take(np.argsort(codes, kind="stable")).reset_index(drop=True)
    ends = np.cumsum(np.bincount(codes, minlength=len(days)))
    where = {str(day): i for i, day in enumerate(days)}

    def rows(day: str) -> pd.DataFrame:
        i = where.get(day)
        if i is None:
            return ordered.iloc[:0]
        return ordered.iloc[(ends[i - 1] if i else 0) : ends[i]]

    return rows


def _save_day(
    path: Path,
    frame: pd.DataFrame | None,
    manifest: Mapping[str, Identity],
    template: pd.DataFrame | None,
) -> None:
    """Write one day's file, or remove it when the day has nothing cached any more."""
    if not manifest:
        path.unlink(missing_ok=True)
        return
    if frame is None:  # the day's partitions hold no events: cache that too
        if template is None:
            return
        frame = template.iloc[:0]
    save(path, frame, manifest)


def _checked_key(p: Partition) -> PartKey:
    key = partition_key(p)
    if key is None:
        raise ValueError(f"not an exchange=/date= partition folder: {p.folder}")
    return key
