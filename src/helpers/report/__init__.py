"""Render every notebook into a dated, self-contained HTML report.

Parameters come from a YAML file (--params) and -p NAME=VALUE overrides and are checked before
any kernel starts. Each notebook runs with papermill (in parallel), receiving only the
parameters it declares. Times are ISO 8601 (UTC) or today, yesterday, now with an optional
offset such as today-7d. Output: <out>/<YYYY-MM-DD>/ with the executed notebooks, one HTML page
each and summary.json; <out>/index.html links every dated report. See docs/scheduling.md.
"""

from __future__ import annotations

from helpers.report.plan import ReportPlan, prepare
from helpers.report.render import render

__all__ = ["ReportPlan", "prepare", "render"]
