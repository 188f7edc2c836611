"""``doctor``'s checks of the tables: unreadable files, schema and partition-date breaks,
keys held twice, write parts left uncompacted, and the store's kind (simulated or real)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from helpers import schema, store_kind
from helpers.doctor.findings import Checkup, Finding, capped, one_line, relative
from helpers.duck import connect_utc
from helpers.store import Store
from helpers.store_layout import Partition, hive_types, scan_sql


def _partition_values(path: Path, table_dir: Path) -> dict[str, str]:
    parts = path.parent.relative_to(table_dir).parts
    return dict(p.split("=", 1) for p in parts if "=" in p)


def check_table(store: Store, name: str, up: Checkup) -> list[Path]:
    """Findings of every file of ``name``; the files readable with the table's columns."""
    t = schema.table(name)
    expected = [c for c in t.column_names if c not in t.partition_by]
    readable: list[Path] = []
    batch: list[pd.DataFrame] = []
    for path in store.files(name):
        where = relative(path, store.root)
        up.files += 1
        try:
            table = pq.read_table(path)
        except Exception as exc:
            up.findings.append(Finding("unreadable", where, one_line(exc)))
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


def deduplicated(store: Store, name: str, readable: Sequence[Path]) -> str:
    """The table as readers see it (each key once), over the readable files only."""
    ok = {p.as_posix() for p in readable}
    kept = []
    for p in store.partitions(name):
        base = p.base if p.base in ok else None
        parts = {s: f for s, f in p.parts.items() if f in ok}
        if base or parts:
            kept.append(Partition(p.folder, base, p.covers, parts))
    return scan_sql(schema.table(name), kept)


def leftover_parts(store: Store, name: str) -> list[Finding]:
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
    found += capped(
        [
            Finding(
                "covered-part",
                relative(Path(f), store.root),
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
    con = connect_utc()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def duplicates(name: str, files: Sequence[Path]) -> list[Finding]:
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


def kinds(name: str, scan: str) -> list[str]:
    if "source" not in schema.table(name).columns:
        return []
    held = store_kind.read_contents({name: scan})
    return [kind for kind, names in (("simulated", held.simulated), ("real", held.real)) if names]


def open_gaps(scan: str) -> list[Finding]:
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
    return capped(found, "open-gap", "gaps")
