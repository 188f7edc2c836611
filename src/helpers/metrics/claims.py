"""Claims: statements about the report window, tested against what the pages measure.

A claim is what an article or a desk note says, written as a metric, a comparison and a
value (``params/article.yaml`` lists a news article's)::

    claims:
      - id: worst-hour-longs                      # optional; claim-<n> when absent
        text: More than $230M of longs were liquidated in the worst hour
        metric: worst_hour.longs_usd
        op: ">"                                   # quote > and < in YAML
        value: $230M
      - text: Binance took about $36M of those longs
        metric: worst_hour.venue_longs_usd[binance]
        op: about
        value: 36M
        tolerance: 0.1                            # within 10 %; "$5M" is absolute
        page: 02_venue_breakdown                  # optional; the metric's page otherwise

Metrics: :data:`METRICS` (:mod:`helpers.metrics.claim_metrics`), each measured by the
analysis the page that shows it runs, so a claim and its page never disagree. Reading the
mappings is :mod:`helpers.metrics.claim_parsing`; testing them is here.

Comparisons (:data:`OPS`): ``>``, ``<``, ``>=``, ``<=`` compare the measured value with the
claimed one as they are; ``about`` holds when ``|measured - value| <= tolerance``, the
tolerance a fraction of the claimed value (:data:`DEFAULT_TOLERANCE` unless given) or, given
as an amount (``$5M``), absolute in the metric's unit. Only ``about`` takes a tolerance.

Values: a number, or text such as ``$230M``, ``1.71T``, ``3.5e6`` (suffixes K, M, B, T are
thousands to trillions), or ``50%`` for a metric measured as a fraction (``0.5``).

Verdicts (:data:`VERDICTS`): ``supported``, ``not supported``, or ``no data`` when the
window holds nothing to measure: a venue absent from the window's data, or not observed in
the bar asked about, is ``no data``, never a measured 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from helpers.metrics.claim_metrics import METRICS, ClaimInputs, Measurement, Metric
from helpers.metrics.claim_parsing import (
    DEFAULT_TOLERANCE,
    OPS,
    Claim,
    ClaimError,
    Op,
    Tolerance,
    check_claims_context,
    parse_amount,
    parse_claims,
)

if TYPE_CHECKING:
    from helpers.dataset import Dataset
    from helpers.metrics.clusters_analysis import ClusterResult
    from helpers.metrics.imbalance_analysis import ImbalanceResult
    from helpers.metrics.marketmap_analysis import MarketResult
    from helpers.metrics.venues_analysis import VenueResult

__all__ = [
    "DEFAULT_TOLERANCE",
    "METRICS",
    "OPS",
    "VERDICTS",
    "Claim",
    "ClaimError",
    "ClaimInputs",
    "ClaimResult",
    "Measurement",
    "Metric",
    "Tolerance",
    "check_claims_context",
    "claims_analysis",
    "evaluate_claims",
    "parse_amount",
    "parse_claims",
    "verdict",
]

Verdict = Literal["supported", "not supported", "no data"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
SUPPORTED, NOT_SUPPORTED, NO_DATA = VERDICTS


@dataclass(frozen=True)
class ClaimResult:
    """A claim tested on the window: ``measured`` in the metric's ``unit`` (None: no data,
    never 0), the ``verdict``, a ``note`` on what was measured (which bar, which snapshot,
    why there is no data), and ``simulated`` when the store's data is the simulator's."""

    claim: Claim
    measured: float | None
    verdict: Verdict
    note: str
    simulated: bool

    @property
    def unit(self) -> str:
        return self.claim.spec.unit

    @property
    def kind(self) -> str:
        """``realised`` (measured from data) or ``estimated`` (from a stated model)."""
        return self.claim.spec.kind

    @property
    def href(self) -> str:
        """The page that shows the figure, relative to the report folder."""
        return f"{self.claim.page}.html"

    def as_json(self) -> dict[str, Any]:
        """The result as ``summary.json`` carries it (plain JSON types; missing is null)."""
        c = self.claim
        return {
            "id": c.id,
            "text": c.text,
            "metric": c.written,
            "op": c.op,
            "value": c.value,
            "tolerance": None if c.tolerance is None else c.tolerance.as_json(),
            "measured": self.measured,
            "unit": self.unit,
            "kind": self.kind,
            "verdict": self.verdict,
            "note": self.note,
            "simulated": self.simulated,
            "page": c.page,
            "href": self.href,
        }


# ---- evaluation ---------------------------------------------------------------------------
def verdict(measured: float | None, op: Op, claimed: float, tolerance: Tolerance | None) -> Verdict:
    """``supported`` / ``not supported`` for a measured value, ``no data`` when it is
    missing (None or NaN)."""
    if measured is None or math.isnan(measured):
        return NO_DATA
    if op == "about":
        allowed = (tolerance or Tolerance(DEFAULT_TOLERANCE)).allowed(claimed)
        holds = abs(measured - claimed) <= allowed
    else:
        holds = {
            ">": measured > claimed,
            "<": measured < claimed,
            ">=": measured >= claimed,
            "<=": measured <= claimed,
        }[op]
    return SUPPORTED if holds else NOT_SUPPORTED


def evaluate_claims(claims: Sequence[Claim], inputs: ClaimInputs) -> list[ClaimResult]:
    """Each claim measured by its metric on ``inputs`` and judged, in the given order."""
    results = []
    for c in claims:
        m = c.spec.measure(inputs, c.arg)
        value = None if m.value is None or math.isnan(m.value) else float(m.value)
        results.append(
            ClaimResult(
                c, value, verdict(value, c.op, c.value, c.tolerance), m.note, inputs.ds.simulated
            )
        )
    return results


def claims_analysis(
    ds: Dataset,
    claims: object,
    imb: ImbalanceResult,
    ven: VenueResult,
    mkt: MarketResult,
    clu: ClusterResult | None = None,
) -> list[ClaimResult]:
    """The summary notebook's claims table: ``claims`` (the raw ``claims`` parameter) parsed
    and tested on the analyses the notebook already ran (``clu`` for the ESTIMATED metric)."""
    return evaluate_claims(parse_claims(claims), ClaimInputs(ds, imb, ven, mkt, clu))
