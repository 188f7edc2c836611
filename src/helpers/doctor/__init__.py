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

import os
from pathlib import Path

from helpers import schema, store_kind
from helpers.doctor.around import quarantine, staging_folders, state_files, temp_files
from helpers.doctor.findings import EXIT_CLEAN, EXIT_DAMAGE, Checkup, Finding
from helpers.doctor.tables import (
    check_table,
    deduplicated,
    duplicates,
    kinds,
    leftover_parts,
    open_gaps,
)
from helpers.errors import UserError
from helpers.store import Store

__all__ = ["EXIT_CLEAN", "EXIT_DAMAGE", "Checkup", "Finding", "check_store"]


def check_store(root: str | os.PathLike[str], reports: Path | None = None) -> Checkup:
    """Check the store at ``root`` (and the staging folders under ``reports`` when given);
    see the module docstring. A :class:`UserError` when ``root`` is not a folder."""
    store = Store(root)
    if not store.root.is_dir():
        raise UserError(f"{store.root}: no such store folder")
    up = Checkup(store.root)
    contents: dict[str, list[str]] = {"simulated": [], "real": []}
    for name in schema.TABLES:
        readable = check_table(store, name, up)
        up.findings += leftover_parts(store, name)
        if readable:
            up.tables += 1
            up.findings += duplicates(name, readable)
            scan = deduplicated(store, name, readable)
            for kind in kinds(name, scan):
                contents[kind].append(name)
        if name == "gaps" and readable:
            up.findings += open_gaps(deduplicated(store, name, readable))
    held = store_kind.Contents(tuple(contents["simulated"]), tuple(contents["real"]))
    up.kind = held.kind
    if held.kind == store_kind.MIXED:
        up.findings.append(
            Finding("kind", str(up.root), store_kind.mixed_store_message(up.root, held))
        )
    up.findings += quarantine(store)
    up.findings += temp_files(store.root)
    up.findings += state_files(store.root)
    if reports is not None:
        up.findings += staging_folders(reports)
    return up
