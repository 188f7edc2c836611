"""What ``doctor`` reports: one :class:`Finding` per thing found, the :class:`Checkup` of a
store, and the helpers every check shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from helpers import store_kind

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


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def capped(found: list[Finding], kind: str, where: str) -> list[Finding]:
    if len(found) <= SHOWN_PER_KIND:
        return found
    rest = len(found) - SHOWN_PER_KIND
    damage = found[0].damage
    return [*found[:SHOWN_PER_KIND], Finding(kind, where, f"... and {rest} more", damage)]


def one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
