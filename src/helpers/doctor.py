"""``python -m helpers doctor [--data-dir D] [--reports DIR]``: check a store for damage.

Reads every Parquet file of every table (nothing is written) and prints one line per
finding, then a summary line. DAMAGE (exit status 1):

* ``unreadable``: a file that is not readable Parquet (truncated, overwritten...);
* ``schema``: a file whose columns, or rows, break :mod:`helpers.schema` (the rejection
  reasons :func:`helpers.schema.validate` gives), or rows outside their ``date=`` partition;
* ``duplicates``: rows of a table sharing its key (:attr:`helpers.schema.Table.key`), across
  all of the table's readable files: within one file, or in two partitions (a key in the
  compacted file and in a write part of its partition not compacted yet is one row, the
  newest; :mod:`helpers.store_layout`);
* ``temp-file``: a temporary file left by a writer that was killed (:mod:`helpers.files`;
  the next write into that folder removes it);
* ``staging``: a staging folder left under the reports folder by a report run that was
  killed (:mod:`helpers.report.staging`; the next report run removes it);
* ``state``: a file under ``_state/`` that is not valid JSON (resume state, heartbeats);
* ``kind``: simulated and real rows in one store (:mod:`helpers.store_kind`).

NOTES, reported but not damage (exit status stays 0): ``quarantine`` (rows writes set
aside, per table and reason), ``open-gap`` (a ``gaps`` row without an end: data still
missing), ``in-use`` (a temporary file or staging folder of a process still running),
``uncompacted`` (write parts a compaction has not merged yet, per table: readers count each
key once; ``python -m helpers compact`` merges them) and ``covered-part`` (parts already
inside their partition's compacted file, left by a compaction that was stopped: readers
ignore them; the next write or compaction of the partition deletes them). The
summary names the store's kind (simulated or real). Exit status 2: no such store folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from helpers import schema, store_kind
from helpers.errors import UserError
from helpers.files import is_stale_temp, is_temp_file
from helpers.store import QUARANTINE, Store
from helpers.store_layout import Partition, hive_types, scan_sql

EXIT_CLEAN = 0
EXIT_DAMAGE = 1
SHOWN_PER_KIND = 20
"""Findings of one kind in one table shown before the rest are counted in one line."""


@dataclass(frozen=True)
class Finding:
    """One thing found: its kind (``unreadable``, ``quarantine``...), where (a table or a path
    relative to the store), what, and whether it is damage."""

    kind: str
    where: str
    detail: str
    damage: bool = True

    def line(self) -> str:
        return f"{'DAMAGE' if self.damage else 'note'} {self.kind}: {self.where}: {self.detail}"


@dataclass
class Checkup:
    """What :func:`check_store` found in the store at ``root``."""

    root: Path
    kind: str = store_kind.EMPTY
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    rows: int = 0
    tables: int = 0

    @property
    def damaged(self) -> bool:
        return any(f.damage for f in self.findings)

    @property
    def exit_code(self) -> int:
        return EXIT_DAMAGE if self.damaged else EXIT_CLEAN

    def summary(self) -> str:
        damage = sum(f.damage for f in self.findings)
        notes = len(self.findings) - damage
        verdict = "DAMAGED" if damage else "ok"
        return (
            f"doctor: {self.root}: {verdict}; {self.kind} store; {self.rows} rows in "
            f"{self.files} files of {self.tables} tables; {damage} damage, {notes} notes "
            "(quarantine, open gaps and files in use are notes, not damage)"
        )

    def lines(self) -> list[str]:
        return [*(f.line() for f in self.findings), self.summary()]


def check_store(root: str | os.PathLike[str], reports: Path | None = None) -> Checkup:
    """Check the store at ``root`` (and the staging folders under ``reports`` when given);
    see the module docstring. A :class:`UserError` when ``root`` is not a folder."""
    store = Store(root)
    if not store.root.is_dir():
        raise UserError(f"{store.root}: no such store folder")
    up = Checkup(store.root)
    contents: dict[str, list[str]] = {"simulated": [], "real": []}
    for name in schema.TABLES:
        readable = _check_table(store, name, up)
        up.findings += _leftover_parts(store, name)
        if readable:
            up.tables += 1
            up.findings += _duplicates(name, readable)
            scan = _deduplicated(store, name, readable)
            for kind in _kinds(name, scan):
                contents[kind].append(name)
        if name == "gaps" and readable:
            up.findings += _open_gaps(_deduplicated(store, name, readable))
    held = store_kind.Contents(tuple(contents["simulated"]), tuple(contents["real"]))
    up.kind = held.kind
    if held.kind == store_kind.MIXED:
        up.findings.append(
            Finding("kind", str(up.root), store_kind.mixed_store_message(up.root, held))
        )
    up.findings += _quarantine(store)
    up.findings += _temp_files(store.root)
    up.findings += _state_files(store.root)
    if reports is not None:
        up.findings += _staging(reports)
    return up


# ---- tables ------------------------------------------------------------------------------
def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _partition_values(path: Path, table_dir: Path) -> dict[str, str]:
    parts = path.parent.relative_to(table_dir).parts
    return dict(p.split("=", 1) for p in parts if "=" in p)


def _check_table(store: Store, name: str, up: Checkup) -> list[Path]:
    """Findings of every file of ``name``; the files readable with the table's columns."""
    t = schema.table(name)
    expected = [c for c in t.column_names if c not in t.partition_by]
    readable: list[Path] = []
    batch: list[pd.DataFrame] = []
    for path in store.files(name):
        where = _relative(path, store.root)
        up.files += 1
        try:
            table = pq.read_table(path)
        except Exception as exc:
            up.findings.append(Finding("unreadable", where, _one_line(exc)))
            continue
        missing = [c for c in expected if c not in table.column_names]
        extra = [c for c in table.column_names if c not in expected]
        if missing or extra:
            what = [f"missing columns {missing}"] if missing else []
            what += [f"unexpected columns {extra}"] if extra else []
            up.findings.append(Finding("schema", where, "; ".join(what)))
            continue
        up.rows += table.num_rows
        readable.append(path)
        values = _partition_values(path, store.table_dir(name))
        df = table.to_pandas()
        for col in t.partition_by:
            if col in t.columns:
                df[col] = values.get(col)
        batch.append(df.assign(_file=where, _date=values.get("date")))
        if sum(len(b) for b in batch) >= BATCH_ROWS:
            up.findings += _row_problems(name, batch)
            batch = []
    if batch:
        up.findings += _row_problems(name, batch)
    return readable


BATCH_ROWS = 500_000
"""Rows validated at once (files are read one by one and checked in batches this large)."""


def _row_problems(name: str, frames: list[pd.DataFrame]) -> list[Finding]:
    """One ``schema`` finding per file of ``frames`` (each with ``_file`` and its partition's
    ``_date``) whose rows fail :func:`helpers.schema.validate` or lie outside the date."""
    df = pd.concat(frames, ignore_index=True)
    _, bad = schema.validate(name, df)
    problems: dict[str, list[str]] = {}
    for row in bad.groupby(["_file", "reason"]).size().reset_index().itertuples(index=False):
        problems.setdefault(str(row[0]), []).append(f"{row[2]} rows fail {str(row[1])!r}")
    day = pd.to_datetime(df["ts"], utc=True, errors="coerce").dt.strftime("%Y-%m-%d")
    outside = df[day.notna() & (day != df["_date"])]
    for row in outside.groupby(["_file", "_date"]).size().reset_index().itertuples(index=False):
        problems.setdefault(str(row[0]), []).append(
            f"{row[2]} rows outside their partition date={row[1]}"
        )
    return [Finding("schema", where, "; ".join(what)) for where, what in sorted(problems.items())]


def _scan(name: str, files: Sequence[Path]) -> str:
    t = schema.table(name)
    paths = ", ".join("'" + p.as_posix().replace("'", "''") + "'" for p in files)
    return (
        f"read_parquet([{paths}], hive_partitioning = true, hive_types = {hive_types(t)}, "
        "union_by_name = true, filename = true)"
    )


def _deduplicated(store: Store, name: str, readable: Sequence[Path]) -> str:
    """The table as readers see it (each key once), over the readable files only."""
    ok = {p.as_posix() for p in readable}
    kept = []
    for p in store.partitions(name):
        base = p.base if p.base in ok else None
        parts = {s: f for s, f in p.parts.items() if f in ok}
        if base or parts:
            kept.append(Partition(p.folder, base, p.covers, parts))
    return scan_sql(schema.table(name), kept)


def _leftover_parts(store: Store, name: str) -> list[Finding]:
    """Notes: write parts not compacted yet, and covered parts a compaction left."""
    found = []
    parts = store.partitions(name)
    live = [len(p.live_parts) for p in parts if p.live_parts]
    if live:
        found.append(
            Finding(
                "uncompacted",
                name,
                f"{sum(live)} write parts in {len(live)} partitions not compacted yet "
                "(readers count each key once; python -m helpers compact merges them)",
                damage=False,
            )
        )
    covered = [f for p in parts for f in p.covered_parts]
    found += _capped(
        [
            Finding(
                "covered-part",
                _relative(Path(f), store.root),
                "already inside its partition's part.parquet (left by a compaction that was "
                "stopped); readers ignore it, the next write or compaction there deletes it",
                damage=False,
            )
            for f in covered
        ],
        "covered-part",
        name,
    )
    return found


def _query(sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _duplicates(name: str, files: Sequence[Path]) -> list[Finding]:
    """One finding when rows of ``name`` share a key: how many keys, and the first one."""
    key = schema.table(name).key
    cols = ", ".join(key)
    # a key's extra rows: repeats within a file, and every partition past the first
    rows = _query(
        f"SELECT {cols}, count(*) - count(DISTINCT filename) "
        f"+ count(DISTINCT regexp_replace(filename, '/[^/]*$', '')) - 1 AS extra "
        f"FROM {_scan(name, files)} GROUP BY {cols} HAVING extra > 0 ORDER BY {cols}"
    )
    if not rows:
        return []
    extra = sum(int(str(r[-1])) for r in rows)
    first = ", ".join(f"{k}={v}" for k, v in zip(key, rows[0][:-1], strict=True))
    return [
        Finding(
            "duplicates",
            name,
            f"{len(rows)} keys ({', '.join(key)}) held more than once, {extra} extra rows; "
            f"first: {first}",
        )
    ]


def _kinds(name: str, scan: str) -> list[str]:
    if "source" not in schema.table(name).columns:
        return []
    held = store_kind.read_contents({name: scan})
    return [kind for kind, names in (("simulated", held.simulated), ("real", held.real)) if names]


def _open_gaps(scan: str) -> list[Finding]:
    rows = _query(
        f"SELECT exchange, symbol, table_name, reason, start FROM {scan} "
        'WHERE "end" IS NULL ORDER BY start, exchange, symbol'
    )
    found = [
        Finding(
            "open-gap",
            f"gaps {ex} {sym if sym is not None else '(all symbols)'} {tab}",
            f"since {pd.Timestamp(str(start)):%Y-%m-%d %H:%M:%S} UTC, no end yet ({why})",
            damage=False,
        )
        for ex, sym, tab, why, start in rows
    ]
    return _capped(found, "open-gap", "gaps")


def _capped(found: list[Finding], kind: str, where: str) -> list[Finding]:
    if len(found) <= SHOWN_PER_KIND:
        return found
    rest = len(found) - SHOWN_PER_KIND
    damage = found[0].damage
    return [*found[:SHOWN_PER_KIND], Finding(kind, where, f"... and {rest} more", damage)]


# ---- around the tables -------------------------------------------------------------------
def _quarantine(store: Store) -> list[Finding]:
    """Per table: rows quarantined and their reasons; an unreadable quarantine file is damage."""
    found = []
    top = store.root / QUARANTINE
    for folder in sorted(p for p in top.iterdir() if p.is_dir()) if top.is_dir() else []:
        reasons: dict[str, int] = {}
        files = sorted(folder.glob("*.parquet"))
        for path in files:
            try:
                df = pq.read_table(path).to_pandas()
            except Exception as exc:
                found.append(Finding("unreadable", _relative(path, store.root), _one_line(exc)))
                continue
            why = df["reason"] if "reason" in df.columns else pd.Series(["?"] * len(df))
            for r, n in why.astype(str).value_counts().items():
                reasons[str(r)] = reasons.get(str(r), 0) + int(n)
        total = sum(reasons.values())
        listed = "; ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda rn: -rn[1]))
        found.append(
            Finding(
                "quarantine",
                folder.name,
                f"{total} rows in {len(files)} files" + (f" ({listed})" if listed else ""),
                damage=False,
            )
        )
    return found


def _walk_files(root: Path) -> Iterator[Path]:
    for dirpath, _, names in os.walk(root):
        for n in names:
            yield Path(dirpath) / n


def _temp_files(root: Path) -> list[Finding]:
    found = []
    for path in sorted(_walk_files(root)):
        if not is_temp_file(path):
            continue
        stale = is_stale_temp(path)
        what = (
            "temporary file of a writer that is gone (the next write into its folder removes "
            "it; or delete it)"
            if stale
            else "temporary file of a writer that may still be running"
        )
        found.append(
            Finding("temp-file" if stale else "in-use", _relative(path, root), what, stale)
        )
    return found


def _state_files(root: Path) -> list[Finding]:
    found = []
    for path in sorted((root / store_kind.STATE_DIR).glob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            found.append(
                Finding("state", _relative(path, root), f"not readable JSON: {_one_line(exc)}")
            )
    return found


def _staging(reports: Path) -> list[Finding]:
    from helpers.report import staging  # the report package loads matplotlib: only when asked

    found = [
        Finding(
            "staging",
            str(p),
            "left by a report run that was killed (the next report run removes it)",
        )
        for p in staging.stale_folders(reports)
    ]
    stale = set(staging.stale_staging(reports))
    found += [
        Finding("in-use", str(p), "staging folder of a report still rendering", damage=False)
        for p in sorted(reports.glob(f"{staging.STAGING_PREFIX}*"))
        if p.is_dir() and p not in stale
    ]
    return found


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
