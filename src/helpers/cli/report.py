"""``report``: validate the parameters, fill the store if asked, build bars, render."""

from __future__ import annotations

import argparse
import logging
import sys

import pandas as pd

from helpers import aggregate
from helpers.cli import options as o
from helpers.config import load_config
from helpers.inventory import no_data_lines
from helpers.pull import EXIT_NO_DATA, PullReport, pull_window
from helpers.report import ReportPlan, prepare, render
from helpers.report.plan import DEFAULT_KERNEL, FALLBACK_KERNEL
from helpers.report.render import check_replace
from helpers.sources.demo import write_demo
from helpers.sources.retry import RetryPolicy
from helpers.store import Store
from helpers.timegrid import Window

log = logging.getLogger("helpers.report")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``report`` command's options (``--data-dir`` and ``-v`` come from the CLI)."""
    parser.add_argument("--params", metavar="FILE", help="YAML file of parameters (see params/)")
    parser.add_argument(
        "-p",
        "--param",
        dest="param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one parameter; VALUE is YAML (null, 5, [okx, bybit]); repeatable",
    )
    parser.add_argument(
        "--notebooks", default="notebooks", metavar="DIR", help="notebooks (default: %(default)s)"
    )
    parser.add_argument(
        "--out", default="reports", metavar="DIR", help="reports folder (default: %(default)s)"
    )
    parser.add_argument("--show-code", action="store_true", help="keep code cells in the HTML")
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="notebooks run at once (default: CPUs)"
    )
    parser.add_argument(
        "--kernel",
        default=None,
        metavar="NAME",
        help=f"Jupyter kernel (default: {DEFAULT_KERNEL} if installed, else {FALLBACK_KERNEL})",
    )
    parser.add_argument(
        "--date",
        default=None,
        metavar="YYYY-MM-DD",
        help="report date (default: the UTC date of the window's last instant)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="sources config: what fetch: true pulls, and the precedence: by which every "
        "notebook keeps one source per venue and bar (default: config/sources.yaml)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the dated folder even when it holds the report of another window",
    )
    o.add_retries(parser, "request of fetch: true")
    parser.epilog = (
        "exit status: 0 when the report was written; 1 when a notebook failed; 2 for bad "
        "input (including a dated folder that holds another window, without --replace); "
        f"{EXIT_NO_DATA} when fetch: true and every source failed or the window has no "
        "liquidation data (nothing is published)"
    )


def run_report(args: argparse.Namespace) -> int:
    """Validate the report parameters; fill the store (``fetch: true`` pulls the window from
    every source, ``demo:`` simulates into an empty store); build the window's bars once from
    stored events; then render every notebook (which read those bars, never raw events in
    bulk).

    A ``fetch: true`` run fails loudly: when every source failed or the window has no
    liquidation data, it prints one error line, publishes nothing and returns
    :data:`~helpers.pull.EXIT_NO_DATA`; when some sources failed, every page names them.
    When the window, interval or venues match no liquidation data (and the report is not
    refused), it says on stderr what the store holds and what to change
    (:func:`helpers.inventory.no_data_lines`), as every page's NO DATA banner does."""
    plan = prepare(args)
    check_replace(plan)
    store = Store(plan.data_dir)
    window = Window.of(plan.start, plan.end, plan.exchanges, plan.symbols, plan.interval)
    pulled = None
    if plan.fetch:
        pulled = _pull_for_report(store, plan, args)
        print(pulled.render())
        problem = pulled.problem()
        if problem is not None:
            print(f"error: report {plan.report_date} not written: {problem}", file=sys.stderr)
            if not pulled.every_source_failed:
                _say_what_the_store_holds(store, window)
            return EXIT_NO_DATA
    elif plan.demo is not None and not store.has_data("liquidations"):
        for result in write_demo(store, plan.demo["scenario"], plan.demo["seed"]).values():
            log.info("SIMULATED %s", result)
    built = aggregate.build_bars(
        store, plan.interval, plan.start, plan.end, plan.exchanges, plan.symbols
    )
    log.info("bars for the window: %s", built)
    if aggregate.load_bars(store, plan.start, plan.end, plan.exchanges, plan.symbols,
                           plan.interval, precedence=()).empty:  # fmt: skip
        _say_what_the_store_holds(store, window)
    return render(plan, pulled.as_json() if pulled is not None else None)


def _say_what_the_store_holds(store: Store, window: Window) -> None:
    """The NO DATA lines (:func:`helpers.inventory.no_data_lines`) on stderr, the first as a
    warning: what the window asked for, what the store holds and what to change."""
    first, *rest = no_data_lines(store, window)
    print(f"warning: {first}", file=sys.stderr)
    for line in rest:
        print(f"  {line}", file=sys.stderr)


def _pull_for_report(store: Store, plan: ReportPlan, args: argparse.Namespace) -> PullReport:
    """The window of ``plan`` from every source (:func:`helpers.pull.pull_window`)."""
    retries = o.check_retries(getattr(args, "retries", o.DEFAULT_RETRIES))
    backoff = max(0.0, getattr(args, "backoff", o.DEFAULT_BACKOFF_S))
    return pull_window(
        store,
        load_config(plan.config),
        Window.of(plan.start, plan.end, plan.exchanges, plan.symbols, plan.interval),
        now=pd.Timestamp.now(tz="UTC"),
        policy=RetryPolicy(
            attempts=retries + 1,
            base_delay=backoff,
            max_wait=max(0.0, getattr(args, "max_wait", o.DEFAULT_MAX_WAIT_S)),
        ),
    )
