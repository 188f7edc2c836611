"""Staging folders of report runs, and what a killed run leaves behind.

A run renders into ``<out>/.staging-<date>-<pid>-<token>/`` and holds an exclusive ``flock``
on that folder for as long as it runs (the kernel drops it when the process dies, however
it dies). A run killed before it published leaves an unlocked staging folder; a publish cut
short between its two renames leaves the previous report aside as
``<out>/.old-<date>-<token>/``. The next report run removes both (:func:`remove_stale`): an
unlocked staging folder is deleted, a folder set aside is renamed back when its dated folder
is missing, else deleted. A concurrent run's staging folder is locked and stays.

Creating a staging folder, publishing and cleaning up all take ``<out>/.lock``, so a cleanup
never sees a folder between its creation and its lock, nor a publish between its renames.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from helpers.files import exclusive_lock

STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"
_OLD_NAME = re.compile(rf"^{re.escape(OLD_PREFIX)}(?P<name>.+)-[0-9a-f]{{8}}$")
OLD_AGE_S = 60.0
"""A folder set aside by a publish counts as left behind (for :func:`stale_folders`, which
runs without the lock) once it is this many seconds old."""


def locked(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    """Serialise creating staging folders, publishing and cleaning up in ``out_dir``."""
    return exclusive_lock(out_dir / ".lock")


@contextlib.contextmanager
def staging_folder(out_dir: Path, report_date: str) -> Iterator[Path]:
    """A new staging folder for ``report_date`` under ``out_dir``, locked by this process
    for the block and deleted after it (unless it was published, i.e. renamed away)."""
    with locked(out_dir):
        path = out_dir / f"{STAGING_PREFIX}{report_date}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def set_aside_name(target: Path) -> Path:
    """Where a publish renames the previous ``target`` while it renames the new one in."""
    return target.with_name(f"{OLD_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}")


def is_held(folder: Path) -> bool:
    """Whether a live process holds the lock of staging ``folder`` (a missing folder is not
    held)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def stale_staging(out_dir: Path) -> list[Path]:
    """Staging folders under ``out_dir`` that no live run holds."""
    if not out_dir.is_dir():
        return []
    return sorted(p for p in out_dir.glob(f"{STAGING_PREFIX}*") if p.is_dir() and not is_held(p))


def set_aside(out_dir: Path) -> list[Path]:
    """Folders a publish set aside under ``out_dir`` (stale only under :func:`locked`)."""
    if not out_dir.is_dir():
        return []
    return sorted(
        p for p in out_dir.glob(f"{OLD_PREFIX}*") if p.is_dir() and _OLD_NAME.match(p.name)
    )


def stale_folders(out_dir: Path, now: float | None = None) -> list[Path]:
    """What a killed run left under ``out_dir``, read without the lock: unlocked staging
    folders and folders set aside more than :data:`OLD_AGE_S` ago."""
    now = time.time() if now is None else now
    old = [p for p in set_aside(out_dir) if now - p.stat().st_mtime > OLD_AGE_S]
    return sorted([*stale_staging(out_dir), *old])


def remove_stale(out_dir: Path) -> list[Path]:
    """Under the lock: delete unlocked staging folders; rename a folder set aside back to
    its dated name when that is missing, else delete it. The folders removed or restored."""
    if not out_dir.is_dir():
        return []
    done: list[Path] = []
    with locked(out_dir):
        for old in set_aside(out_dir):
            target = out_dir / _OLD_NAME.sub(r"\g<name>", old.name)
            if target.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(old, target)
            done.append(old)
        for folder in stale_staging(out_dir):
            shutil.rmtree(folder, ignore_errors=True)
            done.append(folder)
    return done
