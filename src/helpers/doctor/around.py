"""``doctor``'s checks around the tables: quarantined rows, temporary files of killed
writers, unreadable state files and report staging folders left behind."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from helpers import store_kind
from helpers.doctor.findings import Finding, one_line, relative
from helpers.files import is_stale_temp, is_temp_file
from helpers.store import QUARANTINE, Store


def quarantine(store: Store) -> list[Finding]:
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
                found.append(Finding("unreadable", relative(path, store.root), one_line(exc)))
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


def temp_files(root: Path) -> list[Finding]:
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
        found.append(Finding("temp-file" if stale else "in-use", relative(path, root), what, stale))
    return found


def state_files(root: Path) -> list[Finding]:
    found = []
    for path in sorted((root / store_kind.STATE_DIR).glob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            found.append(
                Finding("state", relative(path, root), f"not readable JSON: {one_line(exc)}")
            )
    return found


def staging_folders(reports: Path) -> list[Finding]:
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
