"""Render a :class:`ReportPlan`: run notebooks in parallel, then publish the dated folder.

Everything is written into a staging folder under ``--out``; only when every notebook
succeeded is it swapped into ``<out>/<YYYY-MM-DD>/`` (old folder renamed away, staging renamed
in, old folder deleted) and ``index.html`` rewritten. A failure leaves the published reports
and the index as they were; the executed copy of a failing notebook is kept under
``<out>/.failed/<YYYY-MM-DD>/`` for inspection. A run killed outright (``kill -9``) leaves its
staging folder; the next run removes it (:mod:`helpers.report.staging`), never the folder of
a run still rendering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.config import CONFIG_ENV
from helpers.duck import connect_utc
from helpers.errors import UserError
from helpers.plots.style import venues_label, window_label
from helpers.present_downloads import DOWNLOADS_ENV
from helpers.report.execute import NotebookJob, NotebookResult, execute_all, export_all, pool
from helpers.report.index import write_index
from helpers.report.params import CLAIMS
from helpers.report.plan import ReportPlan
from helpers.report.staging import locked, remove_stale, set_aside_name, staging_folder
from helpers.report.summary import (
    SUMMARY_FILE,
    build_summary,
    is_simulated,
    read_summary,
    write_json_atomic,
)
from helpers.store import Store

log = logging.getLogger(__name__)
FAILED_DIR = ".failed"
SOURCE_TABLES = ("liquidations", "liquidation_bars")


def store_sources(
    data_dir: Path,
    start: pd.Timestamp,
    end: pd.Timestamp,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
) -> list[str]:
    """Distinct ``source`` values of liquidation events and bars with ``start <= ts < end``."""
    store = Store(data_dir)
    found: set[str] = set()
    for name in SOURCE_TABLES:
        if not store.has_data(name):
            continue
        sql = (
            f"SELECT DISTINCT source FROM {store.scan(name)} "
            "WHERE date >= ?::DATE AND date <= ?::DATE AND ts >= ? AND ts < ?"
        )
        args: list[Any] = [
            start.strftime("%Y-%m-%d"),
            end.strftime("%Y-%m-%d"),
            start.to_pydatetime(),
            end.to_pydatetime(),
        ]
        if exchanges is not None:
            sql += " AND list_contains(?, exchange)"
            args.append(list(exchanges))
        if symbols is not None:
            sql += " AND list_contains(?, symbol)"
            args.append(list(symbols))
        con = connect_utc()
        try:
            found.update(str(row[0]) for row in con.execute(sql, args).fetchall())
        finally:
            con.close()
    return sorted(found)


def page_context(
    plan: ReportPlan, simulated: bool, pull: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the HTML template shows around every notebook of this report; ``pull`` is
    :meth:`helpers.pull.PullReport.as_json` when the report pulled its window first, and its
    failed sources become a banner on every page."""
    failed = [s for s in (pull or {}).get("sources", []) if s["state"] in ("failed", "partial")]
    return {
        "simulated": simulated,
        "failed_sources": [
            f"{s['name']} ({'partly failed' if s['state'] == 'partial' else 'failed'})"
            for s in failed
        ],
        "failed_details": [f"{s['name']}: {s['state']}, {s['detail']}" for s in failed],
        "report_date": plan.report_date.isoformat(),
        "window": window_label(plan.start, plan.end),
        "venues": venues_label(plan.exchanges),
        "symbols": ", ".join(plan.symbols) if plan.symbols else "all",
        "interval": plan.interval,
        "parameters": [(k, shown_value(k, v)) for k, v in sorted(shown_parameters(plan).items())],
        "index_href": "../index.html",
    }


def shown_value(name: str, value: Any) -> str:
    """A parameter as a page's footer lists it: its repr, or for ``claims`` how many there
    are (the brief's claims table lists them)."""
    if name == CLAIMS and isinstance(value, list):
        return f"{len(value)} claim{'' if len(value) == 1 else 's'}, tested in the brief"
    return repr(value)


def shown_parameters(plan: ReportPlan) -> dict[str, Any]:
    """The parameters as a reader of the report sees them: ``data_dir`` relative to the
    working directory when it lies inside it, so a published page does not show where the
    checkout sits on the server (notebooks still get the absolute path)."""
    shown = dict(plan.params)
    data_dir = Path(shown.get("data_dir", ""))
    with contextlib.suppress(ValueError):
        shown["data_dir"] = data_dir.relative_to(Path.cwd()).as_posix()
    return shown


def window(plan: ReportPlan) -> dict[str, Any]:
    return {
        "start": plan.params["start"],
        "end": plan.params["end"],
        "exchanges": plan.exchanges,
        "symbols": plan.symbols,
        "interval": plan.interval,
    }


def check_replace(plan: ReportPlan) -> None:
    """A one-line :class:`UserError` when ``<out>/<date>/`` holds the report of a different
    window (start, end, exchanges, symbols or interval) and ``plan.replace`` is not set; the
    same window rendered again replaces its folder."""
    if plan.replace or not plan.report_dir.exists():
        return
    old = read_summary(plan.report_dir)
    if old is not None and old.get("window") == window(plan):
        return
    was = old.get("window", {}) if old is not None else {}
    what = (
        f"the window {was.get('start')} .. {was.get('end')}"
        if was
        else "a report whose summary.json cannot be read"
    )
    raise UserError(
        f"{plan.report_dir} already holds {what}, not {plan.params['start']} .. "
        f"{plan.params['end']} (or another selection); pass --replace to replace it"
    )


def publish(staging: Path, target: Path) -> None:
    """Swap ``staging`` in as ``target``: rename the old one away, rename in, delete old."""
    old = None
    if target.exists():
        old = set_aside_name(target)
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def failed_dir(plan: ReportPlan) -> Path:
    """Where executed copies of this date's failing notebooks are kept until a run succeeds."""
    return plan.out_dir / FAILED_DIR / plan.report_date.isoformat()


def keep_failed(plan: ReportPlan, staging: Path, failed: list[NotebookResult]) -> Path:
    """Move the executed copies of failing notebooks to ``<out>/.failed/<date>/``."""
    dest = failed_dir(plan)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    for result in failed:
        executed = staging / f"{result.stem}.ipynb"
        if executed.exists():
            os.replace(executed, dest / executed.name)
    return dest


def notebook_jobs(plan: ReportPlan, staging: Path) -> list[NotebookJob]:
    """One job per notebook; each kernel reads the report's sources config (its
    ``precedence:`` decides which source every notebook's bars come from) and writes the CSV
    downloads of its long tables into ``staging``, beside its page
    (:data:`helpers.present_downloads.DOWNLOADS_ENV`)."""
    env = {DOWNLOADS_ENV: str(staging.resolve())}
    if plan.config is not None:
        env[CONFIG_ENV] = str(plan.config)
    return [
        NotebookJob(
            source=nb.resolve(),
            staging=staging.resolve(),
            parameters=plan.notebook_params[nb.name],
            kernel=plan.kernel,
            log_output=plan.verbose,
            env=env,
        )
        for nb in plan.notebooks
    ]


def summarise(
    plan: ReportPlan,
    results: list[NotebookResult],
    in_store: list[str],
    pull: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``summary.json`` for a report whose notebooks all succeeded."""
    return build_summary(
        report_date=plan.report_date.isoformat(),
        window=window(plan),
        parameters=shown_parameters(plan),
        notebooks={
            r.stem: {
                "title": r.title,
                "html": f"{r.stem}.html",
                "notebook": f"{r.stem}.ipynb",
                "figures": r.figures,
                "sources": r.sources,
            }
            for r in results
        },
        store_sources=in_store,
        pull=pull,
        claims=[c for r in results for c in r.claims],
    )


def render(plan: ReportPlan, pull: Mapping[str, Any] | None = None) -> int:
    """Render every notebook of ``plan``; 0 on success, 1 when any notebook failed. ``pull``
    (:meth:`helpers.pull.PullReport.as_json`) is recorded in ``summary.json`` and its failed
    sources named on every page. A folder holding another window is refused
    (:func:`check_replace`)."""
    check_replace(plan)
    t0 = time.perf_counter()
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    for left in remove_stale(plan.out_dir):
        log.info("cleaned up %s, left by a report run that was killed", left.name)
    in_store = store_sources(plan.data_dir, plan.start, plan.end, plan.exchanges, plan.symbols)
    with staging_folder(plan.out_dir, plan.report_date.isoformat()) as staging:
        jobs = notebook_jobs(plan, staging)
        workers = min(plan.jobs, len(jobs))
        log.info(
            "rendering %d notebooks (%d at once, kernel %s) for %s",
            len(jobs),
            workers,
            plan.kernel,
            plan.report_date,
        )
        with pool(workers, plan.verbose) as executor:
            results = execute_all(executor, jobs)
            if all(r.ok for r in results):
                simulated = is_simulated([*in_store, *(s for r in results for s in r.sources)])
                page = page_context(plan, simulated, pull)
                results = export_all(executor, jobs, results, plan.show_code, page)
        failed = [r for r in results if not r.ok]
        if failed:
            report_failure(plan, staging, failed)
            return 1
        for r in results:
            for ref in r.external:
                log.warning("%s.html references an external asset: %s", r.stem, ref)
        summary = summarise(plan, results, in_store, pull)
        write_json_atomic(staging / SUMMARY_FILE, summary)
        with locked(plan.out_dir):
            check_replace(plan)
            publish(staging, plan.report_dir)
            write_index(plan.out_dir)
        shutil.rmtree(failed_dir(plan), ignore_errors=True)
    log.info(
        "report written to %s in %.1f s%s",
        plan.report_dir,
        time.perf_counter() - t0,
        " (SIMULATED DATA)" if summary["simulated"] else "",
    )
    return 0


def report_failure(plan: ReportPlan, staging: Path, failed: list[NotebookResult]) -> None:
    """One stderr line per failing notebook, then what was (not) written."""
    kept = keep_failed(plan, staging, failed)
    for r in failed:
        print(f"error: notebook {r.stem}.ipynb failed: {r.error}", file=sys.stderr)
    print(
        f"error: report {plan.report_date} not written; previous reports untouched; "
        f"executed copies of failing notebooks in {kept}",
        file=sys.stderr,
    )
