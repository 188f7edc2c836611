"""``summary.json``: the key figures every notebook displayed, read back from executed notebooks.

Shape::

    {"report_date": "YYYY-MM-DD",
     "window": {"start": ISO, "end": ISO, "exchanges": [...]|null, "symbols": [...]|null,
                "interval": "1h"},
     "simulated": bool, "sources": [...],
     "pull": null | {"sources": [{"name", "state", "detail", "liquidations"}],
                     "failed": [...], "skipped": [...]},
     "parameters": {...},
     "claims": [{"id", "text", "metric", "op", "value", "tolerance", "measured", "unit",
                 "kind", "verdict", "note", "simulated", "page", "href"}],
     "notebooks": {"<file stem>": {"title": ..., "html": "<stem>.html",
                                   "notebook": "<stem>.ipynb",
                                   "figures": {name: {"value", "unit", "label", "kind"}}}}}

``value`` is a number, text or null (missing, never 0); an infinite value is the text
``"inf"``/``"-inf"``. ``simulated`` is true when any notebook's data banner or the store (for
the window) reports the ``demo`` source. ``pull`` is what a ``fetch: true`` run's pull
did, source by source (:meth:`helpers.pull.PullReport.as_json`; ``failed`` also lists the
sources that partly failed), and null when the report pulled nothing. ``claims`` are the
claims the brief tested (:meth:`helpers.metrics.claims.ClaimResult.as_json`, in the order
given; ``measured`` null and ``verdict`` ``"no data"`` when the window holds nothing to
measure), empty when the params list none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.files import write_text_atomic
from helpers.present import MIME_KEYFIGURES, MIME_SOURCES, SIMULATED_SOURCE
from helpers.present_claims import MIME_CLAIMS

if TYPE_CHECKING:
    import nbformat

log = logging.getLogger(__name__)
SUMMARY_FILE = "summary.json"


def data_outputs(nb: nbformat.NotebookNode) -> Iterator[Mapping[str, Any]]:
    """The ``data`` bundle of every rich output (display data and results), in cell order."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result"):
                yield out.get("data", {})


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def key_figures(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """Figures shown with :func:`helpers.present.key_figures`, by name (a later one wins)."""
    figures: dict[str, dict[str, Any]] = {}
    for data in data_outputs(nb):
        if MIME_KEYFIGURES not in data:
            continue
        for f in _as_json(data[MIME_KEYFIGURES]).get("figures", []):
            if f["name"] in figures and figures[f["name"]]["value"] != f["value"]:
                log.warning("key figure %r shown twice with different values", f["name"])
            figures[f["name"]] = {k: f.get(k) for k in ("value", "unit", "label", "kind")}
    return figures


def sources(nb: nbformat.NotebookNode) -> list[str]:
    """Data sources named by :func:`helpers.present.data_banner` calls in ``nb``."""
    found: set[str] = set()
    for data in data_outputs(nb):
        if MIME_SOURCES in data:
            found.update(_as_json(data[MIME_SOURCES]).get("sources", []))
    return sorted(found)


def claims(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Claim results shown with :func:`helpers.present_claims.show_claims`, in cell order."""
    found: list[dict[str, Any]] = []
    for data in data_outputs(nb):
        if MIME_CLAIMS in data:
            found.extend(_as_json(data[MIME_CLAIMS]).get("claims", []))
    return found


def is_simulated(names: Iterable[str]) -> bool:
    return SIMULATED_SOURCE in set(names)


def build_summary(
    *,
    report_date: str,
    window: Mapping[str, Any],
    parameters: Mapping[str, Any],
    notebooks: Mapping[str, Mapping[str, Any]],
    store_sources: Iterable[str],
    pull: Mapping[str, Any] | None = None,
    claims: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The summary document; ``notebooks`` maps stem -> {title, html, notebook, figures,
    sources}; ``pull`` the pull's statuses, if the report pulled its window; ``claims`` the
    claim results the notebooks showed."""
    all_sources = set(store_sources)
    for entry in notebooks.values():
        all_sources.update(entry.get("sources", []))
    return {
        "report_date": report_date,
        "window": dict(window),
        "simulated": is_simulated(all_sources),
        "sources": sorted(all_sources),
        "pull": dict(pull) if pull is not None else None,
        "parameters": dict(parameters),
        "claims": [dict(c) for c in claims],
        "notebooks": {
            stem: {k: entry[k] for k in ("title", "html", "notebook", "figures")}
            for stem, entry in notebooks.items()
        },
    }


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as strict JSON (no NaN) to ``path`` through a temporary file and rename."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def read_summary(folder: Path) -> dict[str, Any] | None:
    """The summary in a dated report folder, or ``None`` when absent or unreadable."""
    try:
        return json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
