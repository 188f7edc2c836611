"""The one home of every analysis knob's default: what a notebook's ``parameters`` cell,
the analysis functions' keyword defaults and ``params/*.yaml`` start from.

Papermill needs each notebook's ``parameters`` cell as literal assignments, so the cells
repeat these values; ``tests/test_parameters.py`` fails when a cell or an analysis
signature drifts from this module. Units are stated per field; fractions are fractions
(``0.005`` = 0.5 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class WindowParameters:
    """The report as a whole; every notebook declares these (``report.params.COMMON``)."""

    start: str = "2025-11-10T00:00:00+00:00"
    """Window start, inclusive (ISO 8601 UTC); the default is the demo store's week."""
    end: str = "2025-11-17T00:00:00+00:00"
    """Window end, exclusive."""
    exchanges: list[str] | None = None
    """ccxt ids to include; None = every venue in the store."""
    symbols: list[str] | None = None
    """Unified symbols to include; None = every symbol."""
    interval: str = "1h"
    """Bar size of the analysis grid."""
    data_dir: str = "../data/raw"
    """The store, relative to ``notebooks/``."""


@dataclass(frozen=True)
class SpikeParameters:
    """Spike detection on the imbalance page (:func:`helpers.metrics.imbalance.spike_bars`)."""

    spike_k: float = 5.0
    """A bar is a spike when it exceeds the trailing median by ``spike_k`` robust sigmas (MAD)."""
    spike_window: int = 24
    """Trailing bars the median and MAD are taken over."""


@dataclass(frozen=True)
class MarketMapParameters:
    """The market-cap treemap."""

    top_n: int = 30
    """Coins shown, largest market cap first."""


def _default_leverage() -> dict[float, float]:
    return {5: 0.2, 10: 0.3, 20: 0.3, 50: 0.2}


@dataclass(frozen=True)
class ClusterParameters:
    """Realised clusters near local lows and the ESTIMATED liquidation map."""

    base: str = "BTC"
    """Base asset analysed."""
    bin_width: float = 250.0
    """Price bin width in USD."""
    swing_window: int = 3
    """Bars on each side a swing low must undercut."""
    zone_tolerance: float = 0.005
    """Lows within this fraction of each other form one support zone."""
    leverage_weights: dict[float, float] = field(default_factory=_default_leverage)
    """ESTIMATED map: assumed leverage -> share of open interest (normalised to 1)."""
    long_share: float | None = None
    """ESTIMATED map: fraction of open interest held long; None takes it from the data (the
    long share of the window's realised liquidations of ``base``,
    :func:`helpers.metrics.liquidation_map.observed_long_share`)."""
    mmr: float = 0.005
    """ESTIMATED map: maintenance margin rate, a fraction of notional."""
    lookback: str = "72h"
    """ESTIMATED map: how far back open-interest changes are placed as cohorts."""
    break_depth: float = 0.03
    """How far below support (fraction of price) the "if support breaks" figure reaches."""


@dataclass(frozen=True)
class OutlookParameters:
    """What to watch: stress without relief, concentration, OI/price regimes."""

    base: str = "BTC"
    """Base asset whose price path is compared."""
    rolling_window: int = 6
    """Bars in the rolling liquidation and price-range sums."""
    rising_steps: int = 3
    """Consecutive rising rolling sums (with no widening range) that flag stress."""
    stress_min_usd: float = 10_000_000.0
    """A bar whose rolling long liquidations (US dollars over ``rolling_window`` bars, all
    venues) are under this is never flagged as stress: a rise from $0.3M to $0.5M is noise."""
    single_share: float = 0.5
    """A venue above this fraction of the window's liquidations concentrates it."""
    deadband: float = 0.001
    """OI or price changes within +/- this fraction count as flat."""


@dataclass(frozen=True)
class ClaimParameters:
    """Statements the brief tests against the window (:mod:`helpers.metrics.claims`)."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    """Each a mapping of text, metric, op, value (and optional id, tolerance, page); none
    by default. ``params/article.yaml`` lists a news article's."""


GROUPS: Mapping[str, type] = MappingProxyType(
    {
        "window": WindowParameters,
        "spikes": SpikeParameters,
        "market_map": MarketMapParameters,
        "clusters": ClusterParameters,
        "outlook": OutlookParameters,
        "claims": ClaimParameters,
    }
)


def defaults(*groups: str) -> dict[str, Any]:
    """Name -> default of every parameter in ``groups`` (every group when none is named).

    A name in two groups (``base``) must have one default; a clash raises ``ValueError``.
    """
    merged: dict[str, Any] = {}
    for name in groups or tuple(GROUPS):
        for key, value in asdict(GROUPS[name]()).items():
            if key in merged and merged[key] != value:
                raise ValueError(f"parameter {key!r} has two defaults: {merged[key]!r}, {value!r}")
            merged[key] = value
    return merged
