"""Reading claims: the ``claims:`` parameter's mappings as :class:`Claim` objects, with a
one-line :class:`ClaimError` for anything that cannot be tested as written.

The format (metrics, comparisons, values, tolerances) is described in
:mod:`helpers.metrics.claims`, which tests parsed claims against the window.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from helpers.metrics.claim_metrics import METRICS, Metric

Op = Literal[">", "<", ">=", "<=", "about"]
OPS: tuple[Op, ...] = get_args(Op)

DEFAULT_TOLERANCE = 0.15
"""``about`` without a tolerance: within 15 % of the claimed value."""

HOURLY_PREFIX, BAR_PREFIX = "worst_hour.", "worst_bar."
"""``worst_hour.*`` is ``worst_bar.*`` on a report whose interval is ``1h``."""

KEYS = ("id", "text", "metric", "op", "value", "tolerance", "page")
_METRIC = re.compile(r"^(?P<name>[a-z_][a-z0-9_.]*)(?:\[(?P<arg>[^\[\]]*)\])?$")
_AMOUNT = re.compile(
    r"^(?P<sign>[-+])?\s*(?P<dollar>\$)?\s*(?P<num>\d[\d,]*(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+)"
    r"\s*(?P<suffix>[kmbt%])?$",
    re.IGNORECASE,
)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_ID = re.compile(r"^[A-Za-z0-9][\w.-]*$")
_VENUE = re.compile(r"^[a-z0-9][a-z0-9+]*$")
_COIN = re.compile(r"^[A-Z0-9]+$")
_TOP = re.compile(r"^(?:top\s*=\s*)?(?P<n>\d+)$")


class ClaimError(ValueError):
    """A claim that cannot be tested as written; the message is one line."""


@dataclass(frozen=True)
class Tolerance:
    """How close ``about`` must come: ``amount`` is a fraction of the claimed value when
    ``relative`` (0.15 = within 15 %), else an amount in the metric's unit (USD)."""

    amount: float
    relative: bool = True

    def allowed(self, claimed: float) -> float:
        """The largest ``|measured - claimed|`` that still supports the claim."""
        return self.amount * abs(claimed) if self.relative else self.amount

    def as_json(self) -> dict[str, Any]:
        return {"amount": self.amount, "relative": self.relative}


@dataclass(frozen=True)
class Claim:
    """One statement to test. ``metric`` is a name of :data:`METRICS` (``worst_hour.*``
    written by the user is kept in ``written`` and stored as ``worst_bar.*``), ``arg`` its
    bracketed argument (venue id, coin symbol or top-N count), ``value`` the claimed number
    in the metric's unit (USD, a fraction, a count); ``tolerance`` is set for ``about``
    only; ``page`` is the notebook stem that shows the figure; ``position`` the claim's
    index in the params list."""

    id: str
    text: str
    metric: str
    arg: str | None
    op: Op
    value: float
    tolerance: Tolerance | None
    page: str
    written: str
    position: int = 0

    @property
    def spec(self) -> Metric:
        return METRICS[self.metric]

    @property
    def hourly(self) -> bool:
        """Written as ``worst_hour.*``: the report's bars must be hours."""
        return self.written.startswith(HOURLY_PREFIX)

    @property
    def where(self) -> str:
        """``claims[2] (binance-longs)``: where the claim sits in the params, for messages."""
        return f"claims[{self.position}] ({self.id})"


def parse_claims(raw: object) -> list[Claim]:
    """The ``claims:`` parameter (a list of mappings, see the module docstring) as
    :class:`Claim` objects; :class:`ClaimError` with a one-line message naming the claim
    for anything that cannot be tested as written. ``None`` is no claims."""
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise ClaimError(f"claims: expected a list (- text: ..., metric: ...), got {raw!r}")
    claims = [parse_claim(item, i) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise ClaimError(f"{c.where}: id {c.id!r} is used twice; give each claim its own")
        seen.add(c.id)
    return claims


def parse_claim(item: object, position: int = 0) -> Claim:
    """One claim mapping (keys :data:`KEYS`) as a :class:`Claim`."""
    where = f"claims[{position}]"
    if not isinstance(item, Mapping):
        raise ClaimError(f"{where}: expected a mapping with text, metric, op, value; got {item!r}")
    if item.get("id") is not None:
        where += f" ({item['id']})"
    unknown = sorted(str(k) for k in item if k not in KEYS)
    if unknown:
        raise ClaimError(
            f"{where}: unknown key {', '.join(unknown)}; a claim has {', '.join(KEYS)}"
        )
    missing = [k for k in ("text", "metric", "op", "value") if item.get(k) in (None, "")]
    if missing == ["op"] and "op" in item:
        raise ClaimError(f'{where}: op is empty; quote it in YAML (op: ">"), one of {_ops()}')
    if missing:
        raise ClaimError(
            f"{where}: {', '.join(missing)} missing; a claim needs text, metric, op, value"
        )
    claim_id = str(item.get("id") or f"claim-{position + 1}")
    if not _ID.match(claim_id):
        raise ClaimError(f"{where}: id {claim_id!r}: use letters, digits, '-', '_' or '.'")
    written = str(item["metric"]).strip()
    metric, arg = parse_metric(written, where)
    op = parse_op(item["op"], where)
    spec = METRICS[metric]
    value = parse_amount(item["value"], spec.unit, f"{where}: value")
    tolerance = parse_tolerance(item.get("tolerance"), op, spec.unit, where)
    page = str(item.get("page") or spec.page)
    if not _ID.match(page):
        raise ClaimError(f"{where}: page {page!r} is not a notebook name such as {spec.page}")
    return Claim(
        claim_id, str(item["text"]), metric, arg, op, value, tolerance, page, written, position
    )


def parse_metric(written: str, where: str = "claim") -> tuple[str, str | None]:
    """``worst_hour.venue_longs_usd[Binance]`` -> (``worst_bar.venue_longs_usd``,
    ``binance``): the :data:`METRICS` name and its argument, normalised (venue ids lower
    case, coins upper case, ``top=N`` as ``N``)."""
    m = _METRIC.match(written)
    name = m["name"] if m else ""
    if name.startswith(HOURLY_PREFIX):
        name = BAR_PREFIX + name.removeprefix(HOURLY_PREFIX)
    if m is None or name not in METRICS:
        raise _unknown_metric(written, name, where)
    spec, arg = METRICS[name], m["arg"]
    if arg is None:
        if spec.arg in ("venue", "coin"):
            raise ClaimError(f"{where}: {written} needs a {spec.arg}: {_shape(name, spec)}")
        return name, None
    if spec.arg is None:
        raise ClaimError(f"{where}: {name.split('[')[0]} takes no [argument]")
    return name, _normalise_arg(arg.strip(), name, spec, where)


def _normalise_arg(arg: str, name: str, spec: Metric, where: str) -> str:
    if spec.arg == "venue" and _VENUE.match(arg.lower()):
        return arg.lower()
    if spec.arg == "coin" and _COIN.match(arg.upper()):
        return arg.upper()
    top = _TOP.match(arg)
    if spec.arg == "top" and top and int(top["n"]) >= 1:
        return top["n"]
    raise ClaimError(f"{where}: bad argument [{arg}] of {name}; write {_shape(name, spec)}")


_FORMS = {"venue": "venue", "coin": "coin", "top": "top=N"}
_EXAMPLES = {"venue": "binance", "coin": "BTC", "top": "top=10"}


def _shape(name: str, spec: Metric) -> str:
    return f"{name}[{_EXAMPLES[str(spec.arg)]}]"


def parse_op(raw: object, where: str = "claim") -> Op:
    """One of :data:`OPS` (``about`` in any case)."""
    text = str(raw).strip().lower()
    if text not in OPS:
        raise ClaimError(f"{where}: unknown op {raw!r}; use one of {_ops()}")
    return text


def parse_amount(raw: object, unit: str = "USD", what: str = "value") -> float:
    """A claimed number in ``unit``: a YAML number, or text ``$230M``, ``1.71T``, ``3.5e6``,
    ``50%`` (a fraction, for ``fraction`` metrics only). A ``$`` is for USD metrics only."""
    if isinstance(raw, bool):
        raise ClaimError(f"{what}: expected a number, got {raw!r}")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        m = _AMOUNT.match(str(raw).strip())
        if m is None:
            raise ClaimError(f"{what}: cannot read {raw!r} as a number such as 230e6, $230M, 50%")
        suffix = (m["suffix"] or "").lower()
        if m["dollar"] and unit != "USD":
            raise ClaimError(f"{what}: {raw!r} is in dollars, but the metric is a {unit}")
        if suffix == "%" and unit != "fraction":
            raise ClaimError(f"{what}: {raw!r} is a percent, but the metric is in {unit}")
        number = float(m["num"].replace(",", "")) * (
            0.01 if suffix == "%" else _SCALE.get(suffix, 1)
        )
        number = -number if m["sign"] == "-" else number
    if not math.isfinite(number):
        raise ClaimError(f"{what}: expected a finite number, got {raw!r}")
    return number


def parse_tolerance(raw: object, op: Op, unit: str, where: str = "claim") -> Tolerance | None:
    """``about``'s tolerance: a plain number or ``N%`` is relative (a fraction of the
    claimed value); ``$5M`` or a suffixed amount (``5M``) is absolute in ``unit``;
    :data:`DEFAULT_TOLERANCE` when absent. None for the other ops, which take none."""
    if op != "about":
        if raw is not None:
            raise ClaimError(f"{where}: tolerance applies to op about only, not {op!r}")
        return None
    if raw is None:
        return Tolerance(DEFAULT_TOLERANCE)
    m = None if isinstance(raw, int | float) else _AMOUNT.match(str(raw).strip())
    relative = m is None or not (m["dollar"] or m["suffix"] not in (None, "%"))
    amount = parse_amount(raw, "fraction" if relative else unit, f"{where}: tolerance")
    if amount < 0 or (relative and amount > 1):
        raise ClaimError(
            f"{where}: tolerance {raw!r}: a fraction from 0 to 1 (0.15 = 15%) or an amount ($5M)"
        )
    return Tolerance(amount, relative)


def check_claims_context(claims: Sequence[Claim], interval: str, pages: Sequence[str]) -> None:
    """Claims that fit the report: ``worst_hour.*`` needs ``interval`` 1h, and a ``page``
    must be one of the report's notebook stems (a metric's default page is not checked, so
    a report without that page still tests the claim)."""
    for c in claims:
        if c.hourly and interval != "1h":
            bar = c.written.replace(HOURLY_PREFIX, BAR_PREFIX, 1)
            raise ClaimError(
                f"{c.where}: {c.written} needs interval 1h, the report's is {interval}; use {bar}"
            )
        if c.page != c.spec.page and c.page not in pages:
            raise ClaimError(
                f"{c.where}: page {c.page!r} is not a notebook of this report "
                f"(known: {', '.join(pages)})"
            )


def _ops() -> str:
    return ", ".join(OPS)


def _unknown_metric(written: str, name: str, where: str) -> ClaimError:
    shown = {n.replace(BAR_PREFIX, HOURLY_PREFIX, 1): m for n, m in METRICS.items()}
    close = difflib.get_close_matches(name.replace(BAR_PREFIX, HOURLY_PREFIX, 1), shown, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    known = ", ".join(f"{n}[{_FORMS[m.arg]}]" if m.arg else n for n, m in shown.items())
    return ClaimError(
        f"{where}: unknown metric {written!r}{hint}; known: {known} (worst_bar.* on any interval)"
    )
