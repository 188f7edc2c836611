"""What one fetch run did: rows written per table and venue, the span covered, gaps
recorded, tasks skipped and failures."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class TaskResult:
    table: str
    exchange: str
    symbol: str
    written: int = 0
    offered: int = 0
    quarantined: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    gaps: int = 0
    note: str = ""


@dataclass
class Summary:
    """Rows written per table and venue, span covered, gaps and failures of one run."""

    results: list[TaskResult] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = ["fetch summary:"]
        for r in self.results:
            span = (
                f"{r.first:%Y-%m-%d %H:%M} .. {r.last:%Y-%m-%d %H:%M} UTC"
                if r.first is not None and r.last is not None
                else "no rows"
            )
            extra = [f"{r.quarantined} quarantined"] if r.quarantined else []
            extra += [f"{r.gaps} gap(s) recorded"] if r.gaps else []
            extra += [r.note] if r.note else []
            tail = f" ({'; '.join(extra)})" if extra else ""
            lines.append(
                f"  {r.table:<14} {r.exchange:<12} {r.symbol:<16} {r.written:>7} new of "
                f"{r.offered:>7} rows, {span}{tail}"
            )
        for what, why in self.skipped:
            lines.append(f"  skipped {what}: {why}")
        for what, err in self.failures:
            lines.append(f"  FAILED {what}: {err}")
        if len(lines) == 1:
            lines.append("  nothing to fetch")
        return "\n".join(lines)
