"""``reports/index.html``: every dated report, newest first, one self-contained page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from helpers.files import write_text_atomic
from helpers.plots.style import window_label
from helpers.report.summary import read_summary

INDEX_FILE = "index.html"
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a;
  max-width: 60em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.report { border-top: 1px solid #ddd; padding: 0.8em 0; }
.report h2 { font-size: 1.2em; margin: 0 0 0.2em 0; }
.meta { color: #555; font-size: 0.9em; }
.simulated { display: inline-block; background: #b00020; color: #fff; font-weight: 700;
  padding: 0.1em 0.5em; border-radius: 3px; font-size: 0.85em; margin-left: 0.5em; }
ul { margin: 0.3em 0; }
"""


def dated_reports(out_dir: Path) -> list[Path]:
    """The ``YYYY-MM-DD`` folders under ``out_dir``, newest first."""
    if not out_dir.is_dir():
        return []
    return sorted(
        (p for p in out_dir.iterdir() if p.is_dir() and _DATED.match(p.name)),
        key=lambda p: p.name,
        reverse=True,
    )


def _links(folder: Path, summary: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(href relative to the index, title) for each notebook page of a dated report."""
    if summary and isinstance(summary.get("notebooks"), dict):
        return [
            (f"{folder.name}/{entry['html']}", entry.get("title") or stem)
            for stem, entry in summary["notebooks"].items()
            if (folder / entry.get("html", "")).is_file()
        ]
    return [(f"{folder.name}/{p.name}", p.stem) for p in sorted(folder.glob("*.html"))]


def _window(w: dict[str, Any]) -> str:
    try:
        return window_label(w["start"], w["end"])
    except (KeyError, TypeError, ValueError):
        return "window unknown"


def _entry(folder: Path) -> str:
    summary = read_summary(folder)
    esc = html.escape
    badge = ""
    meta = ""
    if summary:
        if summary.get("simulated"):
            badge = '<span class="simulated">SIMULATED DATA</span>'
        w = summary.get("window", {})
        venues = ", ".join(w.get("exchanges") or []) or "all venues"
        symbols = ", ".join(w.get("symbols") or []) or "all symbols"
        sources = ", ".join(summary.get("sources") or []) or "no data"
        meta = (
            f'<div class="meta">{esc(_window(w))} '
            f"&middot; {esc(venues)} &middot; {esc(symbols)} &middot; interval "
            f"{esc(str(w.get('interval')))} &middot; sources: {esc(sources)}</div>"
        )
    items = "".join(
        f'<li><a href="{esc(href, quote=True)}">{esc(title)}</a></li>'
        for href, title in _links(folder, summary)
    )
    return (
        f'<section class="report" id="r-{folder.name}"><h2>{folder.name}{badge}</h2>'
        f"{meta}<ul>{items}</ul></section>"
    )


def index_html(out_dir: Path) -> str:
    """The index page for the reports under ``out_dir`` (inline CSS, no scripts)."""
    entries = [_entry(folder) for folder in dated_reports(out_dir)]
    body = "\n".join(entries) or "<p>No reports yet.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Liquidation reports</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        "<h1>Liquidation reports</h1>\n"
        '<p class="meta">Dated reports rendered by <code>python -m helpers report</code>, '
        "newest first. Reports marked SIMULATED DATA are built on the project's market "
        "simulator, not on market data.</p>\n"
        f"{body}\n</body>\n</html>\n"
    )


def write_index(out_dir: Path) -> Path:
    """Rewrite ``out_dir/index.html`` atomically; returns its path."""
    path = out_dir / INDEX_FILE
    write_text_atomic(path, index_html(out_dir))
    return path
