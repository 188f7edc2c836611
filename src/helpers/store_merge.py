"""Row merging for the store: canonical dtypes and the key-wise merge of new rows into
stored ones (the newest write wins, a missing value never replaces a stored one).

These are pure functions on pandas frames; :mod:`helpers.store` and
:mod:`helpers.compaction` decide which rows meet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from helpers import schema


@dataclass(frozen=True)
class Merged:
    """A partition after a merge: its rows, and what the merge did to the stored ones."""

    rows: pd.DataFrame
    new: int
    changed: int
    kept_missing: int


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with exactly the table's columns, in order, in canonical dtypes."""
    t = schema.table(name)
    out = {}
    for col, dtype in t.columns.items():
        s = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index)
        if dtype.startswith("datetime64"):
            s = pd.to_datetime(s, utc=True).astype(pd.api.types.pandas_dtype(dtype))
        else:
            s = s.astype(pd.api.types.pandas_dtype(dtype))
        out[col] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def merge_rows(t: schema.Table, old: pd.DataFrame, new: pd.DataFrame) -> Merged:
    """``old`` (stored rows) merged with ``new`` on the table's key: of several rows of
    ``new`` with one key the last is taken; where its key is stored, each column it gives
    replaces the stored value and each it leaves missing (NaN, NA, NaT) keeps the stored
    one. Both frames are in canonical form (:func:`conform`); the result is sorted by
    ``ts`` and key."""
    new = new.drop_duplicates(list(t.key), keep="last")
    if old.empty:  # a new partition: its rows have one key each, none is stored or repeated
        return Merged(sort_rows(t, new), len(new), 0, 0)
    both = pd.concat([old, new], ignore_index=True)
    repeat = both.duplicated(keep="first").to_numpy()
    stored = int((~repeat[: len(old)]).sum())
    both = both[~repeat].reset_index(drop=True)
    if both.duplicated(list(t.key), keep=False).any():
        return _coalesce(t, both, stored)
    return Merged(sort_rows(t, both), len(both) - stored, 0, 0)


def coalesce_newest(t: schema.Table, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per key of ``frames`` (oldest first, canonical form): the newest frame's row,
    with each cell it leaves missing taken from the newest older frame that has it (the
    rule of :func:`merge_rows`, applied across a partition's files). Sorted by ``ts`` and key."""
    both = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    key = list(t.key)
    dup = both.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return sort_rows(t, both)
    values = [c for c in t.column_names if c not in t.key]
    many = both[dup]
    merged = many.groupby(key, sort=False, dropna=False)[values].last().reset_index()
    return sort_rows(t, pd.concat([both[~dup], merged[t.column_names]], ignore_index=True))


def _coalesce(t: schema.Table, both: pd.DataFrame, stored: int) -> Merged:
    """:func:`merge_rows` for rows of which some share a key: ``both[:stored]`` are stored,
    the rest new, none a repeat of an earlier row."""
    key = list(t.key)
    values = [c for c in t.column_names if c not in t.key]
    gid = both.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    groups = int(gid.max()) + 1
    has_old, has_new = np.zeros(groups, dtype=bool), np.zeros(groups, dtype=bool)
    has_old[gid[:stored]] = True
    has_new[gid[stored:]] = True
    newest = np.zeros(groups, dtype=np.int64)
    np.maximum.at(newest, gid, np.arange(len(both)))
    coalesced = both[values].groupby(gid, sort=True).last().reset_index(drop=True)
    rows = pd.concat([both[key].iloc[newest].reset_index(drop=True), coalesced], axis=1)
    rows = rows[t.column_names]
    revised = has_old & has_new
    gone = both[values].iloc[newest].isna().to_numpy() & coalesced.notna().to_numpy()
    old = both.iloc[:stored]
    same = pd.concat([old, rows[revised]], ignore_index=True).duplicated(keep="first")
    changed = int((~same.to_numpy()[stored:]).sum())
    return Merged(sort_rows(t, rows), int((~has_old).sum()), changed, int(gone[revised].sum()))


def sort_rows(t: schema.Table, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` sorted by ``ts`` then the rest of the table's key (stable)."""
    if _strictly_increasing_times(rows):
        return rows.reset_index(drop=True)  # already in order
    order = ["ts", *[k for k in t.key if k != "ts"]]
    return rows.sort_values(order, kind="stable").reset_index(drop=True)


def _strictly_increasing_times(rows: pd.DataFrame) -> bool:
    """Whether ``rows``' ``ts`` are all present and strictly increasing (then sorted by
    ``ts`` and key as they are)."""
    ts = rows["ts"].to_numpy(dtype="datetime64[us]")
    return not np.isnat(ts).any() and bool((np.diff(ts.view(np.int64)) > 0).all())


def normalized_batch(t: schema.Table, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (with their ``date``) as :func:`merge_rows` leaves a new partition's rows,
    done once for the whole batch: of several rows of one partition and key the last,
    sorted by partition, then ``ts`` and key (stable). A historical import of thousands of
    days paid the pandas cost of a deduplication and a sort per partition (about 4 ms
    each)."""
    rows = rows.drop_duplicates(list(dict.fromkeys([*t.partition_by, *t.key])), keep="last")
    if _strictly_increasing_times(rows):
        return rows  # a collector flush: each partition's rows already in order
    order = list(dict.fromkeys([*t.partition_by, "ts", *t.key]))
    return rows.sort_values(order, kind="stable")


def by_partition(
    t: schema.Table, good: pd.DataFrame
) -> Iterator[tuple[dict[str, str | pd.Timestamp], pd.DataFrame]]:
    """``good``'s rows (with their ``date``) per partition, in partition order; a batch in
    one partition (a collector flush) is not grouped."""
    cols = list(t.partition_by)
    first = {c: good[c].iloc[0] for c in cols}
    if all(good[c].notna().all() and bool((good[c] == first[c]).all()) for c in cols):
        yield first, good
        return
    for values, rows in good.groupby(cols, sort=True, observed=True):
        keys = cast(
            tuple[str | pd.Timestamp, ...], values if isinstance(values, tuple) else (values,)
        )
        yield dict(zip(cols, keys, strict=True)), rows
