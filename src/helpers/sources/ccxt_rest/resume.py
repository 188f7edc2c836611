"""Resume state of the fetcher: the time ranges already fetched and stored per task, in
``<data_dir>/_state/resume.json``, and the range arithmetic on half-open ``[start_ms, end_ms)``
lists."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from helpers.errors import UserError
from helpers.files import exclusive_lock, write_text_atomic

STATE_DIR = "_state"
STATE_FILE = "resume.json"


class ResumeState:
    """Time ranges already fetched per task, kept as merged ``[start_ms, end_ms)`` lists in
    ``<data_dir>/_state/resume.json``. Every :meth:`add` rewrites the file atomically."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / STATE_DIR / STATE_FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, list[list[int]]]]:
        with exclusive_lock(self.path.with_suffix(".lock")):
            covered = self._read()
            yield covered
            self._write(covered)

    def _read(self) -> dict[str, list[list[int]]]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise UserError(
                f"{self.path}: resume state is not valid JSON; delete it to refetch"
            ) from None
        return {k: [[int(a), int(b)] for a, b in v] for k, v in raw.get("covered", {}).items()}

    def _write(self, covered: Mapping[str, list[list[int]]]) -> None:
        text = json.dumps({"version": 1, "covered": covered}, indent=1, sort_keys=True)
        write_text_atomic(self.path, text)

    def covered(self, key: str) -> list[list[int]]:
        return self._read().get(key, [])

    def add(self, key: str, start: int, end: int) -> None:
        """Mark ``[start, end)`` of ``key`` as fetched and stored."""
        if end <= start:
            return
        with self._locked() as covered:
            covered[key] = merge_ranges([*covered.get(key, []), [start, end]])

    def missing(self, key: str, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of ``[start, end)`` not yet fetched for ``key``, in time order."""
        return subtract_ranges(start, end, self.covered(key))


def merge_ranges(ranges: Sequence[Sequence[int]]) -> list[list[int]]:
    """Union of half-open ranges, touching ones joined, sorted."""
    out: list[list[int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in ranges if b > a):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def subtract_ranges(
    start: int, end: int, covered: Sequence[Sequence[int]]
) -> list[tuple[int, int]]:
    """``[start, end)`` minus the ``covered`` ranges."""
    out: list[tuple[int, int]] = []
    cursor = start
    for a, b in merge_ranges(covered):
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            out.append((cursor, min(a, end)))
        cursor = max(cursor, b)
    if cursor < end:
        out.append((cursor, end))
    return out


def task_key(table: str, exchange_id: str, symbol: str, interval: str | None) -> str:
    return "|".join([table, exchange_id, symbol] + ([interval] if interval else []))
