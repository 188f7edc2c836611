"""Simulated or real: a store holds one kind of data, never both.

A row whose ``source`` is ``demo`` (:data:`helpers.timegrid.SIMULATED_SOURCE`) is
SIMULATED; a row of any other source is REAL. ``gaps`` rows carry no source and are of
neither kind. :meth:`helpers.store.Store.write` refuses simulated rows for a store that
holds a real row in any table, and real rows for a store that holds simulated ones, with a
one-line :class:`~helpers.errors.UserError` before anything is written (quarantine
included). The way out is another ``--data-dir``, or ``python -m helpers demo --remove``,
which deletes every simulated row (:func:`remove_simulated`).

The kind is recorded in ``<store>/_state/kind.json``, rewritten atomically after a write of
a new kind succeeded, so the check on each write is one small file read. The marker is only
trusted to let a write of its own kind through. Without a marker (a store written before
this guard, or a first write that was killed) and before any refusal, the kind is read from
the Parquet files themselves (one DuckDB query per table, stopping at the first row of each
kind) and the marker rewritten; a marker left behind by a killed write or by deleted files
therefore never refuses anything by itself. A store written before this guard may hold both
kinds: it is MIXED, and every write into it and every report on it is refused until its
simulated rows are removed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers import compaction, schema
from helpers.duck import connect_utc
from helpers.files import replacing, write_text_atomic
from helpers.timegrid import SIMULATED_SOURCE

if TYPE_CHECKING:
    from helpers.store import Store

Kind = Literal["empty", "simulated", "real", "mixed"]
EMPTY: Kind = "empty"
SIMULATED: Kind = "simulated"
REAL: Kind = "real"
MIXED: Kind = "mixed"

STATE_DIR = "_state"
MARKER = "kind.json"
LOCK = ".kind.lock"
SOURCED_TABLES = tuple(name for name, t in schema.TABLES.items() if "source" in t.columns)
"""The tables whose rows have a kind (every table but ``gaps``)."""


@dataclass(frozen=True)
class Contents:
    """Which tables of a store hold simulated rows and which hold real ones."""

    simulated: tuple[str, ...] = ()
    real: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        if self.simulated and self.real:
            return MIXED
        return SIMULATED if self.simulated else REAL if self.real else EMPTY


def rows_kind(df: pd.DataFrame) -> Kind:
    """The kind of the rows in ``df``: ``empty`` when it has no rows or no ``source``."""
    if "source" not in df.columns or not len(df):
        return EMPTY
    simulated = (df["source"] == SIMULATED_SOURCE).fillna(False).astype(bool)
    if simulated.all():
        return SIMULATED
    return REAL if not simulated.any() else MIXED


def marker_path(root: Path) -> Path:
    return root / STATE_DIR / MARKER


def lock_path(root: Path) -> Path:
    return root / STATE_DIR / LOCK


def read_marker(root: Path) -> Kind | None:
    """The kind ``<root>/_state/kind.json`` records (``simulated`` or ``real``), else None."""
    try:
        data = json.loads(marker_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return SIMULATED if kind == SIMULATED else REAL if kind == REAL else None


def write_marker(root: Path, kind: Kind) -> None:
    """Record ``kind`` (``simulated`` or ``real``) in the marker; any other kind removes it."""
    path = marker_path(root)
    if kind not in (SIMULATED, REAL):
        path.unlink(missing_ok=True)
        return
    if read_marker(root) != kind:
        text = {"kind": kind, "rule": f"source {SIMULATED_SOURCE!r} is simulated, any other real"}
        write_text_atomic(path, json.dumps(text) + "\n")


def read_contents(scans: Mapping[str, str]) -> Contents:
    """What the tables hold; ``scans`` maps each non-empty table to its ``read_parquet(...)``."""
    simulated: list[str] = []
    real: list[str] = []
    con = connect_utc()
    try:
        for name, scan in scans.items():
            row = con.execute(
                f"SELECT EXISTS (SELECT 1 FROM {scan} WHERE source = $s), "
                f"EXISTS (SELECT 1 FROM {scan} WHERE source <> $s)",
                {"s": SIMULATED_SOURCE},
            ).fetchone()
            if row is not None and row[0]:
                simulated.append(name)
            if row is not None and row[1]:
                real.append(name)
    finally:
        con.close()
    return Contents(tuple(simulated), tuple(real))


def refusal(root: Path, held: Contents, incoming: Kind, table: str) -> str | None:
    """Why rows of kind ``incoming`` for ``table`` cannot go into a store holding ``held``;
    None when they can."""
    if incoming == MIXED:
        return (
            f"{table}: these rows mix simulated (source {SIMULATED_SOURCE!r}) and real "
            "sources; write them to separate stores"
        )
    kind = held.kind
    if kind in (EMPTY, incoming) or incoming == EMPTY:
        return None
    if kind == MIXED:
        return mixed_store_message(root, held)
    if incoming == SIMULATED:
        return (
            f"store {root} holds real data ({', '.join(held.real)}); simulated rows never go "
            "into it: simulate into an empty folder of its own (--data-dir data/demo)"
        )
    return (
        f"store {root} holds simulated (demo) data ({', '.join(held.simulated)}); real rows "
        "never go into it: use another folder (--data-dir data/real, as params/real.yaml "
        f"does), or delete the simulated rows: {remove_command(root)}"
    )


def mixed_store_message(root: Path, held: Contents) -> str:
    """The one line for a store holding both kinds (written before they were kept apart)."""
    return (
        f"store {root} holds simulated rows ({', '.join(held.simulated)}) and real rows "
        f"({', '.join(held.real)}), written before they were kept apart; delete the "
        f"simulated rows first: {remove_command(root)}"
    )


def remove_command(root: Path) -> str:
    return f"python -m helpers demo --remove --data-dir {root}"


def remove_simulated(store: Store) -> dict[str, int]:
    """Delete every simulated row of every table of ``store`` (each partition rewritten
    atomically under its table's lock; a partition left empty is deleted); rows removed per
    table. The marker is then set from what remains."""
    removed: dict[str, int] = {}
    for name in SOURCED_TABLES:
        n = 0
        with store.locked(name):
            compaction.compact_table(store.table_dir(name), name)  # one file per partition
            for path in store.files(name):
                n += _drop_simulated(path)
            _remove_empty_dirs(store.table_dir(name))
        if n:
            removed[name] = n
    with_data = {n: store.scan(n) for n in SOURCED_TABLES if store.has_data(n)}
    write_marker(store.root, read_contents(with_data).kind)
    return removed


def _drop_simulated(path: Path) -> int:
    table = pq.read_table(path)
    keep = table.filter(pc.fill_null(pc.not_equal(table["source"], SIMULATED_SOURCE), True))
    dropped = table.num_rows - keep.num_rows
    if not keep.num_rows:
        path.unlink()
    elif dropped:
        with replacing(path) as tmp:
            pq.write_table(keep, tmp)
    return dropped


def _remove_empty_dirs(top: Path) -> None:
    if not top.is_dir():
        return
    for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            os.rmdir(d)
