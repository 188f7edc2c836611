"""The claims table the brief shows (:mod:`helpers.metrics.claims`), and its JSON payload.

One row per claim: the statement as written, what was tested, the measured value with its
unit (``$231.4M``, ``$1.66T``, ``72.0%``), the verdict in words and in colour, whether the
figure is realised or ESTIMATED (and SIMULATED on simulated data), a note on what was
measured, and a link to the page that shows the figure. Claim text comes from the params
file and is HTML-escaped. The payload, under :data:`MIME_CLAIMS`, is read back into
``summary.json`` (:mod:`helpers.report.summary`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import display

from helpers.metrics.claims import NO_DATA, NOT_SUPPORTED, SUPPORTED, ClaimResult
from helpers.units import fmt_usd_sig

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

MIME_CLAIMS = "application/vnd.liqnb.claims+json"
COLUMNS = ("Claim", "Tested", "Measured", "Verdict", "Figure", "Note", "Page")
_TEXT_COLUMNS: list[Hashable] = [c for c in COLUMNS if c != "Page"]
VERDICT_STYLE = {
    SUPPORTED: "background-color:#e6f4ea;color:#0d652d;font-weight:700",
    NOT_SUPPORTED: "background-color:#fce8e6;color:#a50e0e;font-weight:700",
    NO_DATA: "background-color:#f1f3f4;color:#5f6368;font-style:italic",
}
NO_CLAIMS_TEXT = (
    "No claims to test: list them under claims: in the params file (see params/article.yaml)."
)


PAGE_TITLES = {
    "00_summary": "Brief",
    "01_liquidation_imbalance": "Liquidation imbalance",
    "02_venue_breakdown": "Venue breakdown",
    "03_market_heatmap": "Market-cap heatmap",
    "04_clusters_support": "Clusters and support",
    "05_what_to_watch": "What to watch",
}
"""Short link text of the report's pages; another page is named from its file stem."""


def usd_text(value: float, compact: bool = False) -> str:
    """US dollars with three significant figures at least (:func:`helpers.units.fmt_usd_sig`,
    as key figures show them): ``$231.4M``, ``$1.66T``, ``$3.50M``, ``$0``; ``compact``
    drops trailing zeros (``$230M``, ``$3.5M``), as a claimed round figure is written."""
    text = fmt_usd_sig(value)
    return _drop_zeros(text) if compact else text


def _drop_zeros(text: str) -> str:
    m = re.match(r"^(.*?\d)(\.\d*?)0+([^\d]*)$", text)
    if m is None:
        return text
    head, decimals, tail = m.groups()
    return head + (decimals if decimals != "." else "") + tail


def amount_text(value: float | None, unit: str, compact: bool = False) -> str:
    """A measured (or, ``compact``, claimed) value in its unit: ``$231.4M``, ``72.0%``,
    ``25``; ``missing`` for None."""
    if value is None:
        return "missing"
    if unit == "USD":
        return usd_text(value, compact)
    if unit == "fraction":
        text = f"{value * 100:.1f}%"
        return _drop_zeros(text) if compact else text
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def tested_text(r: ClaimResult) -> str:
    """``worst_hour.longs_usd > $230.0M``; ``about`` with its tolerance (``±15%``)."""
    c = r.claim
    test = f"{c.written} {c.op} {amount_text(c.value, r.unit, compact=True)}"
    if c.tolerance is not None:
        t = c.tolerance
        within = f"{t.amount * 100:g}%" if t.relative else amount_text(t.amount, r.unit, True)
        test += f" (±{within})"
    return test


def figure_text(r: ClaimResult) -> str:
    """``realised`` or ``ESTIMATED``, with ``, SIMULATED`` on the simulator's data."""
    kind = "ESTIMATED" if r.kind == "estimated" else r.kind
    return f"{kind}, SIMULATED" if r.simulated else kind


def page_label(stem: str) -> str:
    """:data:`PAGE_TITLES`, else the stem without its number (``06_funding_map`` ->
    ``Funding map``)."""
    if stem in PAGE_TITLES:
        return PAGE_TITLES[stem]
    words = stem.split("_")
    if words and words[0].isdigit():
        words = words[1:]
    return " ".join(words).capitalize() or stem


def claims_frame(results: Sequence[ClaimResult]) -> pd.DataFrame:
    """The table as plain text, one row per claim, columns :data:`COLUMNS` (``Page`` holds
    the notebook stem)."""
    rows = [
        {
            "Claim": r.claim.text,
            "Tested": tested_text(r),
            "Measured": amount_text(r.measured, r.unit),
            "Verdict": r.verdict,
            "Figure": figure_text(r),
            "Note": r.note,
            "Page": r.claim.page,
        }
        for r in results
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _link(stem: object) -> str:
    href = html.escape(f"{stem}.html", quote=True)
    return f'<a href="{href}">{html.escape(page_label(str(stem)))}</a>'


def claims_styler(results: Sequence[ClaimResult]) -> Styler:
    """The table for the page: no index column, every text escaped, the verdict coloured
    (and in words), the page a link."""
    frame = claims_frame(results)
    return (
        frame.style.set_uuid("claims")
        .hide(axis="index")
        .format(escape="html", subset=_TEXT_COLUMNS)
        .format(_link, subset=["Page"])
        .map(lambda v: VERDICT_STYLE.get(v, ""), subset=["Verdict"])
        .set_properties(subset=["Measured", "Verdict", "Figure"], **{"white-space": "nowrap"})
        .set_table_attributes('class="liqnb-claims"')
        .set_caption("Claims tested against this window")
        .set_table_styles(
            [
                {"selector": "th", "props": "text-align:left;padding:0.3em 0.6em"},
                {"selector": "td", "props": "text-align:left;padding:0.3em 0.6em"},
                {"selector": "caption", "props": "caption-side:top;font-weight:700"},
            ]
        )
    )


def claims_payload(results: Sequence[ClaimResult]) -> dict[str, object]:
    """``{"claims": [...]}``, each :meth:`ClaimResult.as_json`."""
    return {"claims": [r.as_json() for r in results]}


def show_claims(results: Sequence[ClaimResult]) -> None:
    """Show the claims table (or a line saying there are none) and attach the results for
    ``summary.json``."""
    if results:
        body = claims_styler(results).to_html()
        text = claims_frame(results).drop(columns=["Note"]).to_string(index=False)
    else:
        body = f'<p class="liqnb-claims-none">{html.escape(NO_CLAIMS_TEXT)}</p>'
        text = NO_CLAIMS_TEXT
    display({"text/html": body, "text/plain": text, MIME_CLAIMS: claims_payload(results)}, raw=True)
