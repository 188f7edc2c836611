"""The data banner at the top of every notebook page, and what a page shows instead of an
empty chart.

One call in each notebook's first code cell, ``data_banner(ds)`` (re-exported by
:func:`helpers.present.data_banner`), shows what the page's numbers rest on
(:func:`helpers.metrics.coverage.data_banner` over the loaded bars, by venue FAMILY,
:mod:`helpers.metrics.families`):

* the venues, named as analysts name them ("Binance", never ``binanceusdm``);
* for each venue, the source(s) its numbers came from, each with its share of the venue's
  bars ("Coinalyze 75%, recorded stream events 25%", :func:`helpers.precedence.source_name`);
* the share of (venue, symbol) bars observed in the window;
* SIMULATED DATA, in red, when any source is the simulator;
* NO DATA with what the store does hold and what to change
  (:func:`helpers.inventory.no_data_lines`) when the window, interval or venues match no
  liquidation data.

The display also carries the facts as JSON under :data:`helpers.present.MIME_SOURCES`
(ids, not names), which :mod:`helpers.report.summary` reads back.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from IPython.display import display

from helpers.dataset import Dataset
from helpers.inventory import no_data_lines
from helpers.metrics.coverage import DataBanner
from helpers.metrics.coverage import data_banner as banner_facts
from helpers.metrics.families import family_rows, family_window
from helpers.precedence import source_name
from helpers.present import (
    MIME_SOURCES,
    NO_DATA_STYLE,
    SIMULATED_SOURCE,
    SIMULATED_STYLE,
    SIMULATED_TEXT,
    SOURCES_STYLE,
)
from helpers.venues import display_name

_DETAIL_STYLE = "font-weight:400;font-size:0.85em;margin:0.3em 0 0 0;"
_TABLE_STYLE = "font-weight:400;font-size:0.85em;border-collapse:collapse;margin:0.4em 0 0 0;"
_CELL_STYLE = "padding:0.1em 1em 0.1em 0;text-align:left;background:transparent;"
_ROW_STYLE = "background:transparent;"


def family_banner(ds: Dataset) -> DataBanner:
    """The banner facts of ``ds`` with venues grouped by family (ids such as ``binance``)."""
    return banner_facts(family_rows(ds.bars()), family_window(ds.window))


def source_shares_text(shares: Mapping[str, float]) -> str:
    """``Coinalyze 75%, recorded stream events 25%``: sources by page name, largest share
    first; sources with the same name are added."""
    named: dict[str, float] = {}
    for source, share in shares.items():
        named[source_name(source)] = named.get(source_name(source), 0.0) + share
    ordered = sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {share:.0%}" for name, share in ordered)


def coverage_text(b: DataBanner) -> str:
    """``Observed: 97.9% of (venue, symbol) bars (47 of 48: 4 pairs x 12 bars).``"""
    if not b.cells:
        return "Observed: no (venue, symbol) bar expected."
    return (
        f"Observed: {b.observed_share:.1%} of (venue, symbol) bars ({b.observed_cells:,} of "
        f"{b.cells:,}: {b.pairs} pairs x {b.bars} bars)."
    )


def other_lines(other: Mapping[str, Iterable[str]] | None) -> list[str]:
    """One line per further kind of data a page shows: ``Market caps: CoinGecko snapshot``."""
    lines = []
    for what, sources in (other or {}).items():
        names = sorted({source_name(str(s)) for s in sources})
        lines.append(f"{what}: {', '.join(names) if names else 'none in the window'}")
    return lines


def _shares_of(b: DataBanner, venue: str) -> str:
    return source_shares_text(b.sources.get(venue, {})) or "no bars in the window"


def venue_line(b: DataBanner, venue: str) -> str:
    """``Binance: Coinalyze 100%``."""
    return f"{display_name(venue)}: {_shares_of(b, venue)}"


def banner_lines(b: DataBanner, other: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """The banner as text: one line per venue (:func:`venue_line`), the coverage line
    (:func:`coverage_text`) and :func:`other_lines`."""
    return [*(venue_line(b, v) for v in b.venues), coverage_text(b), *other_lines(other)]


def _venue_table(b: DataBanner) -> str:
    rows = ""
    for v in b.venues:
        rows += (
            f'<tr data-venue="{html.escape(v)}" style="{_ROW_STYLE}"><td style="{_CELL_STYLE}">'
            f"{html.escape(display_name(v))}</td>"
            f'<td style="{_CELL_STYLE}">{html.escape(_shares_of(b, v))}</td></tr>'
        )
    head = (
        f'<tr style="{_ROW_STYLE}"><th style="{_CELL_STYLE}">Venue</th>'
        f'<th style="{_CELL_STYLE}">Source (share of the venue\'s bars)</th></tr>'
    )
    return f'<table class="liqnb-banner-venues" style="{_TABLE_STYLE}">{head}{rows}</table>'


def _detail(css: str, text: str) -> str:
    return f'<p class="{css}" style="{_DETAIL_STYLE}">{html.escape(text)}</p>'


def banner_html(
    b: DataBanner, other: Mapping[str, Iterable[str]] | None = None, no_data: Iterable[str] = ()
) -> str:
    """The banner's HTML: SIMULATED DATA (red), data sources (blue) or NO DATA (orange) as
    its title, then the venue table, coverage and ``other`` lines, or the ``no_data``
    lines."""
    simulated = payload(b, other, [])["simulated"]
    reasons = list(no_data)
    if reasons:
        css, style, title = "liqnb-no-data", NO_DATA_STYLE, reasons[0]
        body = "".join(_detail("liqnb-inventory", line) for line in reasons[1:])
    else:
        css, style = ("liqnb-simulated", SIMULATED_STYLE) if simulated else (
            "liqnb-sources", SOURCES_STYLE)  # fmt: skip
        title = SIMULATED_TEXT if simulated else "Data sources"
        body = _venue_table(b) + _detail("liqnb-coverage", coverage_text(b))
    body += "".join(_detail("liqnb-other", line) for line in other_lines(other))
    return (
        f'<div class="liqnb-banner {css}" role="note" style="{style}">'
        f'<div class="liqnb-banner-title">{html.escape(title)}</div>{body}</div>'
    )


def payload(
    b: DataBanner, other: Mapping[str, Iterable[str]] | None, no_data: list[str]
) -> dict[str, Any]:
    """The banner's JSON (:data:`helpers.present.MIME_SOURCES`): ``sources`` (every source
    shown, ids), ``simulated``, ``venues`` (family ids), ``source_shares`` (venue -> source
    -> fraction), ``observed_share`` (null without cells) and ``no_data`` (the lines)."""
    sources = sorted({*b.all_sources, *(str(s) for v in (other or {}).values() for s in v)})
    return {
        "sources": sources,
        "simulated": SIMULATED_SOURCE in sources,
        "venues": list(b.venues),
        "source_shares": b.sources,
        "observed_share": b.observed_share if b.cells else None,
        "no_data": no_data,
    }


def page_banner(ds: Dataset, other: Mapping[str, Iterable[str]] | None = None) -> None:
    """Show the data banner of ``ds`` (module docstring); ``other`` names further data the
    page shows and its sources (``{"Market caps": result.sources}``)."""
    b = family_banner(ds)
    no_data = [] if len(ds.bars()) else no_data_lines(ds.store, ds.window)
    text = "\n".join([*no_data, *other_lines(other)] if no_data else banner_lines(b, other))
    display(
        {
            "text/html": banner_html(b, other, no_data),
            "text/plain": text,
            MIME_SOURCES: payload(b, other, no_data),
        },
        raw=True,
    )


def no_data_note(ds: Dataset) -> None:
    """What a page shows in place of a chart of ``ds`` when it has no liquidation data: the
    NO DATA line and what to change (the banner at the top lists what the store holds)."""
    lines = no_data_lines(ds.store, ds.window)
    shown = [lines[0], lines[-1]] if len(lines) > 1 else lines
    body = "".join(_detail("liqnb-inventory", line) for line in shown)
    display(
        {
            "text/html": f'<div class="liqnb-no-data-chart" role="note" style="{NO_DATA_STYLE}">'
            f"{body}</div>",
            "text/plain": "\n".join(shown),
        },
        raw=True,
    )
