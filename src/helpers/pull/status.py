"""What one pull did: a :class:`SourceStatus` per source, what the store holds for the window
afterwards, and whether the window can be reported (:class:`PullReport`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from helpers.timegrid import Window

State = Literal["ok", "partial", "skipped", "failed"]
"""``ok``: the source answered; ``partial``: some of its requests failed; ``skipped``: not
configured or no key (nothing was asked); ``failed``: asked, and nothing came back."""

EXIT_NO_DATA = 3
"""Exit status of a pull (or a ``fetch: true`` report) that every source failed, or after
which the window holds no liquidation data at all."""


def one_line(text: object, limit: int = 300) -> str:
    """``text`` with whitespace runs collapsed, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass(frozen=True)
class SourceStatus:
    """One source's outcome. ``detail`` is one line (counts, why it was skipped, or the
    error, never a key); ``liquidations`` maps ccxt id -> liquidation rows it delivered for
    the window (events or bars)."""

    name: str
    state: State
    detail: str
    liquidations: Mapping[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> bool:
        return self.state != "skipped"

    @property
    def had_errors(self) -> bool:
        return self.state in ("failed", "partial")

    def line(self) -> str:
        """``<name>: <state>, <detail>``."""
        return (
            f"{self.name}: {self.state}, {self.detail}"
            if self.detail
            else f"{self.name}: {self.state}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "detail": self.detail,
            "liquidations": dict(self.liquidations),
        }


@dataclass(frozen=True)
class Held:
    """Liquidation data the store holds for the window on one venue: ``events`` (rows of
    ``liquidations``, any source) and ``bars`` (rows of ``liquidation_bars`` of the window's
    interval or of a finer one that rolls up to it, any source)."""

    events: int = 0
    bars: int = 0


@dataclass(frozen=True)
class PullReport:
    """Every source's status for ``window`` and the liquidation data held afterwards."""

    window: Window
    sources: tuple[SourceStatus, ...]
    held: Mapping[str, Held] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[SourceStatus, ...]:
        """Sources that failed outright or in part: what a published report's banner names."""
        return tuple(s for s in self.sources if s.had_errors)

    @property
    def skipped(self) -> tuple[SourceStatus, ...]:
        return tuple(s for s in self.sources if s.state == "skipped")

    @property
    def every_source_failed(self) -> bool:
        """True when at least one source was asked and every one asked failed outright."""
        asked = [s for s in self.sources if s.attempted]
        return bool(asked) and all(s.state == "failed" for s in asked)

    @property
    def has_liquidations(self) -> bool:
        """True when the store holds liquidation events or bars for the window."""
        return any(h.events or h.bars for h in self.held.values())

    @property
    def usable(self) -> bool:
        """A report of the window may be published: not every source failed, and there is
        liquidation data."""
        return self.problem() is None

    def problem(self) -> str | None:
        """Why the window cannot be reported, in one line; None when it can."""
        if self.every_source_failed:
            names = ", ".join(s.name for s in self.sources if s.attempted)
            return f"every source failed for {self._span()} ({names})"
        if not self.has_liquidations:
            return (
                f"no liquidation data for {self._span()} from any source or in the store "
                "(set COINALYZE_API_KEY, enable a venue with public history such as gate, "
                "or run the collector)"
            )
        return None

    def _span(self) -> str:
        w = self.window
        return f"{w.start:%Y-%m-%d %H:%M} .. {w.end:%Y-%m-%d %H:%M} UTC"

    def held_line(self) -> str:
        """``liquidation data held for the window: <venue> N events / M bars, ...``."""
        parts = []
        for ex, h in sorted(self.held.items()):
            bits = [f"{h.events} events"] if h.events else []
            bits += [f"{h.bars} bars of {self.window.interval} or finer"] if h.bars else []
            if bits:
                parts.append(f"{ex} {' + '.join(bits)}")
        return "liquidation data held for the window: " + (", ".join(parts) or "none")

    def render(self) -> str:
        """One line per source, then what the store holds for the window."""
        return "\n".join([f"pull {self._span()}:", *(f"  {s.line()}" for s in self.sources),
                          f"  {self.held_line()}"])  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """What ``summary.json`` records of the pull: every source's status and the names of
        the failed (or partly failed) and skipped ones."""
        return {
            "sources": [s.as_json() for s in self.sources],
            "failed": [s.name for s in self.failed],
            "skipped": [s.name for s in self.skipped],
        }
