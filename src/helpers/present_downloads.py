"""Tables in a box that fits the page, and long tables cut to their top rows with the full
table as a CSV download beside the page.

A report run (:mod:`helpers.report.render`) tells every notebook kernel where its page is
written through the environment variable :data:`DOWNLOADS_ENV` (the report's staging folder,
published as ``<out>/<YYYY-MM-DD>/``); a long table writes its CSV there and links it by file
name, a relative link that keeps working wherever the dated folder is copied. A notebook run
by hand (exploration, no report folder) writes nothing and says where the full table will be.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

DOWNLOADS_ENV = "LIQNB_DOWNLOADS_DIR"
"""The folder a report writes its pages into; CSV downloads are written beside them."""
BOX_CLASS = "liqnb-table-box"
BOX_STYLE = "overflow-x:auto;max-width:100%"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.csv$")


@dataclass(frozen=True)
class Table:
    """A table ready to display: ``html`` for the page (the table in its own scrolling box,
    and a note under it), ``text`` for a terminal; ``csv`` is the file name of the full
    table's download when one was written, else None."""

    html: str
    text: str
    csv: str | None = None

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text

    def to_html(self) -> str:
        """The page's HTML (as :meth:`pandas.io.formats.style.Styler.to_html`)."""
        return self.html


def downloads_dir() -> Path | None:
    """The folder of the page being rendered (:data:`DOWNLOADS_ENV`), None outside a report
    run or when it names no existing folder."""
    value = os.environ.get(DOWNLOADS_ENV, "").strip()
    if not value:
        return None
    folder = Path(value)
    return folder if folder.is_dir() else None


def csv_name(page: str, name: str) -> str:
    """``<page>_<name>.csv`` (``05_what_to_watch_liquidations_to_oi.csv``): one name per
    table of a page, unique across the pages of a report folder."""
    filename = f"{page}_{name}.csv"
    if not _FILE_NAME.match(filename):
        raise ValueError(f"not a plain CSV file name: {filename!r}")
    return filename


def write_csv(frame: pd.DataFrame, filename: str) -> str | None:
    """Write ``frame`` (all rows, full precision, no index) as ``filename`` beside the page
    being rendered; the relative link to it (the file name), or None outside a report run."""
    if not _FILE_NAME.match(filename):
        raise ValueError(f"not a plain CSV file name: {filename!r}")
    folder = downloads_dir()
    if folder is None:
        return None
    frame.to_csv(folder / filename, index=False)
    return filename


def boxed(styler: Styler, note: str = "") -> str:
    """The Styler's table inside a box that scrolls sideways rather than overflow the page,
    then ``note`` (HTML) under it."""
    return f'<div class="{BOX_CLASS}" style="{BOX_STYLE}">{styler.to_html()}</div>{note}'


def table(styler: Styler) -> Table:
    """A short table, boxed."""
    return Table(boxed(styler), styler.to_string(delimiter="  "))


def with_download(
    styler: Styler, full: pd.DataFrame, filename: str, shown_rows: int, what: str
) -> Table:
    """``styler`` (the top ``shown_rows`` rows of a table of ``len(full)`` rows), boxed, with
    a note naming what is shown (``what``: "bars with the highest ratio") and, when rows were
    left out, a relative link to ``full`` written as ``filename`` beside the page (none
    outside a report run, where the note says so). ``full`` is written as it is: the metric's
    own columns, all rows, full precision."""
    text = styler.to_string(delimiter="  ")
    if shown_rows >= len(full):
        return Table(boxed(styler), text)
    href = write_csv(full, filename)
    head = f"Showing {shown_rows:,} of {len(full):,} rows: {what}."
    if href is None:
        tail = "The full table is a CSV download beside the page when the report is rendered."
        link = html.escape(tail)
    else:
        tail = f"Full table ({len(full):,} rows): {href}"
        link = (
            f'Full table ({len(full):,} rows): <a href="{html.escape(href, quote=True)}" '
            f'download="{html.escape(href, quote=True)}">{html.escape(href)}</a> (CSV).'
        )
    note = f'<p class="liqnb-table-note">{html.escape(head)} {link}</p>'
    return Table(boxed(styler, note), f"{text}\n{head} {tail}", href)
