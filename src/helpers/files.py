"""File primitives every writer shares: an exclusive lock and an atomic replace.

A replace writes ``.<name>.<host>.<pid>.<token>.tmp`` beside its target and renames it over the
target. A process killed mid-write (``kill -9``, OOM) leaves that file behind; the next
replace in the same folder removes every temporary file whose writer is gone (same host, pid
no longer running), so leftovers never pile up and readers, which only ever open the
targets, never see them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"
OLD_TEMP_AGE_S = 3600.0
"""A temporary file without a host and pid (named before they were recorded), or written on
another host, counts as stale once it is this many seconds old."""

_TEMP_NAME = re.compile(
    r"^\.(?P<target>.+?)\.(?:(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>\d+)\.)?[0-9a-f]{32}\.tmp$"
)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname()) or "host"


@contextlib.contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (created if needed) for the block. The
    kernel drops the lock when its process dies, so a killed writer never leaves it held."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def temp_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` that records this host and process."""
    return path.with_name(f".{path.name}.{_host()}.{os.getpid()}.{uuid.uuid4().hex}{TEMP_SUFFIX}")


def is_temp_file(path: Path) -> bool:
    """Whether ``path`` is named as :func:`temp_path` names (or named before host and pid)."""
    return _TEMP_NAME.match(path.name) is not None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a process of another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale_temp(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary file whose writer is gone: written by a process of
    this host that no longer runs, or (no pid, or another host) older than
    :data:`OLD_TEMP_AGE_S`. A missing file is not stale."""
    m = _TEMP_NAME.match(path.name)
    if m is None:
        return False
    if m["pid"] is not None and m["host"] == _host():
        return int(m["pid"]) != os.getpid() and not pid_alive(int(m["pid"]))
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age > OLD_TEMP_AGE_S


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the stale temporary files (:func:`is_stale_temp`) directly in ``folder``."""
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(folder):
            path = Path(entry.path)
            if entry.name.endswith(TEMP_SUFFIX) and entry.is_file() and is_stale_temp(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` only when the block
    succeeds, removed otherwise, so readers see the old file or the new one, never half.
    Stale temporary files of killed writers in the folder are removed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
