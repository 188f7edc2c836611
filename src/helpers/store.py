"""The Parquet store: one folder per canonical table, hive-partitioned, written atomically.

Layout under the data directory (default ``data/raw``)::

    <table>/exchange=<ccxt id>/date=YYYY-MM-DD/part.parquet        (market_caps: date= only)
    <table>/exchange=<ccxt id>/date=YYYY-MM-DD/part-<seq>.parquet  (writes since compaction)
    _quarantine/<table>/<UTC time>-<digest>.parquet                 (rejected rows + reason)

Writes validate rows against :mod:`helpers.schema` (values, and the form of every name:
:data:`helpers.schema.IDENTIFIERS`), send rejects to quarantine and merge the valid rows
into each touched partition on the table's key (the newest write wins, so a vendor's
revised bar replaces the old one). A write into a partition that holds rows costs what the
batch costs: it looks up the stored rows of its keys and adds one immutable write part
(:mod:`helpers.store_layout`); :mod:`helpers.compaction` merges the parts into the one
``part.parquet`` when there are too many or the day is over. Every file appears by an
atomic rename: a crash mid-write (even ``kill -9``) leaves the previous files intact and at
most a temporary file that the next write into that folder removes (:mod:`helpers.files`);
the table's ``flock`` is held across the whole lookup-merge-rename, so concurrent writers
never lose each other's rows. Rejects offered again (a rerun) are kept once.

A missing value never replaces a stored one, in every table: when a written row's key is
already stored, each column the row leaves missing (NaN, NA, NaT) keeps the stored value
and every column it gives replaces it (a column-wise coalesce, :func:`merge_rows`), so a
re-import with a blank or ``n/a`` cell can only add to the store. :class:`WriteResult`
counts the stored rows whose values the write changed and the missing cells that kept a
stored value.

A store holds simulated rows (``source='demo'``) or real ones, never both: a write of the
other kind is refused before anything is written (:mod:`helpers.store_kind`).

Reads go through DuckDB over the Parquet files, each key once (:meth:`Store.scan`). The time
window is half-open, ``start <= ts < end``; exchange, symbol and date filters are pushed
down to the files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers import compaction, schema, store_kind
from helpers.compaction import MAX_PARTS, PartitionValues
from helpers.duck import connect_utc
from helpers.errors import UserError
from helpers.files import exclusive_lock, replacing
from helpers.store_keys import KeyIndex
from helpers.store_kind import Contents, Kind
from helpers.store_layout import PART_FILE, Partition, local_partition, local_partitions, scan_sql
from helpers.store_merge import Merged, by_partition, conform, merge_rows, normalized_batch
from helpers.timegrid import TimeLike, to_utc

__all__ = ["PART_FILE", "Merged", "Store", "WriteResult", "conform", "merge_rows", "window_filter"]

DEFAULT_DATA_DIR = Path("data/raw")
QUARANTINE = "_quarantine"


@dataclass(frozen=True)
class WriteResult:
    """What a write did: rows offered, rows new to the store, rows quarantined (the first
    one's reason and the quarantine file, when any); ``changed``: stored rows the write gave
    a different value (the newest write wins), ``kept_missing``: cells the write left missing
    where a stored value was kept."""

    table: str
    offered: int
    written: int
    quarantined: int
    partitions: int
    changed: int = 0
    kept_missing: int = 0
    first_reason: str | None = None
    quarantine_file: Path | None = None

    def __str__(self) -> str:
        rows = "bars" if "interval" in schema.table(self.table).columns else "rows"
        q = f", {self.quarantined} quarantined" if self.quarantined else ""
        if self.quarantined and self.first_reason:
            q += f" (first: {self.first_reason}; rows kept in {self.quarantine_file})"
        c = f", {self.changed} {rows} changed value" if self.changed else ""
        k = f", {self.kept_missing} missing cells kept stored values" if self.kept_missing else ""
        return (
            f"{self.table}: {self.written} new of {self.offered} rows "
            f"in {self.partitions} partitions{q}{c}{k}"
        )


def _check_partition_value(value: str) -> str:
    if not value or any(ch in value for ch in "/\\=") or value.startswith("."):
        raise ValueError(f"not a usable partition value: {value!r}")
    return value


class Store:
    """The canonical Parquet store rooted at ``root``."""

    def __init__(
        self,
        root: str | os.PathLike[str] = DEFAULT_DATA_DIR,
        *,
        auto_compact: bool = True,
        max_parts: int = MAX_PARTS,
    ) -> None:
        """``auto_compact``: compact within writes (:mod:`helpers.compaction`: past
        ``max_parts`` write parts, or once the day is over); off, writes only add parts.
        Writes find stored keys through this instance's key cache (:mod:`helpers.store_keys`)."""
        self.root = Path(root)
        self.auto_compact = auto_compact
        self.max_parts = max_parts
        self.keys = KeyIndex()

    # ---- paths -------------------------------------------------------------------------
    def table_dir(self, name: str) -> Path:
        schema.table(name)
        return self.root / name

    def partitions(self, name: str) -> list[Partition]:
        """Every partition folder of ``name`` holding a file (:mod:`helpers.store_layout`)."""
        return local_partitions(self.table_dir(name), len(schema.table(name).partition_by))

    def files(self, name: str) -> list[Path]:
        """The Parquet files a reader of ``name`` counts (compacted files and the write parts
        they do not cover yet)."""
        return sorted(Path(f) for p in self.partitions(name) for f in p.live)

    def has_data(self, name: str) -> bool:
        return bool(self.files(name))

    def quarantine_files(self, name: str | None = None) -> list[Path]:
        d = self.root / QUARANTINE
        if name is not None:
            d = d / name
        return sorted(d.glob("**/*.parquet")) if d.exists() else []

    def locked(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Hold table ``name``'s write lock for the block."""
        return exclusive_lock(self.table_dir(name) / ".lock")

    # ---- simulated or real -------------------------------------------------------------
    def contents(self) -> Contents:
        """Which tables hold simulated rows and which real ones, read from the files."""
        with_data = {n: self.scan(n) for n in store_kind.SOURCED_TABLES if self.has_data(n)}
        return store_kind.read_contents(with_data)

    def kind(self) -> Kind:
        """``empty``, ``simulated``, ``real`` or ``mixed`` (both: a store written before they
        were kept apart); the marker when there is one, else the files (marker recorded)."""
        marked = store_kind.read_marker(self.root)
        if marked is not None:
            return marked
        kind = self.contents().kind
        if kind in (store_kind.SIMULATED, store_kind.REAL):
            with contextlib.suppress(OSError):  # a read-only store is still read
                store_kind.write_marker(self.root, kind)
        return kind

    def require(self, incoming: Kind, table: str = "these rows") -> None:
        """A one-line :class:`UserError` when rows of kind ``incoming`` cannot be written."""
        if incoming == store_kind.EMPTY or store_kind.read_marker(self.root) == incoming:
            return
        problem = store_kind.refusal(self.root, self.contents(), incoming, table)
        if problem is not None:
            raise UserError(problem)

    @contextlib.contextmanager
    def _admitting(self, name: str, incoming: Kind) -> Iterator[None]:
        """Refuse rows of the other kind; record a new kind once its rows are written. The
        store-wide lock makes two first writes of different kinds take turns."""
        if incoming == store_kind.EMPTY or store_kind.read_marker(self.root) == incoming:
            yield
            return
        with exclusive_lock(store_kind.lock_path(self.root)):
            self.require(incoming, name)
            yield
            store_kind.write_marker(self.root, incoming)

    # ---- writing -----------------------------------------------------------------------
    def write(self, name: str, df: pd.DataFrame) -> WriteResult:
        """Validate and merge ``df`` into table ``name``; see the module docstring. Rows of
        the other kind than the store holds (simulated or real) are a :class:`UserError`
        and nothing is written."""
        t = schema.table(name)
        good, bad = schema.validate(name, df)
        with self._admitting(name, store_kind.rows_kind(good)):
            return self._write_valid(t, good, bad, len(df))

    def _write_valid(
        self, t: schema.Table, good: pd.DataFrame, bad: pd.DataFrame, offered: int
    ) -> WriteResult:
        name = t.name
        qfile = self._quarantine(name, bad) if len(bad) else None
        first = str(bad["reason"].iloc[0]) if len(bad) else None
        merges: list[Merged] = []
        if len(good):
            good = normalized_batch(t, good.assign(date=good["ts"].dt.floor("D")))
            with self.locked(name):
                for values, rows in by_partition(t, good):
                    merges.append(self._merge_partition(t, values, rows))
        return WriteResult(
            name,
            offered,
            sum(m.new for m in merges),
            len(bad),
            len(merges),
            changed=sum(m.changed for m in merges),
            kept_missing=sum(m.kept_missing for m in merges),
            first_reason=first,
            quarantine_file=qfile,
        )

    def quarantine(self, name: str, rejected: pd.DataFrame) -> Path | None:
        """Keep rows a source rejected itself (a ``reason`` column says why, e.g. a field
        that contradicts another) under ``_quarantine/<name>/``, as :meth:`write` keeps the
        rows validation rejects; the same rejects offered again keep the one file. None
        when ``rejected`` is empty."""
        schema.table(name)
        if "reason" not in rejected.columns:
            raise ValueError("quarantined rows need a 'reason' column")
        if rejected.empty:
            return None
        return self._quarantine(name, rejected.astype("string").reset_index(drop=True))

    def _partition_dir(self, t: schema.Table, values: PartitionValues) -> Path:
        d = self.root / t.name
        for col in t.partition_by:
            value = values[col]
            text = f"{value:%Y-%m-%d}" if isinstance(value, pd.Timestamp) else str(value)
            d = d / f"{col}={_check_partition_value(text)}"
        return d

    def _merge_partition(
        self, t: schema.Table, values: PartitionValues, rows: pd.DataFrame
    ) -> Merged:
        """Merge ``rows`` into one partition (the table's lock held): a new partition gets
        its compacted file at once; a write that would leave more than ``max_parts`` parts,
        or lands on a day that is over, compacts the partition with the rows; any other adds
        one write part."""
        folder = self._partition_dir(t, values)
        part = local_partition(folder, writing=True)
        new = rows[t.column_names]
        if not part.live:  # the batch is normalized: one row per key, in ts and key order
            merged = Merged(new.reset_index(drop=True), len(new), 0, 0)
            keep = [c for c in t.column_names if c not in t.partition_by]
            over = compaction.day_over(values)
            cache = None if over else (t, self.keys)
            compaction.write_compacted(folder / PART_FILE, merged.rows[keep], part.last_seq, cache)
            if self.auto_compact and not over:
                # an exchange's first write of a new day closes its last days; a write into a
                # day that is over compacts at once, so a historical import (one new past day
                # after another) has nothing to close and must not rescan every sibling
                siblings = [f for f in folder.parent.glob("*=*") if f != folder and f.is_dir()]
                compaction.compact_folders(t, siblings, finished_only=True)
            return merged
        full = len(part.live_parts) + 1 > self.max_parts or compaction.day_over(values)
        if self.auto_compact and full:
            return compaction.merge_partition(t, part, values, new, self.keys)
        return compaction.write_part(t, part, values, new, self.keys)

    def compact(self, name: str) -> compaction.Compacted:
        """Compact every partition of ``name`` holding write parts (under the table's lock)."""
        if not self.table_dir(name).is_dir():
            return compaction.Compacted(name, 0, 0, 0)
        with self.locked(name):
            return compaction.compact_table(self.table_dir(name), name)

    def _quarantine(self, name: str, bad: pd.DataFrame) -> Path:
        """Write ``bad`` under ``_quarantine/<name>/``, named by its content: offering the
        same rejects again (a rerun after a crash) keeps the one file already there."""
        d = self.root / QUARANTINE / name
        d.mkdir(parents=True, exist_ok=True)
        digest = _content_digest(bad)
        kept = sorted(d.glob(f"*-{digest}.parquet"))
        if kept:
            return kept[0]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = d / f"{stamp}-{digest}.parquet"
        _atomic_write(path, bad)
        return path

    # ---- reading -----------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection in UTC with one view per non-empty table (named as the table)."""
        con = connect_utc()
        for name in schema.TABLES:
            if self.has_data(name):
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM {self.scan(name)}")
        return con

    def scan(self, name: str) -> str:
        """A DuckDB table expression over the table's files, one row per key: the files a
        reader counts, write parts not yet compacted deduplicated by the newest write
        (:func:`helpers.store_layout.scan_sql`). It names the files present when called."""
        return scan_sql(schema.table(name), self.partitions(name))

    def read(
        self,
        name: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        exchanges: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        where: str | None = None,
    ) -> pd.DataFrame:
        """Rows of ``name`` with ``start <= ts < end`` on the given exchanges and symbols.

        ``None`` means no bound / every exchange / every symbol. ``where`` adds a raw SQL
        predicate (for example ``"interval = '1h'"``). Output is in canonical dtypes, sorted
        by ``ts``.
        """
        t = schema.table(name)
        if not self.has_data(name):
            return schema.empty(name)
        clauses, params = window_filter(
            start,
            end,
            exchanges if "exchange" in t.columns else None,
            symbols if "symbol" in t.columns else None,
        )
        if where:
            clauses.append(f"({where})")
        for attempt in (1, 2):  # a compaction may delete a listed part: list again once
            sql = f"SELECT * EXCLUDE (date) FROM {self.scan(name)}"
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            sql += " ORDER BY ts"
            con = connect_utc()
            try:
                return conform(name, con.execute(sql, params).df())
            except duckdb.IOException:
                if attempt == 2:
                    raise
            finally:
                con.close()
        raise AssertionError("unreachable")

    def exchanges(self, name: str = "liquidations") -> list[str]:
        """Exchanges that have at least one partition file of ``name`` (a folder holding only
        what a failed or killed write left, or nothing, is not a partition)."""
        d = self.table_dir(name)
        folders = {p.relative_to(d).parts[0] for p in self.files(name)}
        return sorted(f.split("=", 1)[1] for f in folders if f.startswith("exchange="))


def window_filter(
    start: TimeLike | None,
    end: TimeLike | None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
) -> tuple[list[str], dict[str, object]]:
    """DuckDB ``WHERE`` clauses (named parameters ``$sd $s $ed $e $ex $sy``) for the half-open
    window ``start <= ts < end`` and the given exchanges and symbols, with the ``date``
    partition pruned; None leaves a bound or list out."""
    clauses: list[str] = []
    params: dict[str, object] = {}
    s, e = to_utc(start), to_utc(end)
    if s is not None:
        clauses += ["date >= $sd::DATE", "ts >= $s"]
        params |= {"sd": s.strftime("%Y-%m-%d"), "s": s.to_pydatetime()}
    if e is not None:
        clauses += ["date <= $ed::DATE", "ts < $e"]
        params |= {"ed": e.strftime("%Y-%m-%d"), "e": e.to_pydatetime()}
    if exchanges is not None:
        clauses.append("list_contains($ex, exchange)")
        params["ex"] = list(exchanges)
    if symbols is not None:
        clauses.append("list_contains($sy, symbol)")
        params["sy"] = list(symbols)
    return clauses, params


def _content_digest(df: pd.DataFrame) -> str:
    """16 hex digits that change with any column name or value of ``df``."""
    h = hashlib.sha256("\x1f".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def _atomic_write(path: Path, df: pd.DataFrame) -> None:
    with replacing(path) as tmp:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
