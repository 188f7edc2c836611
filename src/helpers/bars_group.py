"""Grouped buckets of clean partitions, read with Arrow and counted with numpy.

A clean (exchange, date) partition is one Parquet file whose rows are already one per key
(:attr:`helpers.store_layout.Partition.clean`), so its buckets need no deduplication: the
file's ``ts``, ``symbol``, ``base``, ``side``, ``notional_usd`` and ``source`` columns are
read (text columns as their dictionary codes, never as strings), each row gets one integer
key (series x bucket x side), and two ``numpy.bincount`` passes give every key's event
count and USD sum. Partitions are grouped on their own, in threads, one per core.

The result is, row for row, what :data:`helpers.aggregate._PARTITION_BUCKETS_SQL` gives
for the same partition: ``bucket`` = bar open time (epoch s) // the interval's seconds;
``long_usd`` / ``short_usd`` the sum of ``notional_usd`` (USD) of the events whose
liquidated POSITION was long / short, missing (NaN) where the bucket has no such event with
a notional; ``long_count`` / ``short_count`` the number of such events (events with another
``side`` still make their bucket a row, with zero counts). Sums may differ from DuckDB's in
the last bits (another order of addition). Buckets are floored; the SQL's integer ``//``
truncates toward zero, which differs only for times before 1970. A partition this path
cannot read as expected (a missing column, a text column holding nulls, a file Arrow
refuses) is returned in :attr:`Grouped.refused`, for the SQL path to group (or to report
the file's error).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.bars_cache import partition_key
from helpers.schema import pandas_strings
from helpers.store_layout import SERIES_COLUMNS, Partition, read_series

TEXT = (*SERIES_COLUMNS, "side")
SERIES_TEXT = SERIES_COLUMNS[1:]
"""What the ``liqnb.series`` footer names for each symbol: its base and source."""
COLUMNS = ("ts", *TEXT, "notional_usd")
OUT_COLUMNS = [
    "exchange",
    "date",
    "bucket",
    "symbol",
    "base",
    "source",
    "long_usd",
    "short_usd",
    "long_count",
    "short_count",
]
_SIDE_CODES = {"long": 0, "short": 1}
_OTHER_SIDE = 2
_DIRECT_LIMIT = 1 << 20
"""Key spaces up to this (or 4 x the rows) are counted as they are (8 MB per count array)."""
_DENSE_LIMIT = 1 << 24
"""Larger ones up to this are renumbered by a bincount of presence; beyond, by a sort."""

_TS_UNITS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


@dataclass(frozen=True)
class Grouped:
    """The bucket rows of the partitions grouped here (:data:`OUT_COLUMNS`, None when there
    were none) and the partitions left to the SQL path."""

    buckets: pd.DataFrame | None
    refused: list[Partition]


class _Refused(Exception):
    """This partition is not one this path reads: the SQL path groups it."""


def group_clean_partitions(
    partitions: Sequence[Partition], secs: int, workers: int | None = None
) -> Grouped:
    """The buckets of every clean, named partition of ``partitions`` (interval ``secs``
    seconds), in ``workers`` threads (default: one per core); the others are refused."""
    todo = [p for p in partitions if p.clean and partition_key(p) is not None]
    refused = [p for p in partitions if not (p.clean and partition_key(p) is not None)]
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda p: _group_or_refuse(p, secs), todo))
    tables = [t for t in results if isinstance(t, pa.Table)]
    refused += [p for p, t in zip(todo, results, strict=True) if t is None]
    if not tables:
        return Grouped(None, refused)
    frame = pa.concat_tables(tables).to_pandas(types_mapper=pandas_strings)
    return Grouped(frame, refused)


def _group_or_refuse(p: Partition, secs: int) -> pa.Table | None:
    try:
        return partition_buckets(p, secs)
    except (_Refused, pa.ArrowException, OSError):
        return None


def partition_buckets(p: Partition, secs: int) -> pa.Table:
    """The bucket rows (:data:`OUT_COLUMNS`) of the clean partition ``p``."""
    key = partition_key(p)
    if key is None or not p.clean:
        raise _Refused(p.folder)
    read = _read(p.live[0])
    ts, per_second = _epoch_ints(read.table.column("ts"))
    series, names = _series(read)
    keys = np.floor_divide(ts, per_second * secs)
    first = int(keys.min()) if len(keys) else 0
    span = int(keys.max()) - first + 1 if len(keys) else 0
    keys *= 3
    keys += _series_side_offsets(series, read.table.column("side"), span, first)
    space = len(names) * span * 3
    keys, slots = _dense(keys, space)
    length = space if slots is None else len(slots)
    notional = read.table.column("notional_usd")
    counts = np.bincount(keys, minlength=length)
    usd = np.bincount(keys, weights=_filled(notional), minlength=length)
    with_usd = counts if notional.null_count == 0 else np.bincount(keys, _valid(notional), length)
    occupied = np.flatnonzero(counts)
    original = occupied if slots is None else slots[occupied]
    sums = _Sums(counts[occupied], usd[occupied], with_usd[occupied] > 0)
    return _rows(key, first, span, original, sums, names)


def _series_side_offsets(
    series: np.ndarray, side: pa.ChunkedArray, span: int, first: int
) -> np.ndarray:
    """Per row, ``series x span x 3 + side code - 3 x first``: added to 3 x its bucket,
    the row's key ((series x span + bucket - first) x 3 + side). One lookup in a table of
    (series, side value) pairs, not arithmetic over every row."""
    codes, values = _codes(side)
    sides = np.array([_SIDE_CODES.get(v, _OTHER_SIDE) for v in values] or [0], np.int64)
    n_series = int(series.max()) + 1 if len(series) else 0
    table = (np.arange(n_series, dtype=np.int64)[:, None] * span * 3 + sides[None, :]) - 3 * first
    pair = series * len(sides)  # int32 codes stay int32 (series x sides is far below 2**31)
    pair += codes
    return table.reshape(-1)[pair]


@dataclass(frozen=True)
class _Read:
    """A file's columns, and its symbol -> (base, source) map when its footer has one
    (then ``base`` and ``source`` were not read)."""

    table: pa.Table
    series: Mapping[str, tuple[str, str]] | None


def _read(path: str) -> _Read:
    """The columns grouping needs; ``base`` and ``source`` only when the footer does not
    name them for every symbol in the file."""
    try:
        pf = pq.ParquetFile(path, read_dictionary=list(TEXT), memory_map=True, pre_buffer=False)
    except KeyError as missing:  # a text column the file does not have
        raise _Refused(path) from missing
    names = set(pf.schema_arrow.names)
    if not names.issuperset(COLUMNS):
        raise _Refused(path)
    series = read_series(pf.metadata.metadata)
    wanted = [c for c in COLUMNS if series is None or c not in SERIES_TEXT]
    table = pf.read(columns=wanted, use_threads=False)
    if series is not None and not _names_every_symbol(series, table.column("symbol")):
        series = None
        rest = pf.read(columns=list(SERIES_TEXT), use_threads=False)
        for name in SERIES_TEXT:
            table = table.append_column(name, rest.column(name))
    if any(table.column(c).null_count for c in table.column_names if c != "notional_usd"):
        raise _Refused(path)
    return _Read(table, series)


def _names_every_symbol(series: Mapping[str, tuple[str, str]], symbol: pa.ChunkedArray) -> bool:
    return all(v in series for chunk in symbol.chunks for v in chunk.dictionary.to_pylist())


def _epoch_ints(ts: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """``ts`` as int64 counts of its unit since the epoch, and the unit's count per second."""
    kind = ts.type
    if not pa.types.is_timestamp(kind):
        raise _Refused(str(kind))
    values = ts.combine_chunks().view(pa.int64()).to_numpy()
    return values, _TS_UNITS_PER_SECOND[kind.unit]


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """The dictionary codes of a text column read as a dictionary, and its values."""
    if not pa.types.is_dictionary(column.type):
        raise _Refused(str(column.type))
    if column.num_chunks != 1:
        column = column.unify_dictionaries()
    if column.num_chunks == 0:
        return np.zeros(0, np.int32), []
    codes = [c.indices.to_numpy(zero_copy_only=False) for c in column.chunks]
    values = column.chunk(0).dictionary.to_pylist()
    return codes[0] if len(codes) == 1 else np.concatenate(codes), values


def _series(read: _Read) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Each row's series code and each code's (symbol, base, source): the symbol's
    dictionary code when the footer names every symbol's base and source, else one dense
    code per (symbol, base, source) present."""
    symbol, symbols = _codes(read.table.column("symbol"))
    if read.series is not None:
        return symbol, [(s, *read.series[s]) for s in symbols]
    parts = [(symbol, symbols), *(_codes(read.table.column(c)) for c in SERIES_TEXT)]
    sizes = [max(len(values), 1) for _, values in parts]
    combined = np.zeros(len(symbol), np.int64)
    for (codes, _), size in zip(parts, sizes, strict=True):
        combined = combined * size + codes
    dense, present = _renumbered(combined, int(np.prod(sizes, dtype=np.int64)))
    names: list[tuple[str, str, str]] = []
    for value in present.tolist():
        idx = []
        for size in reversed(sizes):
            value, rest = divmod(value, size)
            idx.append(rest)
        s, b, src = idx[::-1]
        names.append((parts[0][1][s], parts[1][1][b], parts[2][1][src]))
    return dense, names


def _dense(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``keys`` (each in 0..``space``-1) as they are, with None, when ``space`` is small
    enough to count directly; else :func:`_renumbered`."""
    if space <= max(_DIRECT_LIMIT, 4 * len(keys)):
        return keys, None
    return _renumbered(keys, space)


def _renumbered(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """``keys`` (each in 0..``space``-1) renumbered 0..n-1 in order of value, and the value
    of each new number."""
    if space <= _DENSE_LIMIT:
        seen = np.bincount(keys, minlength=space) > 0
        numbers = np.cumsum(seen) - 1
        return numbers[keys], np.flatnonzero(seen)
    present, dense = np.unique(keys, return_inverse=True)
    return dense.reshape(-1), present


def _filled(values: pa.ChunkedArray) -> np.ndarray:
    values = values.combine_chunks()
    return (values.fill_null(0.0) if values.null_count else values).to_numpy(zero_copy_only=False)


def _valid(values: pa.ChunkedArray) -> np.ndarray:
    return values.combine_chunks().is_valid().to_numpy(zero_copy_only=False).astype(np.float64)


@dataclass(frozen=True)
class _Sums:
    """Per occupied key: events, USD sum, and whether any event had a notional."""

    counts: np.ndarray
    usd: np.ndarray
    valid: np.ndarray


def _rows(
    part: tuple[str, str],
    first: int,
    span: int,
    keys: np.ndarray,
    sums: _Sums,
    names: list[tuple[str, str, str]],
) -> pa.Table:
    """One row per occupied (series, bucket) from the occupied keys ((series x span +
    bucket offset) x 3 + side, ascending): counts and sums of both sides."""
    cells, at = np.unique(keys // 3, return_inverse=True)
    side = keys % 3
    series, offset = np.divmod(cells, span) if span else (cells, cells)
    columns: dict[str, pa.Array] = {
        "exchange": pa.repeat(pa.scalar(part[0], pa.string()), len(cells)),
        "date": pa.repeat(pa.scalar(part[1], pa.string()), len(cells)),
        "bucket": pa.array(offset + first, pa.int64()),
    }
    for i, name in enumerate(SERIES_COLUMNS):
        values = pa.array([n[i] for n in names], pa.string())
        columns[name] = values.take(pa.array(series))
    for label, code in (("long", 0), ("short", 1)):
        on = side == code
        usd = np.full(len(cells), np.nan)
        usd[at[on & sums.valid]] = sums.usd[on & sums.valid]
        count = np.zeros(len(cells), np.int64)
        count[at[on]] = sums.counts[on]
        columns[f"{label}_usd"] = pa.array(usd)
        columns[f"{label}_count"] = pa.array(count)
    return pa.table({c: columns[c] for c in OUT_COLUMNS})
