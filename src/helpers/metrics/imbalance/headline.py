"""The worst bar in a sentence: amounts rounded so that "more than" / "less than" are true.

Money is in US dollars; see :mod:`helpers.metrics.imbalance` for the table it reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from helpers.metrics.imbalance.table import worst_bar
from helpers.timegrid import Window


def round_down_sig(value: float, sig: int) -> float:
    """``value`` rounded DOWN to ``sig`` significant figures (231.4e6, 2 -> 230e6)."""
    return _round_sig(value, sig, math.floor)


def round_up_sig(value: float, sig: int) -> float:
    """``value`` rounded UP to ``sig`` significant figures (4.3e6, 1 -> 5e6)."""
    return _round_sig(value, sig, math.ceil)


def _round_sig(value: float, sig: int, how: Callable[[float], int]) -> float:
    if value <= 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(value)) - sig + 1)
    units = value / step
    nearest = round(units)
    if math.isclose(units, nearest, rel_tol=1e-9):
        units = nearest
    return float(how(units) * step)


def usd_sig(value: float, sig: int) -> str:
    """A round US-dollar amount with ``sig`` significant figures: ``$230M``, ``$1.2M``,
    ``$5M``, ``$400K``, ``$0``."""
    if value <= 0:
        return "$0"
    units = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
    div, suffix = next(((d, u) for d, u in units if value >= d), (1.0, ""))
    scaled = value / div
    decimals = max(0, sig - 1 - int(math.floor(math.log10(scaled))))
    return f"${scaled:,.{decimals}f}{suffix}"


@dataclass(frozen=True)
class Headline:
    """The numbers behind "more than $230M of longs against less than $5M of shorts in one hour".

    ``long_bound_usd`` is the worst bar's long USD rounded DOWN, ``short_bound_usd`` its short
    USD rounded UP, so "more than" / "less than" are true statements. A qualifier is empty when
    the rounded bound equals the value exactly (then "more than" would be false).
    """

    ts: pd.Timestamp
    interval: str
    long_usd: float
    short_usd: float
    ratio: float
    long_bound_usd: float
    short_bound_usd: float
    long_qualifier: str
    short_qualifier: str
    long_sig: int
    short_sig: int
    venues_reporting: int
    venues_expected: int

    @property
    def period(self) -> str:
        return "one hour" if self.interval == "1h" else f"one {self.interval} bar"

    def text(self) -> str:
        """The sentence fragment, e.g. ``more than $230M of longs against less than $5M of shorts
        in one hour``; ``against $0 of shorts`` when no short was liquidated."""
        long_part = " ".join(
            p for p in (self.long_qualifier, usd_sig(self.long_bound_usd, self.long_sig)) if p
        )
        if self.short_usd <= 0:
            short_part = "$0"
        else:
            short_part = " ".join(
                p
                for p in (self.short_qualifier, usd_sig(self.short_bound_usd, self.short_sig))
                if p
            )
        return f"{long_part} of longs against {short_part} of shorts in {self.period}"


def headline(
    table: pd.DataFrame, window: Window, long_sig: int = 2, short_sig: int = 1
) -> Headline | None:
    """The worst bar's numbers rounded for a sentence (see :class:`Headline`), its period
    named from the window's interval; None when there is no worst bar
    (:func:`helpers.metrics.imbalance.worst_bar`). ``long_sig`` / ``short_sig``: significant
    figures kept when rounding long down and short up."""
    worst = worst_bar(table)
    if worst is None:
        return None
    long_bound = round_down_sig(worst.long_usd, long_sig)
    short_bound = round_up_sig(worst.short_usd, short_sig)
    return Headline(
        ts=worst.ts,
        interval=window.interval,
        long_usd=worst.long_usd,
        short_usd=worst.short_usd,
        ratio=worst.ratio,
        long_bound_usd=long_bound,
        short_bound_usd=short_bound,
        long_qualifier="more than" if long_bound < worst.long_usd else "",
        short_qualifier="less than" if short_bound > worst.short_usd else "",
        long_sig=long_sig,
        short_sig=short_sig,
        venues_reporting=worst.venues_reporting,
        venues_expected=worst.venues_expected,
    )
