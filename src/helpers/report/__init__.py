"""Render every notebook into a dated, self-contained HTML report.

Parameters come from a YAML file (--params) and -p NAME=VALUE overrides and are checked before
any kernel starts. Each notebook runs with papermill (in parallel), receiving only the
parameters it declares. Times are ISO 8601 (UTC) or today, yesterday, now with an optional
offset such as today-7d. Output: <out>/<YYYY-MM-DD>/ with the executed notebooks, one HTML page
each and summary.json; <out>/index.html links every dated report. See docs/scheduling.md.
"""

from __future__ import annotations

import sys

from helpers.report.plan import ReportPlan, prepare
from helpers.report.render import render

# nbformat (papermill, nbconvert) imports jsonschema, which imports rfc3987_syntax when it is
# installed (jupyter-events asks for jsonschema[format-nongpl]); that compiles 39 Lark grammars
# at import, about 2.8 s in every process that reads a notebook: the report command and each
# of its workers. They serve the "iri" format check, which nbformat never runs (it validates
# with no format checker). Marked absent, jsonschema does without that check.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


__all__ = ["ReportPlan", "prepare", "render"]
